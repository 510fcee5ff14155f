"""Seasonal shapes: how a year's activity spreads over its months and days.

Work is modelled per day (weekday, Chinese New Year shutdown, season), then summed
into months, so monthly data and daily meter readings come from the same shape and
agree with each other. Pure numpy; no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# 春节 (Chinese New Year's Day). Factories stop for about two weeks around it, which
# moves the low month between January and February from year to year.
NEW_YEAR_DAY = {
    2010: "2010-02-14",
    2011: "2011-02-03",
    2012: "2012-01-23",
    2013: "2013-02-10",
    2014: "2014-01-31",
    2015: "2015-02-19",
    2016: "2016-02-08",
    2017: "2017-01-28",
    2018: "2018-02-16",
    2019: "2019-02-05",
    2020: "2020-01-25",
    2021: "2021-02-12",
    2022: "2022-02-01",
    2023: "2023-01-22",
    2024: "2024-02-10",
    2025: "2025-01-29",
    2026: "2026-02-17",
    2027: "2027-02-06",
    2028: "2028-01-26",
    2029: "2029-02-13",
    2030: "2030-02-03",
}
FALLBACK_NEW_YEAR = "02-05"  # a typical date, for years outside the table


@dataclass(frozen=True)
class Profile:
    """A seasonal shape. ``months``: relative level by calendar month; ``weekdays``: Monday..Sunday;
    ``new_year``: level during the Spring Festival shutdown (1 = no dip)."""

    months: tuple[float, ...]
    weekdays: tuple[float, ...] = (1, 1, 1, 1, 1, 1, 1)
    new_year: float = 1.0


PROFILES: dict[str, Profile] = {
    # Light manufacturing: five-and-a-half-day weeks, a deep Spring Festival stop, a year-end push.
    "manufacturing": Profile(
        (1.00, 1.00, 1.03, 1.02, 1.02, 1.00, 0.97, 0.97, 1.01, 1.02, 1.04, 1.06),
        (1, 1, 1, 1, 1, 0.9, 0.75),
        0.35,
    ),
    # Continuous process plants (chemicals, fibre, paper, smelting) barely pause.
    "continuous": Profile(
        (1.00, 0.98, 1.00, 1.00, 1.00, 0.99, 0.98, 0.98, 1.00, 1.00, 1.01, 1.02),
        new_year=0.92,
    ),
    # Cement: staggered winter shutdown (错峰生产), plum-rain dip in June-July, autumn peak.
    "cement": Profile(
        (0.85, 0.80, 1.05, 1.10, 1.10, 0.95, 0.85, 0.90, 1.05, 1.12, 1.12, 1.00), new_year=0.15
    ),
    "steel": Profile(
        (1.00, 0.97, 1.01, 1.01, 1.00, 0.98, 0.97, 0.98, 1.01, 1.02, 1.02, 1.01),
        (1, 1, 1, 1, 1, 0.97, 0.95),
        0.7,
    ),
    # Grid load: summer air-conditioning and winter peaks.
    "power": Profile(
        (1.08, 0.95, 0.93, 0.90, 0.95, 1.02, 1.18, 1.20, 1.00, 0.90, 0.93, 1.05),
        (1, 1, 1, 1, 1, 0.95, 0.92),
        0.8,
    ),
    # Combined heat and power follows industrial steam demand, higher in winter.
    "chp": Profile(
        (1.10, 1.00, 1.02, 0.98, 0.97, 0.95, 0.93, 0.93, 0.97, 1.00, 1.05, 1.12),
        (1, 1, 1, 1, 1, 0.93, 0.88),
        0.55,
    ),
    # Rooftop photovoltaics: long summer days, but the plum-rain season in June.
    "solar": Profile((0.62, 0.68, 0.82, 0.95, 1.05, 0.98, 1.28, 1.25, 1.05, 0.92, 0.75, 0.65)),
    # A works canteen: working days only, closed over the Spring Festival, a little more in winter.
    "canteen": Profile(
        (1.04, 1.00, 1.00, 0.99, 0.98, 0.97, 0.96, 0.96, 0.99, 1.00, 1.03, 1.05),
        (1, 1, 1, 1, 1, 0.5, 0.2),
        0.1,
    ),
}
PROFILE_NAMES = tuple(PROFILES)


@dataclass(frozen=True)
class Calendar:
    """Days and months of the generated years, with every profile's weights.

    ``monthly[p, m]``: share of year-of-``m``'s activity falling in month ``m`` (rows sum to 1 per year).
    ``daily[p, d]``: share of month-of-``d``'s activity falling on day ``d``.
    """

    years: tuple[int, ...]
    periods: tuple[str, ...]  # "YYYY-MM", one per month
    days: np.ndarray  # datetime64[D]
    day_month: np.ndarray  # month index of each day
    monthly: np.ndarray  # (profiles, months)
    daily: np.ndarray  # (profiles, days)

    @property
    def n_months(self) -> int:
        return len(self.periods)


def new_year_day(year: int) -> np.datetime64:
    return np.datetime64(NEW_YEAR_DAY.get(year, f"{year}-{FALLBACK_NEW_YEAR}"), "D")


def build(years: tuple[int, ...]) -> Calendar:
    first, last = years[0], years[-1]
    days = np.arange(
        np.datetime64(f"{first}-01-01"), np.datetime64(f"{last + 1}-01-01"), dtype="datetime64[D]"
    )
    day_month = days.astype("datetime64[M]").astype(np.int64) - np.datetime64(f"{first}-01", "M").astype(
        np.int64
    )
    month_of_year = day_month % 12
    year_of_day = first + day_month // 12
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0

    new_years = np.array([new_year_day(y) for y in range(first, last + 1)])
    offset = (days - new_years[year_of_day - first]).astype(np.int64)
    # Shutdown from 5 days before to 10 days after; half-speed while stopping and restarting.
    full_stop = (offset >= -5) & (offset <= 10)
    ramp = ((offset >= -9) & (offset < -5)) | ((offset > 10) & (offset <= 20))

    n_months = 12 * len(years)
    monthly = np.empty((len(PROFILES), n_months))
    daily = np.empty((len(PROFILES), len(days)))
    for p, profile in enumerate(PROFILES.values()):
        level = np.where(full_stop, profile.new_year, np.where(ramp, (1 + profile.new_year) / 2, 1.0))
        weight = np.asarray(profile.months)[month_of_year] * np.asarray(profile.weekdays)[weekday] * level
        per_month = np.bincount(day_month, weights=weight, minlength=n_months)
        per_year = per_month.reshape(len(years), 12).sum(axis=1)
        monthly[p] = per_month / np.repeat(per_year, 12)
        daily[p] = weight / per_month[day_month]

    periods = tuple(f"{first + m // 12}-{m % 12 + 1:02d}" for m in range(n_months))
    return Calendar(tuple(years), periods, days, day_month, monthly, daily)
