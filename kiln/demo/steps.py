"""What ``kiln demo-data`` does after the registry: the platform's own services fill it with a working history.

Each step is a function returning one line for the summary; the command times them. Every step goes
through the service a real user or job would call (intake, evidence deposit, grid loader, accounting,
efficiency grading, screening, review), never around it, so the demo shows what those services really do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from django.utils import timezone

from kiln.demo import evidence
from kiln.demo.generate import DemoData
from kiln.demo.samples import enterprise_persona_code

FACTOR_SET = "CN-DEFAULT-2024"
EVIDENCE_ENTERPRISES = 15  # the enterprise persona's plus the largest key emitters (~25 ms a deposit)
EVIDENCE_FROM_MONTH = 11  # deposits start in November of the last year of data ...
EVIDENCE_MAX_MONTHS = 15  # ... and run to the last month that has ended, at most this many months
GROWTH = 1.03  # months after the data: the same month of the last year, a little more
OBLIGATION_MONTHS = 12  # the demo's platform went live this many months before the last month that has ended


class StepError(Exception):
    """A step failed; the message says which file or service and why."""


@dataclass
class Outcome:
    summary: str
    details: list[str]


def factors() -> Outcome:
    from kiln.factors.models import FactorSet
    from kiln.factors.services import load_shipped

    created = load_shipped()
    sets = list(FactorSet.objects.order_by("code", "version").values_list("code", "version"))
    return Outcome(f"{len(created)} factor sets stored ({', '.join(f'{c} v{v}' for c, v in sets)})", [])


def activity(path: Path) -> Outcome:
    """``activity.csv`` through the intake pipeline, all or nothing, as the platform (door "demo")."""
    from kiln.intake.models import ImportBatch
    from kiln.intake.services import import_activity

    result = import_activity(
        path.read_bytes(), actor=None, membership=None, door=ImportBatch.Door.DEMO, file_name=path.name
    )
    if not result.ok:
        first = result.as_dict()["errors"][:3]
        raise StepError(
            f"{path.name} was rejected by the intake ({result.error_count} errors: {result.report.get('counts')}); "
            f"first: {first}"
        )
    return Outcome(
        f"{result.imported:,} rows imported from {path.name} (batch #{result.batch_id}, "
        f"ledger entry {result.ledger_index})",
        [],
    )


# --- evidence deposits ------------------------------------------------------------------------------


def _months(end_year: int, today) -> list[str]:
    from kiln.intake import deadlines

    last = deadlines.shift(f"{today.year:04d}-{today.month:02d}", -1)  # the last month that has ended
    first = f"{end_year:04d}-{EVIDENCE_FROM_MONTH:02d}"
    months = deadlines.periods_between(first, last) if first <= last else []
    return months[-EVIDENCE_MAX_MONTHS:]


def _skipped(code: str, period: str, one_in: int) -> bool:
    """About one enterprise-month in ``one_in`` is left without evidence (overdue), the same ones every time."""
    return int(hashlib.sha256(f"{code}|{period}".encode()).hexdigest()[:8], 16) % one_in == 0


def _periods(first: str, last: str) -> list[str]:
    from kiln.intake import deadlines

    return deadlines.periods_between(first, last)


def _basis(period: str, data_periods: set[str], end_year: int) -> tuple[str, float]:
    """The data month a document's numbers come from, and the factor on flows."""
    if period in data_periods:
        return period, 1.0
    return f"{end_year}-{period[5:]}", GROWTH


