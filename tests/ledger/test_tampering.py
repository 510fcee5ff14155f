"""``kiln ledger verify`` finds each kind of tampering someone with disk access could do.

Every tamper goes around the append-only triggers the documented way
(``kiln.ledger.triggers.suspended``) and writes raw SQL, as such a person would.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import connection

from kiln.ledger import errors, signing, triggers
from kiln.ledger.models import LedgerEntry

EVIDENCE = b"2025-06 coal purchase invoice, 1200 t"


@pytest.fixture
def log(ledger):
    """520 entries (two complete 256-blocks), an evidence deposit at 3, two signed heads."""
    ledger.append_many(("activity_batch", f"E1/{i}", {"rows": i}) for i in range(3))
    deposit = ledger.deposit_evidence(io.BytesIO(EVIDENCE), reference="E1/2025-06/invoice")
    ledger.append_many(("activity_batch", f"E1/{i}", {"rows": i}) for i in range(4, 300))
    ledger.sign_tree_head()
    ledger.append_many(("audit_event", f"event/{i}", {"n": i}) for i in range(300, 520))
    ledger.sign_tree_head()
    assert deposit.index == 3
    return ledger


def verify() -> dict:
    out = io.StringIO()
    try:
        call_command("ledger", "verify", "--json", stdout=out)
    except CommandError as exc:
        assert exc.returncode == 1
    report = json.loads(out.getvalue())
    return report


def codes(report: dict) -> set[str]:
    return set(report["counts"])


def flagged(report: dict, code: str) -> set[int]:
    return {p["index"] for p in report["problems"] if p["code"] == code}


def raw(sql: str, params=()) -> None:
    with triggers.suspended(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


def payload_of(index: int) -> str:
    return LedgerEntry.objects.get(index=index).payload


def test_an_untouched_log_verifies(log):
    report = verify()
    assert report["ok"] is True, report["problems"]
    assert report["entries"] == 520 and report["tree_heads_checked"] == 2
    assert report["evidence_files_checked"] == 1 and report["unsigned_entries"] == 0
    out = io.StringIO()
    call_command("ledger", "verify", stdout=out)
    assert "520" in out.getvalue()


def test_an_edited_payload_is_found(log):
    edited = payload_of(42).replace('"rows":42', '"rows":4200')
    raw('UPDATE ledger_ledgerentry SET payload = %s WHERE "index" = 42', [edited])
    report = verify()
    assert flagged(report, errors.ALTERED_ENTRY) == {42}
    assert errors.TREE_HEAD_MISMATCH in codes(report)


def test_an_edit_that_also_rewrites_the_leaf_hash_is_found_and_narrowed(log):
    edited = payload_of(42).replace('"rows":42', '"rows":4200')
    leaf = hashlib.sha256(b"\x00" + edited.encode()).digest()
    raw('UPDATE ledger_ledgerentry SET payload = %s, leaf_hash = %s WHERE "index" = 42', [edited, leaf])
    report = verify()
    assert errors.ALTERED_ENTRY not in codes(report)
    assert errors.TREE_HEAD_MISMATCH in codes(report)
    cache = [p for p in report["problems"] if p["code"] == errors.NODE_CACHE_MISMATCH]
    assert [(p["entries_from"], p["entries_to"]) for p in cache] == [(0, 255)]


def test_an_altered_evidence_file_is_found(log, ledger_settings):
    path = Path(ledger_settings.MEDIA_ROOT) / LedgerEntry.objects.get(index=3).data["path"]
    os.chmod(path, 0o640)  # stored files are read-only; someone with disk access changes that first
    path.write_bytes(EVIDENCE.replace(b"1200", b"120"))
    report = verify()
    assert codes(report) == {errors.EVIDENCE_FILE_ALTERED}
    assert flagged(report, errors.EVIDENCE_FILE_ALTERED) == {3}


def test_a_removed_evidence_file_is_found(log, ledger_settings):
    (Path(ledger_settings.MEDIA_ROOT) / LedgerEntry.objects.get(index=3).data["path"]).unlink()
    assert codes(verify()) == {errors.EVIDENCE_FILE_MISSING}


def test_swapped_rows_are_found(log):
    """Swap two rows' payloads and leaf hashes: each hash still matches its payload, but not its place."""
    a, b = LedgerEntry.objects.get(index=10), LedgerEntry.objects.get(index=11)
    raw(
        'UPDATE ledger_ledgerentry SET payload = %s, leaf_hash = %s WHERE "index" = 10',
        [b.payload, bytes(b.leaf_hash)],
    )
    raw(
        'UPDATE ledger_ledgerentry SET payload = %s, leaf_hash = %s WHERE "index" = 11',
        [a.payload, bytes(a.leaf_hash)],
    )
    report = verify()
    assert flagged(report, errors.MISPLACED_ENTRY) == {10, 11}
    assert errors.ALTERED_ENTRY not in codes(report)
    assert errors.TREE_HEAD_MISMATCH in codes(report)


def test_renumbered_rows_are_found(log):
    raw('UPDATE ledger_ledgerentry SET "index" = -1 WHERE "index" = 20')
    raw('UPDATE ledger_ledgerentry SET "index" = 20 WHERE "index" = 21')
    raw('UPDATE ledger_ledgerentry SET "index" = 21 WHERE "index" = -1')
    report = verify()
    assert flagged(report, errors.MISPLACED_ENTRY) == {20, 21}
    assert errors.TREE_HEAD_MISMATCH in codes(report)


def test_a_deleted_entry_is_found(log):
    raw('DELETE FROM ledger_ledgerentry WHERE "index" = 100')
    report = verify()
    assert flagged(report, errors.MISSING_ENTRY) == {100}
    assert {errors.TREE_HEAD_MISMATCH, errors.HEAD_MISMATCH} <= codes(report)


def test_a_cut_off_tail_is_found(log):
    raw('DELETE FROM ledger_ledgerentry WHERE "index" >= 510')
    report = verify()
    assert errors.TRUNCATED_LOG in codes(report)
    assert flagged(report, errors.MISSING_ENTRY) == {510}


def test_an_altered_signed_tree_head_is_found(log):
    raw("UPDATE ledger_signedtreehead SET tree_size = 299 WHERE tree_size = 300")
    report = verify()
    assert {errors.BAD_SIGNATURE, errors.TREE_HEAD_MISMATCH} <= codes(report)


def test_a_tree_head_re_signed_with_another_key_is_found(log):
    """Rewriting history and re-signing it needs the platform's key; any other key is spotted."""
    forger = Ed25519PrivateKey.generate()
    public = signing.public_key_bytes(forger)
    head = log.latest_tree_head()
    root = bytes(head.root_hash)
    signature = forger.sign(signing.tree_head_message(head.tree_size, head.timestamp, root))
    raw(
        "UPDATE ledger_signedtreehead SET signature = %s, public_key = %s, key_id = %s WHERE id = %s",
        [signature, public, signing.key_id(public), head.pk],
    )
    assert codes(verify()) == {errors.UNKNOWN_KEY}


def test_verify_exits_non_zero_with_a_readable_report(log):
    raw('DELETE FROM ledger_ledgerentry WHERE "index" = 7')
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("ledger", "verify", stdout=out)
    assert failure.value.returncode == 1
    assert errors.MISSING_ENTRY in out.getvalue()
