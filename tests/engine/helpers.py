"""Small builders for engine tests (no database)."""

from __future__ import annotations

import polars as pl

from kiln.engine import factorset
from kiln.registry import credit_code

E1 = credit_code.make("9", "1", "330502", "MA2B3C4D5")
E2 = credit_code.make("9", "1", "330503", "MA2B3C4D6")
E3 = credit_code.make("9", "1", "330521", "MA2B3C4D7")

ACTIVITY_SCHEMA = {
    "credit_code": pl.String,
    "period": pl.String,
    "item": pl.String,
    "quantity": pl.Float64,
    "unit": pl.String,
    "facility": pl.String,
}


def activity(*rows) -> pl.DataFrame:
    """Rows of (credit_code, period, item, quantity, unit[, facility])."""
    full = [tuple(r) + (None,) * (6 - len(r)) for r in rows]
    return pl.DataFrame(full, schema=ACTIVITY_SCHEMA, orient="row")


def default_set() -> pl.DataFrame:
    return factorset.load()


def mapping(*rows) -> pl.DataFrame:
    """Rows of (credit_code, region_code, city_code, industry_code)."""
    return pl.DataFrame(
        rows, schema=["credit_code", "region_code", "city_code", "industry_code"], orient="row"
    )
