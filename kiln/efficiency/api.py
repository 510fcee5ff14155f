"""Carbon-efficiency API: the stored grading of a year, per enterprise, scoped like every other read.

``GET /efficiency/{year}`` lists the counting grading's results for the enterprises the caller may
see (``region`` narrows to a region and below); ``GET /efficiency/{year}/{credit_code}`` gives one
enterprise with the inputs behind its grade. Reads never compute: grade a year with
``kiln efficiency --year`` or the page. Callers who see no enterprise get 404.
"""

from __future__ import annotations

from django.http import Http404
from ninja import Router, Schema
from ninja.pagination import paginate

from kiln.accounts.current import current_membership
from kiln.efficiency import queries
from kiln.efficiency.errors import reason_text
from kiln.efficiency.models import EfficiencyResult
from kiln.registry.models import Organisation
from kiln.registry.queries import visible_regions

router = Router(tags=["efficiency"])


class ResultOut(Schema):
    credit_code: str
    name: str
    region_code: str
    industry_key: str
    period: str
    l: float | None  # noqa: E741 (the standard calls it L)
    level: str
    industry_mean_l: float | None
    industry_n: int
    k: float | None
    grade: int | None
    neutral_rate: float | None
    neutral_mark: str
    neutral_provisional: bool = True
    estimated: bool
    reason: str
    reason_message: str

    @staticmethod
    def resolve_credit_code(obj: EfficiencyResult) -> str:
        return obj.enterprise.credit_code or ""

    @staticmethod
    def resolve_name(obj: EfficiencyResult) -> str:
        return obj.enterprise.name

    @staticmethod
    def resolve_region_code(obj: EfficiencyResult) -> str:
        return obj.enterprise.region.code

    @staticmethod
    def resolve_l(obj: EfficiencyResult) -> float | None:
        return obj.l_value

    @staticmethod
    def resolve_k(obj: EfficiencyResult) -> float | None:
        return obj.k_value

    @staticmethod
    def resolve_reason_message(obj: EfficiencyResult) -> str:
        return reason_text(obj.reason)


class InputsOut(Schema):
    co2_gross_t: float | None
    co2_process_t: float
    process_included: bool
    green_mwh: float
    co2_avoided_t: float
    grid_factor_t_per_mwh: float | None
    sinks_t: float
    co2_net_t: float | None
    tce_total: float
    value_added_10k_cny: float | None
    economic_record_version: int | None
    calculation_run: int
    calculation_inputs_sha256: str
    config_version: int
    config_source: str
    mean_kind: str
    industry_level: str


class ResultDetailOut(ResultOut):
    inputs: InputsOut
    rolling: list[ResultOut]


def _member(request):
    membership = current_membership(request)
    if queries.is_overseer(membership):
        return membership
    if membership is not None and membership.organisation.kind == Organisation.Kind.ENTERPRISE:
        return membership
    raise Http404


@router.get("/{int:year}", response=list[ResultOut])
@paginate
def list_results(request, year: int, region: str | None = None, grade: int | None = None):
    membership = _member(request)
    if region and not visible_regions(membership).filter(code=region).exists():
        raise Http404
    qs = queries.in_region(queries.results(membership, year), region)
    if grade is not None:
        qs = qs.filter(grade=grade)
    return qs


@router.get("/{int:year}/{credit_code}", response=ResultDetailOut)
def get_result(request, year: int, credit_code: str):
    membership = _member(request)
    result = (
        queries.results(membership, year)
        .select_related("run__calculation", "economic_record")
        .filter(enterprise__credit_code=credit_code)
        .first()
    )
    if result is None:
        raise Http404
    rolling = queries.results(membership, year, period_kind=EfficiencyResult.PeriodKind.ROLLING).filter(
        enterprise=result.enterprise
    )
    config, calculation = result.run.config, result.run.calculation
    detail = {
        "rolling": list(rolling),
        "inputs": {
            "co2_gross_t": result.co2_gross_t,
            "co2_process_t": result.co2_process_t,
            "process_included": config.include_process,
            "green_mwh": result.green_mwh,
            "co2_avoided_t": result.co2_avoided_t,
            "grid_factor_t_per_mwh": result.run.grid_factor,
            "sinks_t": result.sinks_t,
            "co2_net_t": result.co2_net_t,
            "tce_total": result.tce_total,
            "value_added_10k_cny": result.value_added_10k_cny,
            "economic_record_version": result.economic_record.version if result.economic_record else None,
            "calculation_run": calculation.pk,
            "calculation_inputs_sha256": calculation.inputs_sha256,
            "config_version": config.version,
            "config_source": config.source,
            "mean_kind": config.mean_kind,
            "industry_level": config.industry_level,
        },
    }
    vars(result).update(detail)  # the schema reads them as attributes
    return result
