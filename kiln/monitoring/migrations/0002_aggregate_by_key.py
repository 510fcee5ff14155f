"""Empty: the index on ``accounting_aggregate (run, dimension, key, period)`` this once created with raw
SQL is now ``accounting.Aggregate``'s own ``aggregate_by_key`` (``accounting/0002_aggregate_by_key``,
which adopts the index a database got from here). Kept so databases that applied it stay consistent.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0001_initial"),
        ("monitoring", "0001_initial"),
    ]

    operations = []
