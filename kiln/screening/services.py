"""Every write of the screening app (DESIGN.md rule 2): rules, runs, findings and their workflow.

A run reads the current reported data (with 12 months of history before the screened months),
the grid meter, the evidence deposit, emissions (computed with the engine's default factor set:
screening compares, it does not account) and economic data; runs the engine's checks and anomaly
detector; and stores the findings. Findings are matched across runs by a fingerprint (rule,
enterprise, month, item, facility): a finding still open is updated, not duplicated; a finding
closed after a correction that shows up again is raised anew.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import time
from collections.abc import Iterable

import polars as pl
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from kiln.audit import services as audit
from kiln.audit.events import EventType
from kiln.engine import factorset, screening, screening_anomaly
from kiln.engine.normalise import PERIOD_RE
from kiln.grid.services import monthly_frame
from kiln.intake import deadlines as deposit_deadlines
from kiln.intake.models import ActivityRecord, EvidenceFile, ImportBatch
from kiln.intake.sql_lists import values_subquery
from kiln.registry.models import Enterprise, GovernmentDepartment, Region
from kiln.screening import errors, workflow
from kiln.screening.display import GAP_CHECKS
from kiln.screening.errors import ScreeningError
from kiln.screening.models import (
    LEVEL_ORDER,
    OPEN_STATUSES,
    AnomalyScore,
    Finding,
    FindingEvent,
    RuleVersion,
    ScreeningRun,
    Severity,
)
from kiln.screening.queries import current_rules
from kiln.screening.workflow import Action

logger = logging.getLogger("kiln.screening")
ACTIVITY_COLUMNS = ["credit_code", "period", "item", "quantity", "unit", "source", "facility", "note"]
RULE_FIELDS = (
    "engine_check",
    "severity",
    "sector",
    "item",
    "parameter",
    "low",
    "high",
    "params",
    "message_zh",
    "message_en",
    "route_to",
    "deadline_days",
    "enabled",
    "note",
)
CHUNK = 5000


# --- rules ------------------------------------------------------------------------------------------------


def engine_rule(rule: RuleVersion) -> screening.Rule:
    params = dict(rule.params or {})
    if rule.engine_check == "missing_evidence" and params.get("deadline_days") in (None, ""):
        # the deposit deadline the deposit pages use (KILN_DEPOSIT_DEADLINE_DAYS) unless the rule sets its own
        params["deadline_days"] = deposit_deadlines.deadline_days()
    return screening.Rule(
        rule_id=rule.rule_id,
        check=rule.engine_check,
        severity=rule.severity,
        version=rule.version,
        sector=rule.sector,
        item=rule.item,
        parameter=rule.parameter,
        low=rule.low,
        high=rule.high,
        params=params,
    )


def check_rule(fields: dict) -> None:
    """Refuse a rule the engine could not run (unknown check, bad bounds, bad message template)."""
    check = fields.get("engine_check")
    if check not in screening.CHECKS:
        raise ScreeningError(errors.RULE_UNKNOWN_CHECK, check=check)
    if fields.get("severity") not in screening.SEVERITIES:
        raise ScreeningError(errors.RULE_INVALID, detail="severity")
    if not isinstance(fields.get("params") or {}, dict):
        raise ScreeningError(errors.RULE_INVALID, detail="parameters must be a JSON object")
    start = (fields.get("params") or {}).get("start")
    if start and not (isinstance(start, str) and PERIOD_RE.match(start[:7])):
        raise ScreeningError(errors.RULE_INVALID, detail="start: a month, YYYY-MM")
    low, high = fields.get("low"), fields.get("high")
    if low is not None and high is not None and low > high:
        raise ScreeningError(errors.RULE_INVALID, detail="lower bound above upper bound")
    for name in ("message_zh", "message_en"):
        try:
            fields.get(name, "").format_map(_Placeholders())
        except (ValueError, IndexError, AttributeError) as exc:
            raise ScreeningError(errors.RULE_INVALID, detail=f"{name}: {exc}") from exc
    try:  # the engine itself must accept it
        screening.Rule(
            rule_id="X", check=check, severity=fields["severity"], params=fields.get("params") or {}
        )
    except (TypeError, ValueError) as exc:
        raise ScreeningError(errors.RULE_INVALID, detail=str(exc)) from exc


class _Placeholders(dict):
    def __missing__(self, key):
        return ""


@transaction.atomic
def save_rule(*, actor, rule_id: str, fields: dict, new: bool = False) -> RuleVersion:
    """Save a rule: the newest version changes in place while no run has used it, otherwise (and for a
    new rule) a new version is made. ``fields``: the editable fields of ``RuleVersion``."""
    rule_id = rule_id.strip().upper()
    fields = {k: fields[k] for k in RULE_FIELDS if k in fields}
    check_rule(fields)
    latest = RuleVersion.objects.select_for_update().filter(rule_id=rule_id).order_by("-version").first()
    if new and latest is not None:
        raise ScreeningError(errors.RULE_ID_TAKEN)
    if latest is not None and not latest.used:
        before = _rule_dict(latest)
        for k, v in fields.items():
            setattr(latest, k, v)
        latest.save()
        audit.record(
            EventType.DATA_UPDATED, actor=actor, target=latest, before=before, after=_rule_dict(latest)
        )
        return latest
    version = (latest.version + 1) if latest else 1
    rule = RuleVersion.objects.create(rule_id=rule_id, version=version, created_by=_user(actor), **fields)
    audit.record(EventType.DATA_CREATED, actor=actor, target=rule, after=_rule_dict(rule))
    return rule


def _rule_dict(rule: RuleVersion) -> dict:
    return {"rule_id": rule.rule_id, "version": rule.version, **{k: getattr(rule, k) for k in RULE_FIELDS}}


def update_used_rule(rule: RuleVersion, **changes) -> None:
    """Kept for callers that try: a used version never changes."""
    if rule.used:
        raise ScreeningError(errors.RULE_USED)
    for k, v in changes.items():
        setattr(rule, k, v)
    rule.save()


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


# --- inputs -----------------------------------------------------------------------------------------------


def _scope(region: Region | None, enterprises: QuerySet[Enterprise] | None) -> QuerySet[Enterprise]:
    qs = Enterprise.objects.all()
    if region is not None:
        qs = qs.filter(region__path__startswith=region.path)
    if enterprises is not None:
        qs = qs.filter(pk__in=enterprises.values("pk"))
    return qs


def activity_frame(scope: QuerySet[Enterprise], first: str, last: str) -> pl.DataFrame:
    rows = ActivityRecord.objects.filter(
        current=True, period__gte=first, period__lte=last, enterprise__in=scope.values("pk")
    ).values_list(
        "enterprise__credit_code", "period", "item", "quantity", "unit", "source", "facility", "note"
    )
    schema = {c: pl.String for c in ACTIVITY_COLUMNS} | {"quantity": pl.Float64}
    return pl.DataFrame(list(rows.iterator(chunk_size=20_000)), schema=schema, orient="row")


def enterprise_frame(scope: QuerySet[Enterprise]) -> pl.DataFrame:
    rows = scope.values_list(
        "credit_code", "industry__code", "region__code", "industry__ets_sector", "key_emitter"
    )
    return pl.DataFrame(
        list(rows),
        schema={
            "credit_code": pl.String,
            "industry_code": pl.String,
            "region_code": pl.String,
            "sector": pl.String,
            "obliged": pl.Boolean,
        },
        orient="row",
    )


def evidence_frame(scope: QuerySet[Enterprise], first: str, last: str) -> pl.DataFrame:
    """Evidence of the scope's enterprise-months, plus every other deposit sharing one of their hashes."""
    schema = {"credit_code": pl.String, "period": pl.String, "sha256": pl.String, "kind": pl.String}
    own = list(
        EvidenceFile.objects.filter(
            enterprise__in=scope.values("pk"), period__gte=first, period__lte=last
        ).values_list("enterprise__credit_code", "period", "sha256", "kind")
    )
    hashes = sorted({r[2] for r in own})
    others = (
        list(
            EvidenceFile.objects.filter(sha256__in=values_subquery(hashes))
            .exclude(enterprise__in=scope.values("pk"))
            .values_list("enterprise__credit_code", "period", "sha256", "kind")
        )
        if hashes
        else []
    )
    return pl.DataFrame(own + others, schema=schema, orient="row").unique()


