"""Pages: the card, the regional views and exports, scoped; outsiders get 404 on every route."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kiln.audit.models import AuditEvent
from kiln.efficiency.services import grade_year
from tests.efficiency.conftest import make_run


def card_url(enterprise):
    return reverse("efficiency:card", args=[enterprise.credit_code])


def qr_url(enterprise):
    return reverse("efficiency:card-qr", args=[enterprise.credit_code])


REGIONAL = [
    "efficiency:index",
    "efficiency:movers",
    "efficiency:diagnosis",
    "efficiency:export-csv",
    "efficiency:export-xlsx",
]


def test_enterprise_staff_see_their_card(client_for, graded):
    client = client_for(graded.e1_staff)
    response = client.get(card_url(graded.e1))
    assert response.status_code == 200
    text = response.text
    assert 'data-grade="2"' in text and 'data-level="medium"' in text
    assert 'data-mark="level"' in text and 'data-mark="grade"' in text and 'data-mark="neutral"' in text
    assert "<svg" in text and 'class="segno"' in text  # the QR code, drawn on the server
    assert "/efficiency/verify/" in text
    assert "L = 80.000 / 100.00 = 0.8000" in text  # why this grade
    assert "K = 0.8000 / 1.0000 = 0.8000" in text
    assert 'data-year="2024"' in text and 'data-year="2023"' in text  # history
    assert f"/accounting/runs/{graded.run_2024.calculation_id}/" in text  # link to the accounting run
    assert "Provisional" in text or "provisional" in text


def test_enterprise_index_redirects_to_its_card(client_for, graded):
    response = client_for(graded.e1_staff).get(reverse("efficiency:index"))
    assert response.status_code == 302 and response["Location"] == card_url(graded.e1)


def test_card_without_a_grade_says_why(client_for, graded):
    response = client_for(graded.gov_a).get(card_url(graded.e4))
    assert 'data-reason="EFF-NO-VALUE-ADDED"' in response.text
    assert 'class="segno"' not in response.text  # without an L a QR code would certify nothing


def test_card_of_an_ungraded_enterprise(client_for, world):
    response = client_for(world.e1_staff).get(card_url(world.e1))
    assert response.status_code == 200 and "该企业尚未评级" in response.text  # Chinese first


@pytest.mark.parametrize("who", ["e2_staff", "gov_b", "verifier_e1", "verifier_unassigned"])
def test_card_and_qr_are_404_for_outsiders(client_for, graded, who):
    client = client_for(getattr(graded, who))
    assert client.get(card_url(graded.e1)).status_code == 404
    assert client.get(qr_url(graded.e1)).status_code == 404


def test_qr_download(client_for, graded):
    response = client_for(graded.gov_a).get(qr_url(graded.e1))
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<?xml") and b"<svg" in response.content


def test_government_overview(client_for, graded):
    response = client_for(graded.gov_a).get(reverse("efficiency:index"), {"year": 2024})
    assert response.status_code == 200
    text = response.text
    assert f'data-key="{graded.county_a.code}"' in text and 'data-key="C30"' in text
    assert "EFF-NO-VALUE-ADDED" in text
    assert graded.e2.credit_code not in text


def test_movers_and_diagnosis(client_for, graded):
    client = client_for(graded.gov_a)
    movers = client.get(reverse("efficiency:movers"), {"year": 2024}).text
    # E1 1 → 2, E3 4 → 3
    assert f'data-credit-code="{graded.e1.credit_code}"' in movers and "+1" in movers
    assert f'data-credit-code="{graded.e3.credit_code}"' in movers
    diagnosis = client.get(reverse("efficiency:diagnosis"), {"year": 2023}).text
    assert f'data-credit-code="{graded.e3.credit_code}"' in diagnosis  # grade 4 in 2023
    assert f'data-credit-code="{graded.e1.credit_code}"' not in diagnosis


def test_export_is_neutralised_scoped_and_audited(client_for, graded):
    client = client_for(graded.gov_a)
    response = client.get(reverse("efficiency:export-csv"), {"year": 2024})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("统一社会信用代码,企业名称")
    assert len(lines) == 4  # E1, E3, E4
    assert "EFF-NO-VALUE-ADDED" in text
    assert AuditEvent.objects.filter(event_type=402, target_type="efficiency_export").exists()
    diagnosis = client.get(reverse("efficiency:export-xlsx"), {"year": 2023, "list": "diagnosis"})
    assert diagnosis.status_code == 200 and diagnosis.content[:2] == b"PK"
    movers = client.get(reverse("efficiency:export-csv"), {"year": 2024, "list": "movers"})
    assert "上年碳效等级" in movers.content.decode("utf-8-sig")


def test_export_neutralises_a_formula_name(client_for, graded):
    graded.e4.name = "=cmd|' /C calc'!A0"
    graded.e4.save()
    text = (
        client_for(graded.admin)
        .get(reverse("efficiency:export-csv"), {"year": 2024})
        .content.decode("utf-8-sig")
    )
    assert "'=cmd|" in text


@pytest.mark.parametrize("name", REGIONAL)
@pytest.mark.parametrize("who", ["e1_staff", "verifier_e1", "verifier_unassigned"])
def test_regional_views_are_404_for_outsiders(client_for, graded, name, who):
    client = client_for(getattr(graded, who))
    response = client.get(reverse(name), {"year": 2024})
    if name == "efficiency:index" and who == "e1_staff":
        assert response.status_code == 302  # to their own card
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("name", REGIONAL)
def test_region_filter_outside_the_scope_is_404(client_for, graded, name):
    client = client_for(graded.gov_a)
    assert client.get(reverse(name), {"year": 2024, "region": graded.city_b.code}).status_code == 404
    assert client.get(reverse(name), {"year": 2024, "region": graded.county_a.code}).status_code == 200


def test_region_b_sees_nothing_of_region_a(client_for, graded):
    text = (
        client_for(graded.gov_b)
        .get(reverse("efficiency:export-csv"), {"year": 2024})
        .content.decode("utf-8-sig")
    )
    assert graded.e1.credit_code not in text and len(text.splitlines()) == 1


def test_grading_from_the_page(client_for, world):
    make_run(world.city_a, 2024, {world.e1.credit_code: {"co2_combustion_t": 10.0}})
    response = client_for(world.gov_a).post(reverse("efficiency:grade"), {"year": 2024})
    assert response.status_code == 302
    from kiln.efficiency.models import EfficiencyRun

    assert EfficiencyRun.objects.filter(year=2024, current=True).count() == 1


def test_grading_beyond_ones_region_is_refused(client_for, world):
    make_run(world.province, 2024, {world.e1.credit_code: {"co2_combustion_t": 10.0}})
    client_for(world.gov_a).post(reverse("efficiency:grade"), {"year": 2024})
    from kiln.efficiency.models import EfficiencyRun

    assert not EfficiencyRun.objects.exists()
    grade_year(actor=None, year=2024)  # the platform may


@pytest.mark.parametrize("who", ["e1_staff", "verifier_e1"])
def test_grading_is_404_for_those_who_may_not(client_for, world, who):
    assert (
        client_for(getattr(world, who)).post(reverse("efficiency:grade"), {"year": 2024}).status_code == 404
    )


def test_pages_need_login(client, graded):
    for name in REGIONAL:
        assert client.get(reverse(name)).status_code == 302
    assert client.get(card_url(graded.e1)).status_code == 302
