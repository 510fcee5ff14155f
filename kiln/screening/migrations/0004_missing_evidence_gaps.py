"""KLN-COMP-002 (``missing_evidence``) reports one finding per gap of consecutive months, graded by its length.

A new database gets the shipped text from ``data/starter_rules.json`` (0002). An existing one still has
the shipped version 1 (one blocking error per month, a ``{period}`` message): when nobody made a later
version, it is brought up to the shipped parameters, messages and note: in place while no run has used
it, otherwise as version 2 (a used version never changes). A rule an expert edited is left alone.
"""

import json
from pathlib import Path

from django.db import migrations

STARTER = Path(__file__).resolve().parent.parent / "data" / "starter_rules.json"
RULE_ID = "KLN-COMP-002"
FIELDS = ("params", "message_zh", "message_en", "note")
COPIED = ("engine_check", "severity", "sector", "item", "parameter", "low", "high", "route_to", "deadline_days",
          "enabled")


def forward(apps, schema_editor):
    RuleVersion = apps.get_model("screening", "RuleVersion")
    versions = list(RuleVersion.objects.filter(rule_id=RULE_ID).order_by("version"))
    if len(versions) != 1 or versions[0].created_by_id is not None:
        return
    rule = versions[0]
    shipped = next(r for r in json.loads(STARTER.read_text(encoding="utf-8")) if r["rule_id"] == RULE_ID)
    changes = {f: shipped[f] for f in FIELDS}
    if all(getattr(rule, f) == v for f, v in changes.items()):
        return
    if not rule.used:
        RuleVersion.objects.filter(pk=rule.pk).update(**changes)
        return
    RuleVersion.objects.create(
        rule_id=RULE_ID, version=2, **{f: getattr(rule, f) for f in COPIED}, **changes
    )


def backward(apps, schema_editor):
    RuleVersion = apps.get_model("screening", "RuleVersion")
    RuleVersion.objects.filter(rule_id=RULE_ID, version=2, used=False, created_by__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("screening", "0003_enable_annual_sum")]
    operations = [migrations.RunPython(forward, backward)]