def emissions_frame(activity: pl.DataFrame) -> pl.DataFrame | None:
    """tCO2 per enterprise-month with the engine's default factor set (see ``screening.estimated_emissions``)."""
    result = screening.estimated_emissions(activity, factorset.load())
    if result is None:
        logger.warning("screening without emissions: the data could not be computed")
    return result


def economic_frame(scope: QuerySet[Enterprise], years: Iterable[int]) -> pl.DataFrame:
    from kiln.efficiency.models import EconomicRecord

    rows = EconomicRecord.objects.filter(
        current=True, year__in=list(years), enterprise__in=scope.values("pk")
    ).values_list("enterprise__credit_code", "year", "value_added_10k_cny")
    return pl.DataFrame(
        [(c, y, float(v)) for c, y, v in rows],
        schema={"credit_code": pl.String, "year": pl.Int32, "value_added_10k_cny": pl.Float64},
        orient="row",
    )


def annual_frame(scope: QuerySet[Enterprise], years: Iterable[int]) -> pl.DataFrame:
    """The submitted annual reports' activity totals (``kiln.review``'s figures snapshots) for KLN-XSRC-003."""
    from kiln.review.queries import annual_figures

    return annual_figures(scope, years)


# --- routing ----------------------------------------------------------------------------------------------


