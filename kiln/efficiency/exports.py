"""Carbon-efficiency lists as CSV or XLSX, through the registry's writers (formula cells neutralised)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from kiln.efficiency.display import LEVEL_ZH, NEUTRAL_ZH
from kiln.efficiency.errors import reason_text

# Chinese headers whatever the UI language, as the registry's exports.
RESULT_HEADERS = [
    "统一社会信用代码",
    "企业名称",
    "行政区划代码",
    "行政区划名称",
    "行业",
    "期间",
    "能源消费二氧化碳排放量（吨）",
    "自发自用零碳电力抵减（吨）",
    "净排放量（吨）",
    "工业增加值（万元）",
    "单位增加值碳排放量L（吨/万元）",
    "碳效水平",
    "行业平均L",
    "碳效值K",
    "碳效等级",
    "碳中和率（暂定）",
    "中和标识（暂定）",
    "未评级原因代码",
    "未评级原因",
]
MOVER_HEADERS = [*RESULT_HEADERS, "上年碳效等级", "等级变化"]


def _number(value: float | None, places: int) -> str:
    return "" if value is None else f"{value:.{places}f}"


def result_row(r) -> list[str]:
    e = r.enterprise
    return [
        e.credit_code or "",
        e.name,
        e.region.code,
        e.region.name,
        r.industry_key,
        r.period,
        _number(r.co2_gross_t, 3),
        _number(r.co2_avoided_t, 3),
        _number(r.co2_net_t, 3),
        _number(r.value_added_10k_cny, 2),
        _number(r.l_value, 4),
        LEVEL_ZH.get(r.level, ""),
        _number(r.industry_mean_l, 4),
        _number(r.k_value, 4),
        str(r.grade or ""),
        _number(r.neutral_rate, 4),
        NEUTRAL_ZH.get(r.neutral_mark, ""),
        r.reason,
        reason_text(r.reason),
    ]


def result_rows(results: Iterable) -> Iterator[list[str]]:
    for r in results:
        yield result_row(r)


def mover_rows(moves: Iterable[dict]) -> Iterator[list[str]]:
    for m in moves:
        yield [*result_row(m["result"]), str(m["before"].grade), f"{m['change']:+d}"]
