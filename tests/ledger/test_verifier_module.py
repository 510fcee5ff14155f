"""The standalone verifier: self-contained, and in agreement with kiln.ledger.merkle."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from kiln.ledger import merkle
from tests.ledger.test_merkle import hashes

VERIFIER = Path(__file__).resolve().parents[2] / "kiln" / "ledger" / "verifier.py"


def load_verifier():
    spec = importlib.util.spec_from_file_location("standalone_verifier", VERIFIER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_verifier_imports_neither_django_nor_kiln():
    tree = ast.parse(VERIFIER.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {
        "__future__",
        "argparse",
        "gettext",
        "hashlib",
        "json",
        "struct",
        "sys",
        "cryptography",
    }


def test_the_verifier_agrees_with_the_library_on_every_small_proof():
    verifier = load_verifier()
    leaves = hashes(40, b"v")
    tree = merkle.MemoryTree.from_hashes(leaves)
    for n in range(1, 41):
        root = tree.root(n)
        for m in range(n):
            proof = merkle.inclusion_proof(m, n, tree)
            assert verifier.root_from_inclusion_proof(leaves[m], m, n, proof) == root
            assert (
                verifier.root_from_inclusion_proof(leaves[m], m, n, proof[:-1] if proof else [root]) != root
            )
        for old in range(n + 1):
            proof = merkle.consistency_proof(old, n, tree)
            assert verifier.verify_consistency(old, n, tree.root(old), root, proof)
            if proof:
                assert not verifier.verify_consistency(old, n, tree.root(old), root, proof[1:])


def test_the_verifier_signs_off_the_same_message_as_the_platform():
    from kiln.ledger import signing

    verifier = load_verifier()
    root = bytes(range(32))
    assert verifier.tree_head_message(7, 1_700_000_000_000, root) == signing.tree_head_message(
        7, 1_700_000_000_000, root
    )
    assert verifier.leaf_hash(b"x") == merkle.leaf_hash(b"x")