class Router:
    """The level a new finding goes to: its rule's level, or the nearest level below (then above) that has
    a government department over the enterprise (a city platform may have no national user)."""

    def __init__(self):
        self.department_paths = set(GovernmentDepartment.objects.values_list("region__path", flat=True))
        self.cache: dict[tuple[str, str], str] = {}

    def level(self, enterprise: Enterprise, preferred: str) -> str:
        key = (enterprise.region.path, preferred)
        if key not in self.cache:
            levels = self._levels_with_departments(enterprise.region.path)
            start = LEVEL_ORDER.index(preferred)
            order = LEVEL_ORDER[start:] + LEVEL_ORDER[:start][::-1]
            self.cache[key] = next((lv for lv in order if lv in levels), preferred)
        return self.cache[key]

    def _levels_with_departments(self, path: str) -> set[str]:
        parts = [p for p in path.split("/") if p]
        found = set()
        for depth in range(len(parts)):
            if "/".join(parts[: depth + 1]) + "/" in self.department_paths:
                found.add(LEVEL_ORDER[min(depth, 2)])
        return found


# --- runs -------------------------------------------------------------------------------------------------


def fingerprint(rule_id: str, credit_code: str, period: str, item: str, facility: str) -> str:
    return hashlib.sha256(f"{rule_id}|{credit_code}|{period}|{item}|{facility}".encode()).hexdigest()


def run_screening(
    *,
    actor,
    trigger: str,
    first: str,
    last: str,
    region: Region | None = None,
    enterprises: QuerySet[Enterprise] | None = None,
    import_batch: ImportBatch | None = None,
    cells: set[tuple[str, str]] | None = None,
    today: datetime.date | None = None,
) -> ScreeningRun:
    """Screen ``first``..``last`` (YYYY-MM) for a region (or the whole platform) and store the findings.

    ``cells`` (credit code, period) narrows the findings kept to those enterprise-months (an import).
    """
    started = time.perf_counter()
    today = today or timezone.localdate()
    scope = _scope(region, enterprises)
    context_first = screening.context_start(first)
    activity = activity_frame(scope, context_first, last)
    rules = current_rules()
    years = range(int(context_first[:4]), int(last[:4]) + 1)
    inputs = {
        "enterprises": enterprise_frame(scope),
        "metered": monthly_frame(scope, context_first, last),
        "evidence": evidence_frame(scope, context_first, last),
        "economic": economic_frame(scope, years),
        "annual": annual_frame(scope, years),
    }
    emissions = emissions_frame(activity) if activity.height else None
    if emissions is not None:
        inputs["emissions"] = emissions
    ctx = screening.build(activity, periods=(first, last), as_of=today, **inputs)
    result = screening.run(ctx, [engine_rule(r) for r in rules])
    scores = screening_anomaly.score(ctx)
    findings = _continue_gaps(result.findings, context_first)
    if cells is not None:
        keep = pl.DataFrame(
            sorted(cells), schema={"credit_code": pl.String, "period": pl.String}, orient="row"
        )
        findings = _in_cells(findings, keep)
        scores = scores.join(keep, on=["credit_code", "period"], how="semi")
    with transaction.atomic():
        run = ScreeningRun.objects.create(
            trigger=trigger,
            region=region,
            first_period=first,
            last_period=last,
            import_batch=import_batch,
            enterprises=len(ctx.codes),
            input_rows=activity.height,
            skipped=[list(s) for s in result.skipped],
            timings={k: round(v, 4) for k, v in result.timings.items()},
            created_by=_user(actor),
        )
        run.rule_versions.set(rules)
        RuleVersion.objects.filter(pk__in=[r.pk for r in rules], used=False).update(used=True)
        skipped = {rule_id for rule_id, _why in result.skipped}
        new, total = _store_findings(
            run, findings, {r.rule_id: r for r in rules}, scope, first, last, cells, skipped=skipped
        )
        _store_scores(run, scores)
        run.findings_new, run.findings_total = new, total
        run.elapsed_ms = int((time.perf_counter() - started) * 1000)
        run.save(update_fields=["findings_new", "findings_total", "elapsed_ms"])
        audit.record(
            EventType.DATA_CREATED,
            actor=actor,
            target=run,
            organisation=None,
            after={
                "trigger": trigger,
                "first": first,
                "last": last,
                "region": region.code if region else "",
                "findings": total,
                "new": new,
                "input_rows": activity.height,
            },
        )
    logger.info(
        "screening run=%s %s..%s rows=%s findings=%s new=%s in %s ms",
        run.pk,
        first,
        last,
        activity.height,
        total,
        new,
        run.elapsed_ms,
    )
    return run


