"""``kiln ledger head|sign|proof|consistency`` (``verify`` is exercised in test_tampering)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from kiln.ledger import merkle


def run(*args) -> str:
    out = io.StringIO()
    call_command("ledger", *args, stdout=out)
    return out.getvalue()


def test_head_before_and_after_signing(ledger):
    with pytest.raises(CommandError):
        run("head")
    ledger.append_many(("audit_event", f"e{i}", {}) for i in range(5))
    signed = json.loads(run("sign"))
    assert signed["tree_size"] == 5
    assert json.loads(run("head")) == signed


def test_proof_signs_when_needed_and_writes_a_bundle(ledger, tmp_path):
    ledger.append_many(("audit_event", f"e{i}", {}) for i in range(5))
    with pytest.raises(CommandError, match="KLN-LEDGER-102"):
        run("proof", "2", "--no-sign")
    out = tmp_path / "bundle.json"
    run("proof", "2", "--out", str(out))
    bundle = json.loads(out.read_text())
    assert bundle["inclusion"]["leaf_index"] == 2 and bundle["tree_head"]["tree_size"] == 5
    ledger.append_many(("audit_event", f"e{i}", {}) for i in range(5, 9))
    ledger.sign_tree_head()
    with_consistency = json.loads(run("proof", "2", "--since", "5"))
    assert with_consistency["consistency"]["old_tree_head"]["tree_size"] == 5
    with pytest.raises(CommandError):
        run("proof", "2", "--since", "6")
    with pytest.raises(CommandError, match="KLN-LEDGER-101"):
        run("proof", "99")


def test_consistency_prints_a_verifiable_proof(ledger):
    ledger.append_many(("audit_event", f"e{i}", {}) for i in range(11))
    result = json.loads(run("consistency", "4", "11"))
    path = [bytes.fromhex(h) for h in result["path"]]
    assert merkle.verify_consistency(
        4, 11, bytes.fromhex(result["old_root"]), bytes.fromhex(result["new_root"]), path
    )
    with pytest.raises(CommandError, match="KLN-LEDGER-103"):
        run("consistency", "4", "12")


def test_the_kiln_script_spells_the_command_with_its_name(ledger):
    from kiln.cli import main

    with pytest.raises(SystemExit) as done:
        main(["kiln", "ledger", "--help"])
    assert done.value.code == 0
