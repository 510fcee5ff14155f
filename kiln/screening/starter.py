"""The starter rule set shipped with Kiln (``data/starter_rules.json``). Pure: no Django imports.

Every bound in it is a starting value chosen for Kiln, not an MEE threshold (domain.md §7.2:
the thresholds were not found); technical experts replace them through the rule pages, which
make new versions rather than editing the shipped ones.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from kiln.engine.screening import Rule, rules_from_records

STARTER_FILE = Path(__file__).resolve().parent / "data" / "starter_rules.json"


@cache
def starter_records() -> tuple[dict, ...]:
    return tuple(json.loads(STARTER_FILE.read_text(encoding="utf-8")))


def starter_rules(*, enabled_only: bool = True) -> list[Rule]:
    """The starter set as engine rules (version 1)."""
    return rules_from_records(r for r in starter_records() if r["enabled"] or not enabled_only)
