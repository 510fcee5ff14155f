"""Django admin: registrations still work and selected enterprises export."""

import io

import openpyxl
from django.urls import reverse

from kiln.registry.exports import ENTERPRISE_HEADERS


def test_changelists_load(client, world):
    client.force_login(world.admin)
    for model in ("region", "industry", "enterprise", "organisation"):
        assert client.get(reverse(f"admin:registry_{model}_changelist")).status_code == 200


def test_export_action_exports_the_selection(client, world):
    client.force_login(world.admin)
    url = reverse("admin:registry_enterprise_changelist")
    response = client.post(url, {"action": "export_csv", "_selected_action": [world.e1.pk]})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == ENTERPRISE_HEADERS
    assert len(lines) == 2 and world.e1.credit_code in lines[1]

    response = client.post(url, {"action": "export_xlsx", "_selected_action": [world.e1.pk, world.e2.pk]})
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 3
