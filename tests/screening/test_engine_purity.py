"""The screening engine stays pure and whole-array (DESIGN.md rule 1)."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "kiln" / "engine"
MODULES = sorted(ENGINE.glob("screening*.py"))
FORBIDDEN_CALLS = {"map_elements", "apply", "iter_rows", "iterrows", "itertuples", "map_rows"}


def test_no_django_and_no_per_row_python():
    assert len(MODULES) >= 5
    for path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n.startswith(("django", "kiln.screening", "kiln.grid")) for n in names), (
                    path,
                    names,
                )
            if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_CALLS:
                raise AssertionError(f"{path.name}:{node.lineno} uses .{node.attr}")