def _gap_end() -> pl.Expr:
    """The last month of a gap finding (``GAP_CHECKS``) from its detail, "first..last" or one month."""
    return pl.col("detail").str.split("..").list.last()


def _in_cells(findings: pl.DataFrame, cells: pl.DataFrame) -> pl.DataFrame:
    """The findings about the given (credit_code, period) cells; a gap finding when one of its months is."""
    gap = pl.col("check").is_in(GAP_CHECKS)
    plain = findings.filter(~gap).join(cells, on=["credit_code", "period"], how="semi")
    gaps = (
        findings.filter(gap)
        .with_row_index("_row")
        .join(cells.rename({"period": "_cell"}), on="credit_code")
        .filter((pl.col("_cell") >= pl.col("period")) & (pl.col("_cell") <= _gap_end()))
        .unique("_row", maintain_order=True)
        .drop("_row", "_cell")
    )
    return pl.concat([plain, gaps]).sort("credit_code", "period", "rule_id", "item", "facility")


def _continue_gaps(findings: pl.DataFrame, axis_start: str) -> pl.DataFrame:
    """A gap reaching back to the run's first month of context may have begun earlier: when a finding
    not yet closed has that gap running up to it, the gap keeps that finding's first month (and so the
    same finding) instead of starting a new one each month the window moves on."""
    clipped = findings.filter(pl.col("check").is_in(GAP_CHECKS) & (pl.col("period") == axis_start))
    if clipped.is_empty():
        return findings
    before = screening.month_text(screening.month_number(axis_start) - 1)
    earlier: dict[tuple[str, str], str] = {}
    for rule_id, code, period, detail in (
        Finding.objects.filter(
            rule_id__in=clipped.get_column("rule_id").unique().to_list(),
            enterprise__credit_code__in=values_subquery(clipped.get_column("credit_code").unique().to_list()),
            period__lt=axis_start,
        )
        .exclude(status=Finding.Status.CLOSED)
        .order_by("period")
        .values_list("rule_id", "enterprise__credit_code", "period", "detail")
    ):
        if (detail or period).split("..")[-1] >= before:
            earlier[(rule_id, code)] = period

    def carried(row: dict) -> dict:
        start = earlier.get((row["rule_id"], row["credit_code"]))
        if start is None or row["period"] != axis_start or row["check"] not in GAP_CHECKS:
            return row
        end = (row["detail"] or row["period"]).split("..")[-1]
        months = float(screening.month_number(end) - screening.month_number(start) + 1)
        return row | {"period": start, "detail": f"{start}..{end}", "value": months, "score": months}

    return pl.DataFrame([carried(r) for r in findings.iter_rows(named=True)], schema=findings.schema)


def _regrade(found: Finding, severity: str) -> FindingEvent | None:
    """A finding found again with another severity (a gap grown past the rule's limit, a rule's new
    version) takes it; an acknowledged warning that became a blocking error is open again."""
    if severity == found.severity:
        return None
    event = FindingEvent(
        finding=found,
        action="regraded",
        from_status=found.status,
        from_level=found.level,
        to_level=found.level,
        comment=f"{found.severity} → {severity}",
    )
    found.severity = severity
    if severity == Severity.ERROR and found.status == Finding.Status.ACKNOWLEDGED:
        found.status, found.closed_at = Finding.Status.OPEN, None
    event.to_status = found.status
    return event


