"""On-site sampling (市级现场抽查): a reproducible, stratified, risk-weighted random draw of enterprises.

The draw:

1. **Population**: the enterprises of the region (a city or a county) with reported data for the
   year, sorted by credit code.
2. **Risk weight** per enterprise (``weights`` says how much each part counts; stored with the draw)::

       weight = size_factor × (1 + findings × f + returns × r + issues × i + anomaly × a)

   ``findings``: warnings and errors of the latest self-check of the year plus the year's screening
   findings (``kiln.screening``, not dismissed); ``anomaly``: the highest anomaly score of the year's
   months (capped at 10, scaled to 0–1); ``returns``:
   times a report of the enterprise was returned for correction; ``issues``: earlier on-site checks
   that found issues; ``size_factor``: by enterprise size.
3. **Allocation**: the sample size is split over the strata (county or GB/T 4754 division) in proportion
   to their populations, largest remainders first.
4. **Within a stratum**: weighted sampling without replacement by Efraimidis–Spirakis keys
   ``u ** (1 / weight)`` with ``u`` from NumPy's PCG64 generator seeded with the draw's seed, in the
   population's order; the largest keys are drawn.

Everything that decided the draw (seed, weights, the population with each weight, allocation) is stored,
so ``verify(draw)`` recomputes it and must find the same enterprises. A draw is never changed or
repeated in place: drawing again makes a new draw that names the one it replaces and says why.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets

import numpy as np
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef
from django.utils import timezone

from kiln.audit.events import EventType
from kiln.audit.services import record
from kiln.intake.models import ActivityRecord
from kiln.registry.models import Enterprise, Region
from kiln.registry.queries import visible_enterprises
from kiln.review import errors, workflow
from kiln.review.errors import ReviewError
from kiln.review.models import SampledEnterprise, SamplingDraw, SelfCheck, Transition
from kiln.review.services import audit_refusal, refusals_audited

DEFAULT_WEIGHTS = {
    "findings": 0.25,
    "returns": 1.0,
    "issues": 2.0,
    "anomaly": 2.0,
    "size": {"large": 3.0, "medium": 2.0, "small": 1.0, "micro": 0.5},
}


def _screening_risk(enterprise_ids: list[int], year: int) -> dict[int, tuple[int, float]]:
    """Screening findings of the year (not dismissed) and the highest anomaly score, per enterprise.

    The anomaly score is capped at 10 and scaled to 0–1, so one extreme month cannot swamp the rest.
    """
    from kiln.screening.models import AnomalyScore, Finding

    counts = dict(
        Finding.objects.filter(enterprise_id__in=enterprise_ids, period__startswith=str(year))
        .exclude(status=Finding.Status.DISMISSED)
        .values_list("enterprise_id")
        .annotate(n=Count("id"))
    )
    scores = dict(
        AnomalyScore.objects.filter(enterprise_id__in=enterprise_ids, period__startswith=str(year))
        .values_list("enterprise_id")
        .annotate(top=Max("score"))
    )
    return {i: (counts.get(i, 0), min(max(scores.get(i) or 0.0, 0.0), 10.0) / 10.0) for i in enterprise_ids}


def population(region: Region, year: int, membership) -> list[Enterprise]:
    has_data = ActivityRecord.objects.filter(
        enterprise=OuterRef("pk"), current=True, period__startswith=f"{year}-"
    )
    return list(
        visible_enterprises(membership)
        .filter(region__path__startswith=region.path)
        .filter(Exists(has_data))
        .select_related("region", "industry")
        .order_by("credit_code")
    )


def risk_frame(enterprises: list[Enterprise], year: int, stratify_by: str, weights: dict) -> list[list]:
    """``[[enterprise_id, credit_code, stratum, weight], ...]`` in population order."""
    ids = [e.pk for e in enterprises]
    findings: dict[int, int] = {}
    for check in (
        SelfCheck.objects.filter(submission__enterprise_id__in=ids, submission__year=year)
        .order_by("submission__enterprise_id", "-run_at")
        .values("submission__enterprise_id", "errors", "warnings")
    ):
        findings.setdefault(check["submission__enterprise_id"], check["errors"] + check["warnings"])
    returns = dict(
        Transition.objects.filter(submission__enterprise_id__in=ids, action="return")
        .values_list("submission__enterprise_id")
        .annotate(n=Count("id"))
    )
    issues = dict(
        SampledEnterprise.objects.filter(enterprise_id__in=ids, result=SampledEnterprise.Result.ISSUES)
        .values_list("enterprise_id")
        .annotate(n=Count("id"))
    )
    screening = _screening_risk(ids, year)
    size = weights.get("size", DEFAULT_WEIGHTS["size"])
    frame = []
    for e in enterprises:
        extra_findings, anomaly = screening.get(e.pk, (0, 0.0))
        score = (
            1.0
            + weights["findings"] * (findings.get(e.pk, 0) + extra_findings)
            + weights["returns"] * returns.get(e.pk, 0)
            + weights["issues"] * issues.get(e.pk, 0)
            + weights["anomaly"] * anomaly
        )
        stratum = e.region.code if stratify_by == SamplingDraw.Strata.COUNTY else e.industry.code[:3]
        frame.append([e.pk, e.credit_code, stratum, round(float(size.get(e.size, 1.0)) * score, 6)])
    return frame


def allocate(counts: dict[str, int], size: int) -> dict[str, int]:
    """Split ``size`` over strata proportionally to ``counts`` (largest remainder; never above a stratum's count)."""
    total = sum(counts.values())
    exact = {s: size * n / total for s, n in counts.items()}
    out = {s: min(int(math.floor(v)), counts[s]) for s, v in exact.items()}
    for s in sorted(counts, key=lambda s: (-(exact[s] - math.floor(exact[s])), s)):
        if sum(out.values()) >= size:
            break
        if out[s] < counts[s]:
            out[s] += 1
    while sum(out.values()) < size:  # caps left some over: give them to strata with room, biggest first
        s = max((s for s in counts if out[s] < counts[s]), key=lambda s: (counts[s] - out[s], s))
        out[s] += 1
    return out


def select(frame: list[list], seed: int, allocation: dict[str, int]) -> list[tuple[int, str, float, float]]:
    """(enterprise_id, stratum, weight, key) drawn, in drawing order (by stratum, then key descending)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    u = rng.random(len(frame))
    weights = np.array([row[3] for row in frame], dtype=np.float64)
    keys = np.power(u, 1.0 / np.maximum(weights, 1e-9))
    chosen = []
    for stratum in sorted(allocation):
        members = [i for i, row in enumerate(frame) if row[2] == stratum]
        members.sort(key=lambda i: -keys[i])
        chosen += [
            (frame[i][0], stratum, frame[i][3], float(keys[i])) for i in members[: allocation[stratum]]
        ]
    return chosen


def frame_sha256(frame: list[list]) -> str:
    return hashlib.sha256(json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def draw(
    region: Region,
    year: int,
    size: int,
    stratify_by: str,
    *,
    actor,
    membership,
    request=None,
    seed: int | None = None,
    weights: dict | None = None,
    supersedes: SamplingDraw | None = None,
    reason: str = "",
) -> SamplingDraw:
    """Draw a sample; to draw again for the same region and year, pass the draw it ``supersedes`` and a reason."""
    try:
        with transaction.atomic():
            if region.level not in (Region.Level.CITY, Region.Level.COUNTY):
                raise ReviewError(errors.NOT_A_CITY)
            level = workflow.reviewer_level(membership, _RegionProbe(region))
            if level is None:
                raise ReviewError(errors.NOT_YOUR_TURN)
            if supersedes is not None:
                supersedes = SamplingDraw.objects.select_for_update().get(pk=supersedes.pk)
                if hasattr(supersedes, "superseded_by"):
                    raise ReviewError(errors.SUPERSEDED)
                if not reason.strip():
                    raise ReviewError(errors.REASON_REQUIRED)
            weights = {**DEFAULT_WEIGHTS, **(weights or {})}
            enterprises = population(region, year, membership)
            if not 1 <= size <= len(enterprises):
                raise ReviewError(errors.SAMPLE_SIZE, population=len(enterprises))
            seed = seed if seed is not None else secrets.randbits(62)
            frame = risk_frame(enterprises, year, stratify_by, weights)
            counts: dict[str, int] = {}
            for row in frame:
                counts[row[2]] = counts.get(row[2], 0) + 1
            allocation = allocate(counts, size)
            result = SamplingDraw.objects.create(
                region=region,
                year=year,
                size=size,
                stratify_by=stratify_by,
                seed=seed,
                weights=weights,
                frame=frame,
                population_sha256=frame_sha256(frame),
                allocation=allocation,
                supersedes=supersedes,
                reason=reason.strip()[:4000],
                drawn_by=actor,
            )
            SampledEnterprise.objects.bulk_create(
                SampledEnterprise(draw=result, enterprise_id=eid, stratum=stratum, weight=weight, rank=rank)
                for rank, (eid, stratum, weight, _key) in enumerate(select(frame, seed, allocation), start=1)
            )
            record(
                EventType.DATA_CREATED,
                actor=actor,
                target=result,
                request=request,
                after={
                    "region": region.code,
                    "year": year,
                    "size": size,
                    "strata": stratify_by,
                    "seed": seed,
                    "population": len(frame),
                    "population_sha256": result.population_sha256,
                    "supersedes": supersedes.pk if supersedes else None,
                    "reason": result.reason,
                    "drawn": list(result.sampled.values_list("enterprise__credit_code", flat=True)),
                },
            )
            return result
    except ReviewError as exc:
        audit_refusal(
            exc,
            actor=actor,
            target=supersedes or ("registry.region", region.pk, region.code),
            action="sampling_draw",
            request=request,
            year=year,
            size=size,
        )
        raise


class _RegionProbe:
    """Lets ``workflow.reviewer_level`` ask 'does this reviewer cover this region?' as for an enterprise in it."""

    def __init__(self, region: Region):
        self.region = region


def verify(draw_: SamplingDraw) -> bool:
    """Recompute the draw from what it stored: the same enterprises in the same order."""
    if frame_sha256(draw_.frame) != draw_.population_sha256:
        return False
    expected = [eid for eid, *_rest in select(draw_.frame, draw_.seed, draw_.allocation)]
    return expected == list(draw_.sampled.order_by("rank").values_list("enterprise_id", flat=True))


@refusals_audited("sampling_result")
def record_result(
    sampled: SampledEnterprise, result: str, note: str, inspected_on, *, actor=None, request=None, membership
) -> SampledEnterprise:
    with transaction.atomic():
        current = (
            SampledEnterprise.objects.select_for_update(of=("self",))
            .select_related("draw__region", "enterprise__region")
            .get(pk=sampled.pk)
        )
        if workflow.reviewer_level(membership, current.enterprise) is None:
            raise ReviewError(errors.NOT_YOUR_TURN)
        if result not in SampledEnterprise.Result.values or result == SampledEnterprise.Result.PENDING:
            raise ReviewError(errors.BAD_RESULT)
        before = {"result": current.result, "note": current.result_note}
        current.result, current.result_note, current.inspected_on = result, (note or "")[:8000], inspected_on
        current.recorded_by, current.recorded_at = actor, timezone.now()
        current.save(update_fields=["result", "result_note", "inspected_on", "recorded_by", "recorded_at"])
        record(
            EventType.DATA_UPDATED,
            actor=actor,
            target=current,
            organisation=current.enterprise,
            request=request,
            before=before,
            after={"result": result, "note": current.result_note, "inspected_on": inspected_on},
        )
    return current


def visible_draws(membership):
    regions = Region.objects.filter(pk__in=_visible_region_ids(membership))
    return SamplingDraw.objects.filter(region__in=regions).select_related("region", "drawn_by", "supersedes")


def _visible_region_ids(membership):
    """Regions whose draws the membership sees: a reviewer's, or a read-only viewer's of supervision
    (drawing and recording results stay with reviewers: ``draw`` and ``record_result`` check)."""
    from kiln.registry.queries import visible_regions
    from kiln.review.queries import can_view_supervision

    return (
        visible_regions(membership).values("pk")
        if can_view_supervision(membership)
        else Region.objects.none().values("pk")
    )
