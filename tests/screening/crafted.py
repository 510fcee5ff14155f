"""Small hand-made inputs for the screening engine: activity rows as tuples, months as ranges."""

from __future__ import annotations

import polars as pl

from kiln.engine import screening

COLUMNS = ["credit_code", "period", "item", "quantity", "unit", "source", "facility", "note"]


def months(first: str, n: int) -> list[str]:
    start = screening.month_number(first)
    return [screening.month_text(start + i) for i in range(n)]


def rows(*items) -> list[tuple]:
    """Each item: (credit_code, period, item, quantity, unit[, facility[, note]])."""
    out = []
    for r in items:
        cc, period, item, qty, unit = r[:5]
        facility = r[5] if len(r) > 5 else None
        note = r[6] if len(r) > 6 else None
        out.append((cc, period, item, float(qty), unit, None, facility, note))
    return out


def series(
    cc: str, item: str, unit: str, values: list[float], first: str = "2024-01", facility=None
) -> list[tuple]:
    return rows(
        *[(cc, p, item, v, unit, facility) for p, v in zip(months(first, len(values)), values, strict=True)]
    )


def frame(data: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(data, schema={c: pl.String for c in COLUMNS} | {"quantity": pl.Float64}, orient="row")


def rule(rule_id: str, check: str, severity: str = "warning", **kwargs) -> screening.Rule:
    params = kwargs.pop("params", {})
    return screening.Rule(rule_id=rule_id, check=check, severity=severity, params=params, **kwargs)


def run(data, rules, **inputs) -> pl.DataFrame:
    return screening.screen(frame(data) if isinstance(data, list) else data, rules, **inputs).findings


def steady(
    cc: str, item: str, unit: str, n: int = 18, level: float = 100.0, first: str = "2024-01", facility=None
) -> list[tuple]:
    """A steady stream with ±2 % wobble (deterministic)."""
    wobble = [1.0, 1.02, 0.98, 1.01, 0.99, 1.015, 0.985]
    return series(cc, item, unit, [level * wobble[i % len(wobble)] for i in range(n)], first, facility)
