"""Database triggers that refuse UPDATE and DELETE on audit events (SQLite and PostgreSQL)."""

from django.db import migrations


def install(apps, schema_editor):
    from kiln.audit.db import install_triggers

    install_triggers(schema_editor)


def remove(apps, schema_editor):
    from kiln.audit.db import remove_triggers

    remove_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
