"""Appending, signing, proofs and bundles through kiln.ledger.services."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import os
import stat
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.ledger import canonical, checks, merkle, services, signing, triggers
from kiln.ledger.errors import IncompleteLog, InvalidEntry, InvalidTreeSize, NotYetSigned, UnknownEntry
from kiln.ledger.models import LedgerEntry, LedgerNode, SignedTreeHead
from tests.ledger.conftest import SIGNING_SEED

VERIFIER = Path(services.__file__).with_name("verifier.py")


def batch(count: int, start: int = 0):
    return [
        ("activity_batch", f"E1/2025-{i % 12 + 1:02d}/{i}", {"rows": i, "sha256": f"{i:064x}"})
        for i in range(start, start + count)
    ]


def stored_tree() -> merkle.MemoryTree:
    return merkle.MemoryTree.from_hashes(
        bytes(h) for h in LedgerEntry.objects.order_by("index").values_list("leaf_hash", flat=True)
    )


def run_verifier(bundle: dict, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(VERIFIER), str(path), *args], capture_output=True, text=True, timeout=60
    )


# --- appending ----------------------------------------------------------------------------------


def test_append_writes_a_canonical_self_describing_leaf(ledger):
    entry = ledger.append(
        "audit_event", "user/7/login", {"名": "张三", "ok": True, "amount": Decimal("1.50")}
    )
    assert entry.index == 0
    envelope = json.loads(entry.payload)
    assert (
        envelope["index"] == 0
        and envelope["kind"] == "audit_event"
        and envelope["reference"] == "user/7/login"
    )
    assert envelope["data"] == {"amount": "1.50", "ok": True, "名": "张三"}
    assert entry.payload == canonical.canonical_json(envelope)
    assert '"名":"张三"' in entry.payload and " " not in entry.payload.replace("T", "")
    assert bytes(entry.leaf_hash) == hashlib.sha256(b"\x00" + entry.payload.encode("utf-8")).digest()
    assert entry.data["ok"] is True


def test_append_names_the_actor(ledger, django_user_model):
    user = django_user_model.objects.create_user(username="ledger-actor", password="x-Very-long-1")
    assert ledger.append("audit_event", "r", {}, actor=user).envelope["actor"] == str(user.pk)
    assert ledger.append("audit_event", "r", {}, actor="system").envelope["actor"] == "system"
    assert ledger.append("audit_event", "r", {}).envelope["actor"] is None


def test_bulk_appends_are_contiguous_across_chunks(ledger, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_SIZE", 7)
    first = ledger.append_many(batch(300))
    second = ledger.append_many(batch(250, start=300))
    assert (first, second) == (range(0, 300), range(300, 550))
    assert list(LedgerEntry.objects.values_list("index", flat=True)) == list(range(550))
    tree = stored_tree()
    assert ledger.root_at(550) == tree.root()
    assert ledger.current_size() == 550
    # The proof cache holds exactly the two complete level-8 nodes.
    assert {(n.level, n.index): bytes(n.hash) for n in LedgerNode.objects.all()} == {
        (8, 0): tree.node(8, 0),
        (8, 1): tree.node(8, 1),
    }


def test_an_empty_batch_changes_nothing(ledger):
    assert ledger.append_many([]) == range(0, 0)
    assert ledger.current_size() == 0


@pytest.mark.parametrize(
    ("kind", "reference", "payload"),
    [
        ("no_such_kind", "r", {}),
        ("audit_event", "", {}),
        ("audit_event", "x" * 201, {}),
        ("audit_event", 42, {}),
        ("audit_event", "r", ["not", "an", "object"]),
        ("audit_event", "r", {"value": math.nan}),
        ("audit_event", "r", {"value": object()}),
    ],
)
def test_malformed_entries_are_refused_whole(ledger, kind, reference, payload):
    with pytest.raises(InvalidEntry):
        ledger.append_many([*batch(3), (kind, reference, payload)])
    assert ledger.current_size() == 0 and not LedgerEntry.objects.exists()


def test_self_containing_payload_is_refused(ledger):
    payload: dict = {}
    payload["self"] = payload
    with pytest.raises(InvalidEntry):
        ledger.append("audit_event", "r", payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(
    data=st.dictionaries(st.text(max_size=10), json_values, max_size=6),
    reference=st.text(min_size=1, max_size=40),
    index=st.integers(0, 2**53),
)
def test_the_fast_envelope_is_exactly_the_canonical_one(data, reference, index):
    created = "2026-01-01T00:00:00+00:00"
    fast = canonical.envelope_text(
        index, canonical.json_string("audit_event"), reference, canonical.json_string(created), "null", data
    )
    assert fast == canonical.canonical_json(
        canonical.envelope(index, "audit_event", reference, created, None, data)
    )


# --- signing ------------------------------------------------------------------------------------


def test_signed_tree_heads_verify_and_never_go_back_in_time(ledger, time_machine):
    ledger.append_many(batch(5))
    time_machine.move_to("2026-03-01 12:00:00+00:00", tick=False)
    first = ledger.sign_tree_head()
    time_machine.move_to("2026-02-01 12:00:00+00:00", tick=False)  # the clock steps back
    ledger.append_many(batch(5, start=5))
    second = ledger.sign_tree_head()
    assert (first.tree_size, second.tree_size) == (5, 10)
    assert second.timestamp == first.timestamp
    for head in (first, second):
        message = signing.tree_head_message(head.tree_size, head.timestamp, bytes(head.root_hash))
        assert signing.verify(bytes(head.public_key), bytes(head.signature), message)
        assert head.key_id == hashlib.sha256(bytes(head.public_key)).hexdigest()
    assert bytes(second.root_hash) == stored_tree().root()


def test_a_tree_head_is_signed_only_when_the_log_grew(ledger):
    assert ledger.sign_tree_head_if_grown() is None
    ledger.append_many(batch(3))
    assert ledger.sign_tree_head_if_grown().tree_size == 3
    assert ledger.sign_tree_head_if_grown() is None


def test_the_periodic_task_signs_when_grown(ledger):
    from kiln.ledger.tasks import sign_tree_head_when_grown

    ledger.append_many(batch(2))
    assert sign_tree_head_when_grown.call_local() == 2
    assert sign_tree_head_when_grown.call_local() is None


def test_the_seed_may_be_hex_or_base64():
    seed = bytes(range(32))
    assert signing.parse_seed(seed.hex()) == seed
    assert signing.parse_seed(base64.b64encode(seed).decode()) == seed
    assert signing.parse_seed(base64.urlsafe_b64encode(seed).decode()) == seed
    for bad in ("", "zz" * 32, "abc", base64.b64encode(bytes(31)).decode()):
        with pytest.raises(ImproperlyConfigured):
            signing.parse_seed(bad)


def test_development_key_is_generated_once_and_kept_private(settings, tmp_path):
    settings.KILN_LEDGER_SIGNING_KEY = ""
    settings.PRODUCTION = False
    settings.VAR_DIR = tmp_path
    first = signing.public_key_bytes(signing.signing_key())
    key_file = tmp_path / signing.DEVELOPMENT_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert signing.public_key_bytes(signing.signing_key()) == first


def test_production_refuses_to_sign_without_a_key(settings, tmp_path):
    settings.KILN_LEDGER_SIGNING_KEY = ""
    settings.PRODUCTION = True
    settings.VAR_DIR = tmp_path
    with pytest.raises(ImproperlyConfigured):
        signing.signing_key()
    assert not (tmp_path / signing.DEVELOPMENT_KEY_FILE).exists()
    assert [e.id for e in checks.signing_key_configured()] == ["kiln_ledger.E001"]
    settings.KILN_LEDGER_SIGNING_KEY = "not a key"
    assert [e.id for e in checks.signing_key_configured()] == ["kiln_ledger.E002"]
    settings.KILN_LEDGER_SIGNING_KEY = SIGNING_SEED
    assert checks.signing_key_configured() == []


# --- proofs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 600])
def test_stored_proofs_verify_against_the_recomputed_tree(ledger, size):
    ledger.append_many(batch(size))
    tree = stored_tree()
    for index in {0, 1 % size, size // 2, size - 1}:
        for tree_size in {index + 1, size}:
            proof = ledger.inclusion_proof(index, tree_size)
            assert merkle.verify_inclusion(tree.node(0, index), index, tree_size, proof, tree.root(tree_size))
    for old in {0, 1, size // 3, size - 1, size}:
        proof = ledger.consistency_proof(old, size)
        assert merkle.verify_consistency(old, size, ledger.root_at(old), ledger.root_at(size), proof)


def test_proof_requests_outside_the_log_are_refused(ledger):
    ledger.append_many(batch(4))
    with pytest.raises(UnknownEntry):
        ledger.inclusion_proof(4)
    with pytest.raises(InvalidTreeSize):
        ledger.inclusion_proof(0, 5)
    with pytest.raises(InvalidTreeSize):
        ledger.consistency_proof(3, 2)
    with pytest.raises(NotYetSigned):
        ledger.proof_bundle(0)
    with pytest.raises(UnknownEntry):
        ledger.proof_bundle(9)


def test_a_proof_over_missing_rows_says_so(ledger):
    ledger.append_many(batch(10))
    with triggers.suspended(connection), connection.cursor() as cursor:
        cursor.execute('DELETE FROM ledger_ledgerentry WHERE "index" = 4')
    with pytest.raises(IncompleteLog):
        ledger.inclusion_proof(5)


# --- bundles and the standalone verifier ----------------------------------------------------------


def test_a_bundle_verifies_offline(ledger, tmp_path):
    ledger.append_many(batch(300))
    older = ledger.sign_tree_head()
    ledger.append_many(batch(40, start=300))
    ledger.sign_tree_head()
    bundle = ledger.proof_bundle(123, since=older)
    public_key = bundle["tree_head"]["public_key"]

    result = run_verifier(bundle, tmp_path, "--public-key", public_key)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VALID" in result.stdout and "FAIL" not in result.stdout

    assert run_verifier(bundle, tmp_path, "--public-key", "00" * 32).returncode == 1
    as_json = json.loads(run_verifier(bundle, tmp_path, "--json").stdout)
    assert as_json["valid"] is True and len(as_json["checks"]) >= 8


@pytest.mark.parametrize(
    "tamper",
    [
        "payload",
        "leaf_hash_only",
        "path",
        "root",
        "signature",
        "tree_size",
        "other_index",
        "consistency_path",
        "old_root",
    ],
)
def test_a_tampered_bundle_fails_offline(ledger, tmp_path, tamper):
    ledger.append_many(batch(40))
    older = ledger.sign_tree_head()
    ledger.append_many(batch(9, start=40))
    ledger.sign_tree_head()
    bundle = ledger.proof_bundle(21, since=older)

    def flip(hex_value: str) -> str:
        return ("1" if hex_value[0] == "0" else "0") + hex_value[1:]

    if tamper == "payload":
        bundle["entry"]["payload"] = bundle["entry"]["payload"].replace('"rows":21', '"rows":22')
    elif tamper == "leaf_hash_only":
        del bundle["entry"]["payload"]
        bundle["entry"]["leaf_hash"] = flip(bundle["entry"]["leaf_hash"])
    elif tamper == "path":
        bundle["inclusion"]["path"][2] = flip(bundle["inclusion"]["path"][2])
    elif tamper == "root":
        bundle["tree_head"]["root_hash"] = flip(bundle["tree_head"]["root_hash"])
    elif tamper == "signature":
        bundle["tree_head"]["signature"] = flip(bundle["tree_head"]["signature"])
    elif tamper == "tree_size":
        bundle["inclusion"]["tree_size"] += 1
    elif tamper == "other_index":
        bundle["inclusion"]["leaf_index"] = 20
    elif tamper == "consistency_path":
        bundle["consistency"]["path"][0] = flip(bundle["consistency"]["path"][0])
    elif tamper == "old_root":
        bundle["consistency"]["old_tree_head"]["root_hash"] = flip(
            bundle["consistency"]["old_tree_head"]["root_hash"]
        )
    result = run_verifier(bundle, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "INVALID" in result.stdout


def test_a_malformed_bundle_is_exit_status_2(tmp_path):
    for content in (
        "not json",
        json.dumps({"format": "something else"}),
        json.dumps({"format": "kiln-ledger-proof/1"}),
    ):
        path = tmp_path / "bad.json"
        path.write_text(content)
        result = subprocess.run(
            [sys.executable, str(VERIFIER), str(path)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 2, content
        assert "error" in result.stderr


def test_a_bundle_never_needs_kiln_to_verify(ledger, tmp_path):
    """Run the verifier from a directory with nothing else in it, without the repository on sys.path."""
    ledger.append_many(batch(3))
    ledger.sign_tree_head()
    lonely = tmp_path / "elsewhere"
    lonely.mkdir()
    (lonely / "verifier.py").write_bytes(VERIFIER.read_bytes())
    (lonely / "bundle.json").write_text(json.dumps(ledger.proof_bundle(2)))
    env = {
        key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "DJANGO_SETTINGS_MODULE"}
    }
    result = subprocess.run(
        [sys.executable, "-I", "verifier.py", "bundle.json"],
        cwd=lonely,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- evidence files -------------------------------------------------------------------------------


def test_store_file_is_content_addressed_and_idempotent(ledger_settings):
    content = b"%PDF-1.7 monthly coal invoice"
    digest = hashlib.sha256(content).hexdigest()
    first = services.store_file(io.BytesIO(content))
    second = services.store_file(io.BytesIO(content))
    assert first == second == (digest, f"evidence/{digest[:2]}/{digest[2:4]}/{digest}")
    stored = Path(ledger_settings.MEDIA_ROOT) / first[1]
    assert stored.read_bytes() == content
    assert not any((Path(ledger_settings.MEDIA_ROOT) / "evidence" / "incoming").iterdir())


def test_deposit_evidence_logs_the_file(ledger):
    entry = ledger.deposit_evidence(
        io.BytesIO(b"meter photo"), reference="E1/2025-01/meter", data={"period": "2025-01"}
    )
    digest = hashlib.sha256(b"meter photo").hexdigest()
    assert entry.kind == LedgerEntry.Kind.EVIDENCE_DEPOSIT
    assert entry.data == {
        "period": "2025-01",
        "sha256": digest,
        "path": services.store_file(io.BytesIO(b"meter photo"))[1],
        "size": 11,
    }


# --- the append-only guard ------------------------------------------------------------------------


def test_the_orm_cannot_update_or_delete_ledger_rows(ledger):
    ledger.append_many(batch(3))
    ledger.sign_tree_head()
    attempts = [
        lambda: LedgerEntry.objects.filter(index=1).update(reference="rewritten"),
        lambda: LedgerEntry.objects.filter(index=1).delete(),
        lambda: LedgerEntry.objects.get(index=2).save(),
        lambda: SignedTreeHead.objects.update(tree_size=1),
        lambda: SignedTreeHead.objects.all().delete(),
    ]
    for attempt in attempts:
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            attempt()
    assert LedgerEntry.objects.get(index=1).reference.startswith("E1/")


def test_the_guard_can_be_suspended_on_purpose_and_comes_back(ledger):
    ledger.append_many(batch(2))
    with triggers.suspended(connection):
        LedgerEntry.objects.filter(index=1).update(reference="changed")
    assert LedgerEntry.objects.get(index=1).reference == "changed"
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(index=1).update(reference="again")


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_can_still_flush_the_ledger(ledger_settings):
    """pytest-django empties the database with ``flush`` after this test; it must not trip the guard."""
    services.append_many(batch(2))
    services.sign_tree_head()


def test_storing_the_same_bytes_again_restores_an_altered_copy(ledger_settings):
    sha256, relative = services.store_file(io.BytesIO(b"original"))
    path = Path(ledger_settings.MEDIA_ROOT) / relative
    path.chmod(0o640)
    path.write_bytes(b"forged")
    assert services.store_file(io.BytesIO(b"original")) == (sha256, relative)
    assert path.read_bytes() == b"original"
