"""Load the starter rule set (kiln/screening/data/starter_rules.json) as version 1 of each rule."""

import json
from pathlib import Path

from django.db import migrations

STARTER = Path(__file__).resolve().parent.parent / "data" / "starter_rules.json"
FIELDS = ("severity", "sector", "item", "parameter", "low", "high", "params", "message_zh", "message_en",
          "route_to", "deadline_days", "enabled", "note")


def load(apps, schema_editor):
    RuleVersion = apps.get_model("screening", "RuleVersion")
    existing = set(RuleVersion.objects.values_list("rule_id", flat=True))
    records = json.loads(STARTER.read_text(encoding="utf-8"))
    RuleVersion.objects.bulk_create([
        RuleVersion(rule_id=r["rule_id"], version=1, engine_check=r["check"], **{f: r[f] for f in FIELDS})
        for r in records if r["rule_id"] not in existing
    ])


def unload(apps, schema_editor):
    RuleVersion = apps.get_model("screening", "RuleVersion")
    RuleVersion.objects.filter(version=1, used=False, created_by__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
