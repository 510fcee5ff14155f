"""A whole list of values as ONE query parameter, so "code IN (10,000 codes)" stays one query.

SQLite limits the number of bound parameters and PostgreSQL plans huge IN lists slowly;
both can instead unpack a single JSON text (SQLite ``json_each``) or array (PostgreSQL
``unnest``) parameter into a subquery.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection
from django.db.models.expressions import RawSQL


def values_subquery(values: Sequence, *, integer: bool = False) -> RawSQL:
    """A subquery yielding ``values``, for ``.filter(field__in=values_subquery(...))``."""
    if connection.vendor == "postgresql":
        cast = "bigint[]" if integer else "text[]"
        return RawSQL(f"SELECT unnest(%s::{cast})", [list(values)])  # noqa: S611 - the cast is a constant
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(list(values))])  # noqa: S611
