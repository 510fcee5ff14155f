"""The enterprise's self-check before submitting: what is checked, as pure reads (the service stores it).

Checks, each giving findings ``{"key", "code", "severity", "message", "period", "item", "facility", "source"}``:

==================== ======== ===========================================================================
code                 severity what
==================== ======== ===========================================================================
REV-SC-NO-RUN        error    no official calculation covers the enterprise and year
REV-SC-ENGINE        error    the accounting engine refuses the reported data (the engine's first errors)
REV-SC-RUN-STALE     error    the official calculation does not reproduce from the current data (the data
                              changed since it was calculated): the city recalculates before submission
REV-SC-MONTH         error    a month of the period without any reported quantity
REV-SC-EVIDENCE      error    a key emitter's month without deposited evidence (warning for others, once)
KLN-…                as rule  the screening rules in force (``kiln.screening``'s stored rule versions,
                              the starter set when none are stored) run by ``kiln.engine.screening`` over
                              the enterprise's own data, 12 months of history as context; rule severity
                              ``error`` blocks, ``warning`` may be acknowledged
KLN-XSRC-…           as rule  reported purchased electricity vs the grid company's meter: the screening
                              cross-source rules, fed with ``kiln.grid``'s monthly metered electricity;
                              KLN-XSRC-003: the months of a year vs that year's submitted annual report
                              (another submission's figures snapshot, never the report being checked)
==================== ======== ===========================================================================

A finding's ``key`` is stable across runs (code, period, item, facility), so an explanation given
for a warning still applies when the self-check is run again and the warning is still there.
"""

from __future__ import annotations

import datetime
import hashlib

import polars as pl
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kiln.accounting.queries import official_run, run_covers
from kiln.accounting.services import ACTIVITY_COLUMNS, rows_of
from kiln.engine.emissions import compute
from kiln.engine.errors import EngineError
from kiln.factors import services as factor_services
from kiln.intake import deadlines
from kiln.intake.models import ActivityRecord, EvidenceFile
from kiln.reports.content import periods_of

ERROR, WARNING = "error", "warning"
RUN_STALE = "REV-SC-RUN-STALE"


def both(text) -> dict[str, str]:
    """A message in Chinese and English: ``text`` is a callable giving it in the active language."""
    out = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            out[language] = str(text())
    return out


def finding(
    code: str,
    severity: str,
    message,
    *,
    period: str = "",
    item: str = "",
    facility: str = "",
    source: str = "kiln",
) -> dict:
    """``message``: a callable (translated at check time into both languages) or a {language: text} dict."""
    texts = message if isinstance(message, dict) else both(message)
    return {
        "key": "|".join((code, period, item, facility)),
        "code": code,
        "severity": severity,
        "message": texts["zh-hans"],
        "message_en": texts["en"],
        "period": period,
        "item": item,
        "facility": facility,
        "source": source,
    }


def activity(enterprise, periods: list[str]) -> pl.DataFrame:
    """The enterprise's current reported rows for ``periods`` (interchange columns, as accounting reads them)."""
    rows = (
        ActivityRecord.objects.filter(enterprise=enterprise, current=True, period__in=periods)
        .order_by("period", "item", "facility")
        .values_list(
            "enterprise__credit_code", "period", "item", "quantity", "unit", "source", "facility", "note"
        )
    )
    schema = {c: pl.String for c in ACTIVITY_COLUMNS} | {"quantity": pl.Float64}
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def data_sha256(enterprise, periods: list[str]) -> str:
    """Fingerprint of what the self-check looked at: current row versions and deposited evidence."""
    records = ActivityRecord.objects.filter(enterprise=enterprise, current=True, period__in=periods).order_by(
        "pk"
    )
    evidence = EvidenceFile.objects.filter(enterprise=enterprise, period__in=periods).order_by("pk")
    digest = hashlib.sha256()
    for pk, version in records.values_list("pk", "version"):
        digest.update(f"r{pk}.{version};".encode())
    for pk in evidence.values_list("pk", flat=True):
        digest.update(f"e{pk};".encode())
    return digest.hexdigest()


