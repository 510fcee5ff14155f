"""Every registry import writes its audit event in the import's transaction; rejected files write none."""

from kiln.accounts.models import Membership
from kiln.audit.models import AuditEvent
from kiln.registry.services import import_registry_file
from tests.registry.files import EN_HEADERS, csv_bytes, enterprise_row


def test_an_import_is_audited_with_who_and_what(world):
    membership = Membership.objects.get(user=world.admin)
    result = import_registry_file(
        actor=membership,
        kind="enterprises",
        data=csv_bytes([EN_HEADERS, enterprise_row("MA0000301", "审计企业")]),
    )
    assert result.ok
    event = AuditEvent.objects.get(event_type=304)
    assert event.actor == world.admin and event.organisation_id == membership.organisation_id
    assert (event.target_type, event.target_id) == ("registry_import", "enterprises")
    assert event.after == {
        "kind": "enterprises",
        "rows": 1,
        "source_format": "csv (UTF-8)",
        "created": 1,
        "updated": 0,
        "unchanged": 0,
    }


def test_a_rejected_import_is_not_audited(world):
    bad = csv_bytes([EN_HEADERS, enterprise_row("MA0000302", "x", region_code="999999")])
    assert not import_registry_file(actor=None, kind="enterprises", data=bad).ok
    assert not AuditEvent.objects.filter(event_type=304).exists()