def _store_findings(
    run: ScreeningRun,
    findings: pl.DataFrame,
    rules: dict[str, RuleVersion],
    scope,
    first: str,
    last: str,
    cells,
    skipped: set[str] = frozenset(),
) -> tuple[int, int]:
    ran = [
        rule_id for rule_id in rules if rule_id not in skipped
    ]  # a skipped rule's findings stay as they are
    if findings.height == 0:
        _mark_gone(run, scope, first, last, ran, set(), cells)
        return 0, 0
    keys = (
        findings.select(pl.concat_str("rule_id", "credit_code", "period", "item", "facility", separator="|"))
        .to_series()
        .to_list()
    )
    prints = [
        hashlib.sha256(k.encode()).hexdigest() for k in keys
    ]  # one per finding stored, as ``fingerprint``
    findings = findings.with_columns(pl.Series("fingerprint", prints, dtype=pl.String))
    existing: dict[str, Finding] = {}
    for start in range(0, len(prints), CHUNK):
        for f in (
            Finding.objects.filter(fingerprint__in=values_subquery(prints[start : start + CHUNK]))
            .exclude(status=Finding.Status.CLOSED)
            .order_by("id")
        ):
            existing[f.fingerprint] = f
    codes = findings.get_column("credit_code").unique().to_list()
    enterprises = {
        e.credit_code: e
        for e in Enterprise.objects.filter(credit_code__in=values_subquery(codes)).select_related("region")
    }
    router = Router()
    new: list[Finding] = []
    updated: list[Finding] = []
    regraded: list[FindingEvent] = []
    for row in findings.iter_rows(named=True):  # one row per finding to store: hundreds, not millions
        rule = rules[row["rule_id"]]
        values = {k: row[k] for k in ("value", "low", "high", "reference", "score")}
        found = existing.get(row["fingerprint"])
        if found is not None:
            for k, v in values.items():
                setattr(found, k, v)
            found.detail = (row["detail"] or "")[:200]
            found.rule_version, found.last_run, found.present_in_latest = rule, run, True
            event = _regrade(found, row["severity"] or rule.severity)
            if event is not None:
                regraded.append(event)
            updated.append(found)
            continue
        ent = enterprises.get(row["credit_code"])
        if ent is None:
            continue
        new.append(
            Finding(
                rule_version=rule,
                rule_id=rule.rule_id,
                severity=row["severity"] or rule.severity,  # a check may grade its findings
                family=rule.family,
                enterprise=ent,
                period=row["period"],
                item=row["item"] or "",
                facility=row["facility"] or "",
                detail=(row["detail"] or "")[:200],
                fingerprint=row["fingerprint"],
                status=Finding.Status.OPEN,
                level=router.level(ent, rule.route_to),
                first_run=run,
                last_run=run,
                **values,
            )
        )
    Finding.objects.bulk_create(new, batch_size=1000)
    Finding.objects.bulk_update(
        updated,
        [
            "value",
            "low",
            "high",
            "reference",
            "score",
            "detail",
            "rule_version",
            "last_run",
            "present_in_latest",
            "severity",
            "status",
            "closed_at",
        ],
        batch_size=1000,
    )
    FindingEvent.objects.bulk_create(
        [FindingEvent(finding=f, action="created", to_status=f.status, to_level=f.level) for f in new]
        + regraded,
        batch_size=1000,
    )
    _mark_gone(run, scope, first, last, ran, {f.pk for f in updated} | {f.pk for f in new}, cells)
    return len(new), len(new) + len(updated)


def _mark_gone(run, scope, first, last, rules, seen: set[int], cells) -> None:
    """Open findings of the rules run, in the screened scope, that this run did not find again.

    Yearly findings (period ``YYYY``: annual sums, value added) count as screened when the year's
    December is: only then did the run see the whole year (12 months of context come before ``first``).
    """
    years = [str(y) for y in range(int(first[:4]), int(last[:4]) + 1) if first <= f"{y}-12" <= last]
    qs = Finding.objects.filter(
        Q(period__gte=first, period__lte=last) | Q(period__in=years),
        enterprise__in=scope.values("pk"),
        rule_id__in=list(rules),
        status__in=OPEN_STATUSES,
        present_in_latest=True,
    )
    if cells is not None:
        periods = sorted({p for _, p in cells})
        qs = qs.filter(period__in=periods)
    gone = [pk for pk in qs.values_list("pk", flat=True) if pk not in seen]
    for start in range(0, len(gone), CHUNK):
        Finding.objects.filter(pk__in=gone[start : start + CHUNK]).update(present_in_latest=False)