def _compare_with_run(run, enterprise, current: pl.DataFrame, periods: list[str]) -> list[dict]:
    """Recompute the enterprise with the run's factor set; any difference from the run means it is stale."""
    factor_set = run.factor_sets.first()
    if factor_set is None:
        return [finding("REV-SC-NO-RUN", ERROR, lambda: _("The official calculation has no factor set."))]
    quantity_rows = current.filter(~pl.col("item").str.contains(".", literal=True))
    try:
        fresh = (
            compute(current, factor_services.frame_of(factor_set), grid_series=run.grid_series)
            if quantity_rows.height
            else None
        )
    except EngineError as exc:
        out = []
        for error in exc.errors.head(20).iter_rows(named=True):
            params = {
                "code": error.get("code", ""),
                "detail": error.get("detail") or error.get("message") or "",
            }
            out.append(
                finding(
                    "REV-SC-ENGINE",
                    ERROR,
                    lambda params=params: (
                        _("The accounting engine refuses this data: %(code)s %(detail)s") % params
                    ),
                    period=str(error.get("period") or ""),
                    item=str(error.get("item") or ""),
                )
            )
        return out
    stored = (
        rows_of(run)
        .filter(pl.col("credit_code").cast(pl.String) == (enterprise.credit_code or ""))
        .filter(pl.col("period").cast(pl.String).is_in(periods))
        .collect()
    )

    def tidy(frame: pl.DataFrame | None) -> pl.DataFrame:
        if frame is None or frame.is_empty():
            return pl.DataFrame(
                schema={"period": pl.String, "item": pl.String, "formula": pl.String, "co2_t": pl.Float64}
            )
        return (
            frame.select(pl.col("period", "item", "formula").cast(pl.String), pl.col("co2_t").round(6))
            .group_by("period", "item", "formula")
            .agg(pl.col("co2_t").sum().round(4))
            .sort("period", "item", "formula")
        )

    if tidy(fresh).equals(tidy(stored)):
        return []
    return [
        finding(
            RUN_STALE,
            ERROR,
            lambda: (
                _(
                    "The official calculation (run #%(run)s) does not include your latest data. The city reviewer "
                    "recalculates; then run the self-check again."
                )
                % {"run": run.pk}
            ),
        )
    ]


def reports_stale_run(check) -> bool:
    """The stored self-check (``SelfCheck``) found the official calculation out of date."""
    return any(f.get("code") == RUN_STALE for f in (check.results if check is not None else []))


def run_is_stale(run, enterprise, year: int, month: str | None = None) -> bool:
    """The official ``run`` does not reproduce from the enterprise's current data for the period (now)."""
    periods = periods_of(year, month)
    current = activity(enterprise, periods)
    if not current.height:
        return False
    return any(f["code"] == RUN_STALE for f in _compare_with_run(run, enterprise, current, periods))


def _months(current: pl.DataFrame, periods: list[str]) -> list[dict]:
    reported = set(
        current.filter(~pl.col("item").str.contains(".", literal=True)).get_column("period").to_list()
    )
    return [
        finding(
            "REV-SC-MONTH",
            ERROR,
            lambda p=p: _("Nothing is reported for %(period)s.") % {"period": p},
            period=p,
        )
        for p in periods
        if p not in reported
    ]


def _evidence(enterprise, periods: list[str], today: datetime.date) -> list[dict]:
    have = set(
        EvidenceFile.objects.filter(enterprise=enterprise, period__in=periods).values_list(
            "period", flat=True
        )
    )
    missing = [p for p in periods if p not in have and deadlines.month_end(p) < today]
    if not missing:
        return []
    if enterprise.key_emitter:
        return [
            finding(
                "REV-SC-EVIDENCE",
                ERROR,
                lambda p=p: (
                    _("No evidence is deposited for %(period)s (key emitters deposit every month).")
                    % {"period": p}
                ),
                period=p,
            )
            for p in missing
        ]
    return [
        finding(
            "REV-SC-EVIDENCE",
            WARNING,
            lambda: _("No evidence is deposited for %(months)s.") % {"months": ", ".join(missing)},
        )
    ]


def _screening_rules() -> tuple[list, dict]:
    """The screening rules in force (``kiln.screening``'s stored versions; the starter set when none are
    stored) and, per rule ID, the stored rule version (for its message templates)."""
    # Imported here: kiln.screening reads review's annual figures (KLN-XSRC-003).
    from kiln.screening import queries as screening_queries
    from kiln.screening import services as screening_services
    from kiln.screening import starter

    stored = screening_queries.current_rules()
    if stored:
        return [screening_services.engine_rule(r) for r in stored], {r.rule_id: r for r in stored}
    from types import SimpleNamespace

    messages = {
        r["rule_id"]: SimpleNamespace(
            message_zh=r.get("message_zh", ""), message_en=r.get("message_en", ""), engine_check=r["check"]
        )
        for r in starter.starter_records()
        if r.get("message_zh") and r.get("message_en")
    }
    return starter.starter_rules(), messages


def _metered(enterprise, first: str, last: str) -> pl.DataFrame | None:
    """The grid company's metered electricity per month (``kiln.grid``), for the cross-source rules."""
    from kiln.grid.services import monthly_frame
    from kiln.registry.models import Enterprise

    frame = monthly_frame(Enterprise.objects.filter(pk=enterprise.pk), first, last)
    return frame if frame.height else None


def _message(row: dict, rule_version, summaries: dict) -> dict[str, str]:
    if rule_version is not None:
        from types import SimpleNamespace

        from kiln.screening import display

        shaped = SimpleNamespace(
            rule_version=rule_version,
            rule_id=row["rule_id"],
            item=row["item"] or "",
            period=row["period"] or "",
            facility=row["facility"] or "",
            value=row["value"],
            low=row["low"],
            high=row["high"],
            reference=row["reference"],
            score=row["score"],
            detail=row["detail"] or "",
        )
        return {"zh-hans": display.message(shaped, zh=True), "en": display.message(shaped, zh=False)}
    text = summaries.get(row["check"], row["check"])
    if row["value"] is not None:
        text += f" ({row['value']:.6g}"
        if row["low"] is not None and row["high"] is not None:
            text += f"; {row['low']:.6g}–{row['high']:.6g}"
        text += ")"
    return {"zh-hans": text, "en": text}