def evidence_deposits(data: DemoData, today=None) -> Outcome:
    """Electricity settlements, meter photos and coal reports for some key emitters' recent months.

    The largest key emitters get them from November of the last year of data to the last month that has
    ended; the enterprise persona's enterprise also for every earlier month of data (settlement and coal
    report). The numbers are the month's own: metered kWh, the reported coal analysis (months after the
    data: the same month of the last year, a little more). Deposits are made now, through
    ``kiln.intake.deposits.deposit``: the ledger's times are real, so a month whose deadline has passed
    shows "deposited late" and the month still within its deadline "on time"; about one recent month in
    five (one older month in twelve) is left without evidence and shows "overdue".
    """
    from kiln.accounts.models import User
    from kiln.intake import deposits
    from kiln.intake.models import EvidenceFile
    from kiln.registry.models import Enterprise

    today = today or timezone.localdate()
    end_year = data.config.years[-1]
    recent = _months(end_year, today)
    # The enterprise persona's enterprise keeps its deposits up from the first month of data (a settlement
    # and a laboratory report a month, a month now and then missing), so its own list of open questions
    # shows what screening found in its data rather than three years of missing evidence.
    first_data = f"{data.config.years[0]}-01"
    history = [p for p in _periods(first_data, recent[0]) if p < recent[0]] if recent else []
    persona = enterprise_persona_code(data.enterprises)
    keys = data.enterprises.filter(pl.col("key_emitter") & (pl.col("credit_code") != persona)).sort(
        "approx_co2_t", "credit_code", descending=[True, False]
    )
    codes = [persona, *keys["credit_code"].head(EVIDENCE_ENTERPRISES - 1).to_list()]
    enterprises = {e.credit_code: e for e in Enterprise.objects.filter(credit_code__in=codes)}
    reporter = User.objects.filter(username="reporter").first()

    electricity = _monthly_kwh(data, codes)
    coal = _coal(data, codes)
    data_periods = {f"{y}-{m:02d}" for y in data.config.years for m in range(1, 13)}
    counts = {k: 0 for k in EvidenceFile.Kind.values}
    left_out = 0
    for code in codes:
        enterprise = enterprises[code]
        actor = reporter if code == persona else None
        register = 1_000_000.0 + int(code.encode().hex(), 16) % 40_000_000  # the meter's reading before
        months = (history if code == persona else []) + recent
        for i, period in enumerate(months):
            old = period < recent[0]
            basis, factor = _basis(period, data_periods, end_year)
            kwh = electricity.get((code, basis))
            if kwh is not None:
                register += kwh * factor
            if _skipped(code, period, 12 if old else 5) and i != len(months) - 1:
                left_out += 1
                continue
            month = evidence.Month(
                code,
                enterprise.name,
                period,
                kwh=round(kwh * factor) if kwh is not None else None,
                coal=coal.get((code, basis), {}).get("values"),
                facility=coal.get((code, basis), {}).get("facility", ""),
            )
            documents = []
            if month.kwh:
                documents.append(
                    (
                        EvidenceFile.Kind.INVOICE,
                        f"电费结算单-{period}.pdf",
                        evidence.settlement_pdf(month),
                        False,
                    )
                )
            if month.kwh and not old:
                documents.append(
                    (
                        EvidenceFile.Kind.METER_READING,
                        f"电能表读数-{period}.png",
                        evidence.meter_png(month, register / 1000, multiplier=1000),
                        False,
                    )
                )
            if month.coal:
                documents.append(
                    (
                        EvidenceFile.Kind.LAB_REPORT,
                        f"煤质检测报告-{period}.pdf",
                        evidence.coal_report_pdf(month),
                        True,
                    )
                )
            for kind, name, content, cma in documents:
                deposits.deposit(
                    enterprise=enterprise,
                    period=period,
                    kind=kind,
                    upload=content,
                    actor=actor,
                    original_name=name,
                    cma_cnas=cma,
                )
                counts[kind] += 1
    total = sum(counts.values())
    summary = (
        f"{total} evidence files for {len(codes)} key emitters, {recent[0]}..{recent[-1]} "
        f"(the enterprise login's from {first_data}) "
        f"({', '.join(f'{n} {k}' for k, n in counts.items() if n)}); {left_out} enterprise-months left overdue"
        if recent
        else "no month has ended since the data: no evidence deposited"
    )
    return Outcome(summary, [])


def _monthly_kwh(data: DemoData, codes: list[str]) -> dict[tuple[str, str], float]:
    """The grid's metered kWh per enterprise and month (what a settlement statement bills)."""
    metered = data.metered_electricity.with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String)).filter(
        pl.col("credit_code").is_in(codes)
    )
    if "date" in metered.columns:
        metered = metered.with_columns(pl.col("date").cast(pl.String).str.slice(0, 7).alias("period"))
    sums = metered.group_by("credit_code", "period").agg(pl.col("kwh").sum())
    return {(c, p): float(k) for c, p, k in sums.iter_rows()}


def _coal(data: DemoData, codes: list[str]) -> dict[tuple[str, str], dict]:
    """Raw-coal parameters per enterprise and month, from the first facility that reports them."""
    rows = (
        data.activity.with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String))
        .filter(pl.col("credit_code").is_in(codes) & pl.col("item").str.starts_with("raw_coal."))
        .with_columns(pl.col("facility").fill_null(""))
        .sort("credit_code", "period", "facility")
    )
    out: dict[tuple[str, str], dict] = {}
    for row in rows.iter_rows(named=True):
        entry = out.setdefault(
            (row["credit_code"], row["period"]), {"facility": row["facility"], "values": {}}
        )
        if row["facility"] == entry["facility"]:
            entry["values"][row["item"].split(".", 1)[1]] = row["quantity"]
    return {k: v for k, v in out.items() if "ncv" in v["values"]}


# --- grid, accounting, efficiency, screening -------------------------------------------------------


def metered(path: Path) -> Outcome:
    from kiln.grid.services import load_demo_metered

    result = load_demo_metered(path)
    if result is None:
        return Outcome(f"skipped: {path.name} not found", [])
    if not result.ok:
        raise StepError(f"{path.name} was rejected by the grid loader: {result.report.get('counts')}")
    return Outcome(f"{result.created:,} readings imported from {path.name}", [])


