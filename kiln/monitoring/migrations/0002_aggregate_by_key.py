"""An index on accounting's aggregates for the portals' per-enterprise reads.

``accounting.Aggregate`` is indexed by (run, dimension, period, key): right for "every county in
March", slow for "this enterprise's months", which the enterprise pages ask all the time. Kept
here, beside the queries that need it; it only adds an index, never changes the table.
"""

from django.db import migrations

INDEX = "monitoring_aggregate_key"


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0001_initial"),
        ("monitoring", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON accounting_aggregate (run_id, dimension, key, period)",
            f"DROP INDEX IF EXISTS {INDEX}",
        )
    ]
