"""The reference data shipped with Kiln: GB/T 2260 divisions and GB/T 4754-2017 industries.

The files in ``kiln/registry/data/`` go through the same validator and writer as an
administrator's upload, so they obey the same rules and loading them twice changes nothing.
"""

from __future__ import annotations

from importlib import resources

from django.db import transaction

from kiln.registry.errors import RowError
from kiln.registry.services import import_table
from kiln.registry.tabular import read_table

# Parents before children: industries do not refer to regions, but keep a fixed order anyway.
REFERENCE_FILES = (("regions", "regions.csv"), ("industries", "industries.csv"))


class ReferenceDataError(Exception):
    def __init__(self, filename: str, errors: list[RowError]):
        details = "; ".join(f"row {e.row} {e.column} {e.value!r}: {e.code}" for e in errors[:10])
        super().__init__(f"{filename} is invalid: {details}")
        self.errors = errors


def reference_file(name: str) -> bytes:
    return resources.files("kiln.registry").joinpath("data", name).read_bytes()


@transaction.atomic
def load_reference_data() -> dict[str, dict[str, int]]:
    """Create or update the shipped regions and industries; returns counts per kind.

    ``{"regions": {"created": 46, "updated": 0, "unchanged": 0}, "industries": {...}}``
    """
    counts = {}
    for kind, filename in REFERENCE_FILES:
        result = import_table(actor=None, kind=kind, table=read_table(reference_file(filename)))
        if not result.ok:
            raise ReferenceDataError(filename, result.errors)
        counts[kind] = result.counts()
    return counts