def calculations(years: tuple[int, ...], region_code: str, planted: pl.DataFrame | None = None) -> Outcome:
    from kiln.accounting.services import RunError, calculate
    from kiln.factors.models import FactorSet
    from kiln.registry.models import Region

    factor_set = FactorSet.objects.filter(code=FACTOR_SET).order_by("-version").first()
    if factor_set is None:
        raise StepError(f"factor set {FACTOR_SET} is missing")
    region = Region.objects.get(code=region_code)
    lines = []
    for year in years:
        try:
            run = calculate(actor=None, region=region, year=year, factor_set=factor_set)
        except RunError as exc:
            raise StepError(
                f"calculation {region_code} {year}: {exc.code} {exc.message} {exc.errors[:3]}"
            ) from exc
        in_year = _planted_in(planted, year)
        lines.append(
            f"{year}: {run.total_co2_t / 1e6:,.3f} Mt CO2, {run.total_tce / 1e4:,.1f} 万 tce, "
            f"{run.input_rows:,} rows (official run #{run.pk})" + (f"; planted: {in_year}" if in_year else "")
        )
    return Outcome(f"{len(years)} official runs for {region.name} ({region_code}) with {FACTOR_SET}", lines)


def _planted_in(planted: pl.DataFrame | None, year: int) -> str:
    """The planted problems of ``year`` that are in the imported data (not the duplicates), by kind."""
    if planted is None or planted.is_empty():
        return ""
    rows = planted.filter(
        pl.col("period").cast(pl.String).str.starts_with(f"{year}-") & (pl.col("kind") != "duplicate")
    )
    counts = rows.group_by("kind").len().sort("kind")
    return ", ".join(f"{n} {kind}" for kind, n in counts.iter_rows())


def efficiency(years: tuple[int, ...], region_code: str) -> Outcome:
    from kiln.efficiency.services import grade_year
    from kiln.registry.models import Region

    region = Region.objects.get(code=region_code)
    lines = []
    for year in years:
        run = grade_year(actor=None, year=year, region=region)
        lines.append(f"{year}: {run.graded:,} enterprises graded, {run.not_graded:,} not graded")
    return Outcome(f"carbon-efficiency grades for {len(years)} years", lines)


def obligation_start(today) -> str:
    """The month the demo's deposit obligation began: ``OBLIGATION_MONTHS`` before the last month that has
    ended, the months the evidence step deposits for (earlier months are not counted as missing)."""
    from kiln.intake import deadlines

    last = deadlines.shift(f"{today.year:04d}-{today.month:02d}", -1)
    return deadlines.shift(last, -(OBLIGATION_MONTHS - 1))


def _start_evidence_obligation(start: str) -> str:
    """Give the missing-evidence rule the demo's start month, as a technical expert would on the rule page."""
    from kiln.screening.queries import current_rules
    from kiln.screening.services import RULE_FIELDS, save_rule

    rule = next((r for r in current_rules() if r.engine_check == "missing_evidence"), None)
    if rule is None or (rule.params or {}).get("start"):
        return ""
    fields = {f: getattr(rule, f) for f in RULE_FIELDS} | {"params": {**(rule.params or {}), "start": start}}
    save_rule(actor=None, rule_id=rule.rule_id, fields=fields)
    return rule.rule_id


def screening(years: tuple[int, ...], region_code: str, today=None) -> Outcome:
    from django.db.models import Count

    from kiln.registry.models import Region
    from kiln.screening.models import Finding, ScreeningRun
    from kiln.screening.services import run_screening

    region = Region.objects.get(code=region_code)
    start = obligation_start(today or timezone.localdate())
    started = _start_evidence_obligation(start)
    first, last = f"{years[0]}-01", f"{years[-1]}-12"
    run = run_screening(actor=None, trigger=ScreeningRun.Trigger.CLI, first=first, last=last, region=region)
    found = Finding.objects.filter(last_run=run)
    by_severity = {"error": 0, "warning": 0} | dict(
        found.values("severity").annotate(n=Count("id")).values_list("severity", "n")
    )
    top = (
        found.values("rule_id").annotate(n=Count("id")).order_by("-n", "rule_id").values_list("rule_id", "n")
    )
    details = [", ".join(f"{rule} {n:,}" for rule, n in top)]
    if started:
        details.append(f"{started}: evidence counted from {start} (the months the deposits cover)")
    return Outcome(
        f"run #{run.pk} {first}..{last}: {run.findings_total:,} findings "
        f"({_count(by_severity['error'], 'blocking error')}, {_count(by_severity['warning'], 'warning')})",
        details,
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def supervision(data: DemoData) -> Outcome:
    """Annual reports of the last year of data in every state of review, verification and on-site sampling,
    through ``kiln.review``'s services (``kiln.demo.supervision``)."""
    from kiln.demo import supervision as workflow
    from kiln.review.errors import ReviewError

    try:
        return workflow.run(data)
    except ReviewError as exc:
        raise StepError(f"the review workflow refused a step: {exc.code} {exc.message}") from exc


def sign_ledger() -> Outcome:
    from kiln.ledger.services import sign_tree_head_if_grown

    head = sign_tree_head_if_grown()
    return Outcome(f"tree head signed at size {head.tree_size}" if head else "nothing new to sign", [])
