"""How findings read: the rule's message template (Chinese or English) filled with the finding's values."""

from __future__ import annotations

import math

from django.utils.translation import get_language

from kiln.engine import items as catalogue


def number(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:.3g}" if magnitude < 100 else f"{value:.1f}"
    return f"{value:.3g}"


def item_label(code: str, zh: bool) -> str:
    if not code:
        return "整月" if zh else "the whole month"
    base, _, parameter = code.partition(".")
    item = catalogue.ITEMS.get(base)
    name = (item.name_zh if zh else item.name_en) if item else base
    if parameter:
        zh_name, en_name = catalogue.PARAMETERS.get(parameter, (parameter, parameter))
        return f"{name}{zh_name}" if zh else f"{name} {en_name}"
    return name


# Checks whose finding covers a run of months: period = the first month, detail = "first..last" (or one month).
GAP_CHECKS = ("missing_evidence",)


def _zh(zh: bool | None) -> bool:
    return not (get_language() or "").startswith("en") if zh is None else zh


def month_range(text: str, zh: bool | None = None) -> str:
    """ "2025-11..2025-12" as "2025-11 至 2025-12" / "2025-11 to 2025-12"; one month as it is."""
    first, _, last = text.partition("..")
    if not last:
        return first
    return f"{first} 至 {last}" if _zh(zh) else f"{first} to {last}"


def months(finding, *, zh: bool | None = None) -> str:
    """The month a finding is about; for a gap finding (``GAP_CHECKS``) its first to last month."""
    if finding.rule_version.engine_check in GAP_CHECKS and finding.detail:
        return month_range(finding.detail, zh)
    return finding.period


def gap_months(finding) -> list[str]:
    """Every month of a gap finding (``GAP_CHECKS``), first to last; [] for other findings."""
    if finding.rule_version.engine_check not in GAP_CHECKS:
        return []
    first, _, last = (finding.detail or finding.period).partition("..")
    year, month = int(first[:4]), int(first[5:7])
    out = [first]
    while last and out[-1] < last:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        out.append(f"{year:04d}-{month:02d}")
    return out


class _Values(dict):
    def __missing__(self, key):
        return "–"


def message(finding, *, zh: bool | None = None) -> str:
    """The finding as a sentence, in the current language unless ``zh`` says."""
    if zh is None:
        zh = not (get_language() or "").startswith("en")
    rule = finding.rule_version
    template = rule.message_zh if zh else rule.message_en
    score = finding.score
    if (
        rule.engine_check in ("metered_electricity", "lab_ncv_composition", "annual_sum")
        and score is not None
    ):
        score_text = f"{score * 100:+.1f}%"
    else:
        score_text = number(score)
    values = _Values(
        item=item_label(finding.item, zh),
        period=finding.period,
        facility=finding.facility or ("全厂" if zh else "site"),
        value=number(finding.value),
        low=number(finding.low),
        high=number(finding.high),
        reference=number(finding.reference),
        score=score_text,
        detail=month_range(finding.detail or "", zh)
        if rule.engine_check in GAP_CHECKS
        else finding.detail or "",
        rule_id=finding.rule_id,
    )
    try:
        return template.format_map(values)
    except (ValueError, IndexError, AttributeError):
        return template


AGE_BUCKETS = ((7, "≤ 7"), (30, "8–30"), (90, "31–90"), (None, "> 90"))


def age_bucket(days: int) -> str:
    for limit, label in AGE_BUCKETS:
        if limit is None or days <= limit:
            return label
    return AGE_BUCKETS[-1][1]
