"""The engine's own answer for the test city, computed without the portal: what every page must show."""

from __future__ import annotations

import polars as pl

from kiln.accounting.services import activity_frame, mapping_frame
from kiln.engine.aggregate import aggregate
from kiln.engine.emissions import compute
from kiln.factors import services as factor_services


def engine_aggregates(city, region, year: int) -> dict[str, pl.DataFrame]:
    factor_set = factor_services.frame_of(city.sets["CN-DEFAULT-2024"])
    results = compute(activity_frame(region, year), factor_set, grid_series=city.sets["CN-DEFAULT-2024"].default_grid_series)
    return aggregate(results, mapping_frame(region))


def figure(value: float) -> str:
    """How the portal prints a whole number of tonnes: 12,345."""
    return f"{value:,.0f}"