def _annual(enterprise, first: str, last: str, *, leave_out: int | None) -> pl.DataFrame:
    """The enterprise's submitted annual reports over the screened months' years (KLN-XSRC-003), without
    the report of year ``leave_out`` (an annual report's own self-check compares nothing with itself)."""
    from kiln.registry.models import Enterprise
    from kiln.review.queries import annual_figures

    years = [y for y in range(int(first[:4]), int(last[:4]) + 1) if y != leave_out]
    return annual_figures(Enterprise.objects.filter(pk=enterprise.pk), years)


def _screening(
    enterprise, year: int, periods: list[str], run, today: datetime.date, *, annual_report: bool = False
) -> tuple[list[dict], list]:
    """Screening rules over the enterprise's own data (12 months of history before the period as context)."""
    from kiln.engine import screening as engine

    rules, versions = _screening_rules()
    first = engine.context_start(periods[0])
    context_periods = engine.months_between(first, periods[-1])
    frame = activity(enterprise, context_periods)
    if frame.is_empty():
        return [], []
    code = enterprise.credit_code or ""
    enterprises = pl.DataFrame(
        {
            "credit_code": [code],
            "industry_code": [enterprise.industry.code],
            "region_code": [enterprise.region.code],
            "sector": [enterprise.industry.ets_sector or ""],
            "obliged": [bool(enterprise.key_emitter)],
        }
    )
    own = list(
        EvidenceFile.objects.filter(enterprise=enterprise, period__in=context_periods).values_list(
            "enterprise__credit_code", "period", "sha256", "kind"
        )
    )
    shared = (
        list(
            EvidenceFile.objects.filter(sha256__in=[e[2] for e in own])
            .exclude(enterprise=enterprise)
            .values_list("enterprise__credit_code", "period", "sha256", "kind")
        )
        if own
        else []
    )
    evidence = pl.DataFrame(own + shared, schema=["credit_code", "period", "sha256", "kind"], orient="row")
    emissions = None
    if run is not None:
        from kiln.accounting.models import Aggregate

        monthly = list(
            Aggregate.objects.filter(
                run=run, dimension="enterprise", key=code, period__startswith=f"{year}-"
            ).values_list("key", "period", "co2_total_t")
        )
        emissions = (
            pl.DataFrame(monthly, schema=["credit_code", "period", "co2_t"], orient="row")
            if monthly
            else None
        )
    try:
        result = engine.screen(
            frame,
            rules,
            enterprises=enterprises,
            evidence=evidence,
            emissions=emissions,
            metered=_metered(enterprise, first, periods[-1]),
            annual=_annual(enterprise, first, periods[-1], leave_out=year if annual_report else None),
            periods=(periods[0], periods[-1]),
            as_of=today,
        )
    except Exception as exc:  # noqa: BLE001 - SEAM: the screening engine is still changing; never block on it
        return [], [("screening", f"{type(exc).__name__}: {exc}"[:200])]
    out = []
    summaries = {name: check.summary for name, check in engine.CHECKS.items()}
    for row in result.findings.filter(pl.col("credit_code") == code).iter_rows(named=True):
        out.append(
            finding(
                row["rule_id"],
                ERROR if row["severity"] == "error" else WARNING,
                _message(row, versions.get(row["rule_id"]), summaries),
                period=row["period"] or "",
                item=row["item"] or "",
                facility=row["facility"] or "",
                source="screening",
            )
        )
    return out, list(result.skipped)


def run_checks(enterprise, year: int, month: str | None = None, today: datetime.date | None = None) -> dict:
    """Every check for ``enterprise`` and the period; returns findings, the data hash and what was skipped."""
    today = today or timezone.localdate()
    periods = periods_of(year, month)
    current = activity(enterprise, periods)
    findings: list[dict] = []
    skipped: list = []
    run = official_run(enterprise.region, year)
    if run is None or not run_covers(run, enterprise):
        findings.append(
            finding(
                "REV-SC-NO-RUN",
                ERROR,
                lambda: _("There is no official calculation for %(year)s yet.") % {"year": year},
            )
        )
        run = None
    findings += _months(current, periods)
    if run is not None and current.height:
        findings += _compare_with_run(run, enterprise, current, periods)
    findings += _evidence(enterprise, periods, today)
    screened, skipped_screening = _screening(
        enterprise, year, periods, run, today, annual_report=month is None
    )
    findings += screened
    skipped += skipped_screening
    unique = {f["key"]: f for f in findings}
    ordered = sorted(
        unique.values(), key=lambda f: (f["severity"] != ERROR, f["period"], f["code"], f["item"])
    )
    return {
        "findings": ordered,
        "data_sha256": data_sha256(enterprise, periods),
        "skipped": skipped,
        "run": run.pk if run else None,
    }
