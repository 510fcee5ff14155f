"""Enable KLN-XSRC-003 (the months of a year vs the submitted annual report, ``annual_sum``).

A new database gets it enabled from ``data/starter_rules.json`` (0002). An existing one has the shipped,
disabled version 1: it is brought up to the shipped text in place when nobody has touched the rule (a
disabled rule was never used by a run, and no expert made a later version); otherwise it is left alone.
"""

import json
from pathlib import Path

from django.db import migrations

STARTER = Path(__file__).resolve().parent.parent / "data" / "starter_rules.json"
RULE_ID = "KLN-XSRC-003"
FIELDS = ("params", "message_zh", "message_en", "enabled", "note")


def enable(apps, schema_editor):
    RuleVersion = apps.get_model("screening", "RuleVersion")
    versions = list(RuleVersion.objects.filter(rule_id=RULE_ID).order_by("version"))
    if len(versions) != 1:
        return
    rule = versions[0]
    if rule.used or rule.created_by_id is not None or rule.enabled:
        return
    shipped = next(r for r in json.loads(STARTER.read_text(encoding="utf-8")) if r["rule_id"] == RULE_ID)
    RuleVersion.objects.filter(pk=rule.pk).update(**{f: shipped[f] for f in FIELDS})


def disable(apps, schema_editor):
    RuleVersion = apps.get_model("screening", "RuleVersion")
    RuleVersion.objects.filter(rule_id=RULE_ID, version=1, used=False, created_by__isnull=True).update(
        enabled=False
    )


class Migration(migrations.Migration):
    dependencies = [("screening", "0002_starter_rules")]
    operations = [migrations.RunPython(enable, disable)]