def _store_scores(run: ScreeningRun, scores: pl.DataFrame) -> None:
    if scores.height == 0:
        return
    ids = dict(
        Enterprise.objects.filter(
            credit_code__in=values_subquery(scores.get_column("credit_code").unique().to_list())
        ).values_list("credit_code", "pk")
    )
    rows = scores.with_row_index("rank", offset=1)
    AnomalyScore.objects.bulk_create(
        [
            AnomalyScore(
                run=run,
                enterprise_id=ids[r["credit_code"]],
                period=r["period"],
                score=float(r["score"]),
                rank=int(r["rank"]),
                driver=r["driver"],
                item=r["item"] or "",
            )
            for r in rows.iter_rows(named=True)
            if r["credit_code"] in ids
        ],
        batch_size=2000,
    )


def screen_batch(batch_id: int, *, actor=None) -> ScreeningRun | None:
    """Screen the enterprise-months an import brought in (called after the import commits)."""
    batch = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.IMPORTED).first()
    if batch is None:
        return None
    pairs = list(
        ActivityRecord.objects.filter(batch=batch).values_list("enterprise__credit_code", "period").distinct()
    )
    if not pairs:
        return None
    cells = {(c, p) for c, p in pairs}
    codes = sorted({c for c, _ in cells})
    periods = sorted({p for _, p in cells})
    enterprises = Enterprise.objects.filter(credit_code__in=values_subquery(codes))
    return run_screening(
        actor=actor,
        trigger=ScreeningRun.Trigger.IMPORT,
        first=periods[0],
        last=periods[-1],
        enterprises=enterprises,
        import_batch=batch,
        cells=cells,
    )


def periods_for(*, period: str | None = None, year: int | None = None) -> tuple[str, str]:
    """(first, last) month for ``--period YYYY-MM`` or ``--year YYYY``."""
    if period:
        if not PERIOD_RE.match(period):
            raise ScreeningError(errors.RUN_PERIOD)
        return period, period
    if year:
        return f"{year:04d}-01", f"{year:04d}-12"
    raise ScreeningError(errors.RUN_PERIOD)


def last_months(months: int, today: datetime.date | None = None) -> tuple[str, str]:
    """The ``months`` complete months before today."""
    today = today or timezone.localdate()
    last = screening.month_text(today.year * 12 + today.month - 2)
    return screening.month_text(screening.month_number(last) - months + 1), last


# --- the workflow -----------------------------------------------------------------------------------------


def _refuse(finding: Finding, action: str, code: str, *, actor, membership) -> ScreeningError:
    """Record a refused attempt (audit log and timeline) in its own transaction, then return the error."""
    with transaction.atomic():
        FindingEvent.objects.create(
            finding=finding,
            action="refused",
            from_status=finding.status,
            from_level=finding.level,
            actor=_user(actor),
            comment=f"{action}: {code}",
        )
        audit.record(
            EventType.ACTION_REFUSED,
            actor=actor,
            target=finding,
            organisation=finding.enterprise,
            before={"status": finding.status, "level": finding.level},
            after={"refused": True, "action": action, "code": code},
        )
    return ScreeningError(
        code,
        action=workflow.Action(action).label if action in workflow.Action.values else action,
        status=finding.get_status_display(),
    )


