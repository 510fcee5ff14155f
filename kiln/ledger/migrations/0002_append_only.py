"""Append-only guard on the ledger tables (per-vendor triggers) and the single head row."""

from django.db import migrations


def install_triggers(apps, schema_editor):
    from kiln.ledger import triggers

    for sql in triggers.install_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


def remove_triggers(apps, schema_editor):
    from kiln.ledger import triggers

    for sql in triggers.remove_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


def create_head(apps, schema_editor):
    apps.get_model("ledger", "LedgerHead").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(install_triggers, remove_triggers),
        migrations.RunPython(create_head, migrations.RunPython.noop),
    ]