def transition(
    finding: Finding,
    action: str,
    *,
    actor,
    membership,
    comment: str = "",
    assignee=None,
    deadline: datetime.date | None = None,
    answer_kind: str = "",
    evidence: EvidenceFile | None = None,
    today: datetime.date | None = None,
) -> Finding:
    """Move a finding by one named action; illegal or unauthorised moves are refused and logged."""
    comment = (comment or "").strip()
    code = workflow.refusal(finding, action, membership)
    if code is None and action in workflow.NEEDS_REASON and not comment:
        code = errors.REASON_REQUIRED
    if code is None and action == Action.ASSIGN:
        code = _assignment_problem(finding, assignee, deadline, today or timezone.localdate())
    if (
        code is None
        and action == Action.SEND_BACK
        and deadline is not None
        and deadline < (today or timezone.localdate())
    ):
        code = errors.DEADLINE_INVALID
    if code is not None:
        raise _refuse(finding, action, code, actor=actor, membership=membership)
    with transaction.atomic():
        locked = (
            Finding.objects.select_for_update()
            .select_related("enterprise", "enterprise__region")
            .get(pk=finding.pk)
        )
        code = workflow.refusal(locked, action, membership)
        if code is not None:  # someone else moved it meanwhile
            raise ScreeningError(code, action=action, status=locked.get_status_display())
        before = {
            "status": locked.status,
            "level": locked.level,
            "assignee": locked.assignee_id,
            "deadline": locked.deadline.isoformat() if locked.deadline else None,
        }
        _, target = workflow.ACTIONS[action]
        from_status, from_level = locked.status, locked.level
        locked.status = target
        if action == Action.ESCALATE:
            locked.level = workflow.next_level(locked.level) or locked.level
            locked.assignee, locked.deadline = None, None
        if action == Action.ASSIGN:
            locked.assignee, locked.deadline = assignee, deadline
        if action == Action.SEND_BACK:
            locked.deadline = deadline or locked.deadline
        locked.closed_at = (
            timezone.now()
            if target in (Finding.Status.CLOSED, Finding.Status.DISMISSED, Finding.Status.ACKNOWLEDGED)
            else None
        )
        locked.save()
        FindingEvent.objects.create(
            finding=locked,
            action=action,
            from_status=from_status,
            to_status=locked.status,
            from_level=from_level,
            to_level=locked.level,
            actor=_user(actor),
            comment=comment,
            answer_kind=answer_kind,
            evidence=evidence,
            assignee=locked.assignee if action == Action.ASSIGN else None,
            deadline=locked.deadline,
        )
        audit.record(
            EventType.DATA_UPDATED,
            actor=actor,
            target=locked,
            organisation=locked.enterprise,
            before=before,
            after={
                "action": action,
                "status": locked.status,
                "level": locked.level,
                "assignee": locked.assignee_id,
                "deadline": locked.deadline.isoformat() if locked.deadline else None,
                "comment": comment[:500],
                "evidence": evidence.sha256 if evidence else None,
            },
        )
        if action == Action.ASSIGN and assignee is not None:
            transaction.on_commit(lambda: _notify_assignee(locked.pk))
    return locked


def _assignment_problem(finding: Finding, assignee, deadline, today) -> str | None:
    if deadline is None or deadline < today:
        return errors.DEADLINE_INVALID
    if assignee is None or not any(
        workflow.is_reviewer(m, finding)
        for m in assignee.memberships.filter(active=True).select_related(
            "organisation", "organisation__region"
        )
    ):
        return errors.ASSIGNEE_INVALID
    return None


def _notify_assignee(finding_id: int) -> None:
    from kiln.notifications.services import notify

    finding = Finding.objects.select_related("assignee", "enterprise").get(pk=finding_id)
    if finding.assignee is None:
        return
    notify(
        [finding.assignee],
        kind="screening",
        # once per assignment: assigning the same person again with another deadline notifies again
        key=f"finding:{finding.pk}:assigned:{finding.assignee_id}:{finding.deadline}",
        title=f"{finding.rule_id} · {finding.enterprise.name} · {finding.period}",
        body=f"deadline {finding.deadline}",
        url=f"/screening/findings/{finding.pk}/",
        email=False,
    )


def bulk_transition(
    findings: Iterable[Finding], action: str, *, actor, membership, **kwargs
) -> tuple[int, list]:
    """Apply one action to many findings; returns (moved, [(finding, error)])."""
    moved, refused = 0, []
    for finding in findings:
        try:
            transition(finding, action, actor=actor, membership=membership, **kwargs)
            moved += 1
        except ScreeningError as exc:
            refused.append((finding, exc))
    return moved, refused


def assignable_reviewers(finding: Finding):
    """Users who could take the finding: reviewers at its level over its enterprise."""
    from kiln.accounts.models import Membership

    memberships = Membership.objects.filter(active=True, user__is_active=True).select_related(
        "user", "organisation", "organisation__region"
    )
    return sorted({m.user for m in memberships if workflow.is_reviewer(m, finding)}, key=lambda u: u.username)
