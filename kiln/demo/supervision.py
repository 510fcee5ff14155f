"""The supervision workflow of the demo: annual reports of the last year of data in every state of review.

Everything goes through ``kiln.review``'s own services, as the people would: the enterprise's staff open
their report, run the self-check, explain the warnings and submit; the city (``city`` login) starts,
passes or returns the preliminary review (初审), asks questions, assigns the demo's verification body
(``verifier`` login's 浙江青衡) and draws the on-site sample; the province (``province`` login) does the
final review (终审); the verifier starts the preliminary review of its assignments, records findings and
concludes with a signed report (``evidence.verification_pdf``, stored in the ledger). The consultant
login's agency is engaged by two enterprises. Emission reports (``kiln.reports``) are not printed here:
they are generated when downloaded (a PDF takes about a second, and a report job covers a whole region).

Other enterprises have no demo login: their manager's account is provisioned by the platform admin
(``accounts.services.provision_user``, sign-in by SSO only, no password), so the reports they submit
carry a person's name. Which enterprise ends in which state is decided by ``--seed`` only (a hash of
seed and credit code); what the self-check finds decides the rest (an enterprise whose self-check has
blocking errors stays a draft, and the next candidate takes its place).
"""

from __future__ import annotations

import datetime
import hashlib
from collections import Counter
from dataclasses import dataclass, field

import polars as pl
from django.utils import timezone

from kiln.demo import evidence
from kiln.demo.generate import DemoData
from kiln.demo.samples import enterprise_persona_code
from kiln.demo.steps import Outcome

CITY = "339900"
VERIFIER_BODY = "verifier"  # the persona whose agency verifies
CONSULTANT_BODY = "consultant"
SAMPLE_SIZE = 8  # on-site sampling draw of the city (500 enterprises)

# How many annual reports end in each state, for 500 enterprises (scaled down for smaller cities, at
# least one each). Order matters: candidates are dealt out in this order.
PLAN: tuple[tuple[str, int], ...] = (
    ("approved", 3),  # the city passed the preliminary review, the province approved
    ("approved_verified", 1),  # verified (confirmed) by the demo's verification body, then approved
    ("final", 2),  # the city passed the preliminary review: waiting for the province
    ("final_verified", 1),  # verified with observations, passed by the verifier: waiting for the province
    ("preliminary", 1),  # the city is reviewing
    ("preliminary_question", 1),  # ... and has asked the enterprise a question
    ("verifying", 1),  # the verifier is reviewing (a finding recorded, no conclusion yet)
    ("submitted", 3),  # waiting for the city to start
    ("submitted_verifier", 1),  # waiting for the verifier to start
    ("returned", 2),  # returned by the city, with comments on the data items in question
    ("returned_final", 1),  # returned by the province at the final review
    ("draft", 1),  # self-check run, warnings not yet explained
    ("assigned_only", 1),  # verification assigned, the enterprise has not opened its report yet
)
BLOCKED_KEY_EMITTERS = 1  # key emitters whose self-check finds months without evidence (drafts)
VERIFIED = {"approved_verified", "final_verified", "verifying", "submitted_verifier", "assigned_only"}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
)
GIVEN = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "华", "平", "建国", "海燕", "志强", "晓东", "雪梅", "国华", "丹", "宁", "斌", "琳",
)  # fmt: skip

# What staff write when they explain a self-check warning, by the check's code prefix.
EXPLANATIONS = (
    ("REV-SC-EVIDENCE", "本单位非重点排放单位，电费结算单和燃料发票由财务部按月归档，原件可供现场核查调阅。"),
    ("KLN-COMP-002", "该月结算单因供电公司开具延迟而逾期存证，现已补存，原件已归档。"),
    ("KLN-XSRC", "部分车间由园区转供电，转供电量按园区分摊表计入，与关口表读数存在差异，分摊表已归档。"),
    ("KLN-JUMP", "当月新生产线投产（或设备检修停产），产量与能耗变化属实，有生产日报为证。"),
    ("KLN-PEER", "本单位产品以高附加值品种为主，单位产品能耗与同行业存在差异，属实。"),
    ("KLN-RANGE", "该参数取自当月实测化验结果，已与化验原始记录复核一致。"),
    ("KLN-UNIT", "已核对计量单位，数据按计量台账原样填报。"),
    ("KLN-", "已核实，数据与生产台账和计量记录一致。"),
    ("", "已核实，数据与台账一致。"),
)
SUBMIT_NOTE = "年度排放报告已完成自查，经企业负责人审核后提交。"
QUESTIONS = (
    "请说明本年度外购电量较上年变化的原因，并提供主要用能设备的运行台账。",
    "请补充天然气购销合同及年度结算汇总表，核对表计读数与发票数量是否一致。",
)
RETURN_REASONS = {
    "spike": "该月排放量明显高于其他月份，请核对计量数据与单位，必要时更正后重新提交。",
    "unit_error": "该月数据量级异常（疑似单位填报错误，如千瓦时误填为兆瓦时），请核实更正。",
    "under_report": "外购电量明显低于电网公司计量数据，请核对电费结算单并更正。",
    "implausible_parameter": "实测参数超出合理范围，请提供化验报告原件并核实取值。",
}
RETURN_GENERAL = "报告所附证据不完整：请补充主要排放源的计量台账，并对自查警告作出具体说明后重新提交。"
RETURN_SOURCE = "该排放源的活动数据缺少计量凭证，请补充计量台账或购销凭证，并与生产日报核对。"
RETURN_FINAL = "终审意见：排放量与上年相比变化较大而说明不充分，请补充产量数据和变化原因说明后重新提交。"
VERIFIER_OBSERVATION = "部分月份燃料消耗量以发票数量代替计量数据，建议完善计量器具配备。"
VERIFIER_OBSERVATION_2 = "排放报告中设施边界描述与现场一致；建议补充备用柴油发电机的运行记录。"


@dataclass
class Cast:
    """The demo logins' memberships the workflow acts as (None: that login is missing)."""

    city: object
    province: object
    verifier: object
    admin: object
    manager: object
    reporter: object
    consultant: object


@dataclass
class Tally:
    staff: int = 0
    questions: int = 0
    comments: int = 0
    blocked: list[str] = field(default_factory=list)


def scaled(count: int, enterprises: int) -> int:
    return max(1, round(count * enterprises / 500))


def order_key(seed: int, code: str) -> str:
    """Where an enterprise stands in the demo's queue of candidates: the same for the same seed."""
    return hashlib.sha256(f"{seed}|supervision|{code}".encode()).hexdigest()


def person_name(code: str) -> str:
    digest = int(hashlib.sha256(f"person|{code}".encode()).hexdigest()[:12], 16)
    return SURNAMES[digest % len(SURNAMES)] + GIVEN[(digest // len(SURNAMES)) % len(GIVEN)]


def explanation(code: str) -> str:
    return next(text for prefix, text in EXPLANATIONS if code.startswith(prefix))


def _member(username: str):
    from kiln.accounts.models import Membership

    return (
        Membership.objects.select_related("user", "organisation__region")
        .filter(user__username=username, active=True)
        .first()
    )


def _cast() -> Cast:
    return Cast(
        *(
            _member(u)
            for u in ("city", "province", VERIFIER_BODY, "admin", "enterprise", "reporter", CONSULTANT_BODY)
        )
    )


def candidates(data: DemoData, year: int) -> tuple[list[str], list[tuple[str, str, str, str]], list[str]]:
    """(clean, troubled, key emitters): enterprises ordered by the seed's hash.

    ``clean``: not key emitters, no planted problem in ``year`` (their self-check passes: warnings only);
    ``troubled``: not key emitters with a planted problem in ``year`` that the review can point at
    (code, period, item, kind); ``key emitters``: the ones without the evidence deposits (their self-check
    finds months without evidence: blocking errors).
    """
    seed = data.config.seed
    persona = enterprise_persona_code(data.enterprises)
    planted = data.injected_problems.with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String)).filter(
        pl.col("period").str.starts_with(f"{year}-")
    )
    problem_codes = set(planted["credit_code"].to_list())
    key_emitter = dict(data.enterprises.select("credit_code", "key_emitter").iter_rows())
    codes = sorted((c for c in key_emitter if c != persona), key=lambda c: order_key(seed, c))
    clean = [c for c in codes if not key_emitter[c] and c not in problem_codes]
    keys = [c for c in codes if key_emitter[c]]
    troubled: list[tuple[str, str, str, str]] = []
    for kind in RETURN_REASONS:  # one of each kind first, so the returned reports differ
        rows = planted.filter(pl.col("kind") == kind).iter_rows(named=True)
        for row in sorted(rows, key=lambda r: (order_key(seed, r["credit_code"]), r["period"], r["item"])):
            code = row["credit_code"]
            fresh = all(t[0] != code for t in troubled)
            if fresh and code in key_emitter and not key_emitter[code] and code != persona:
                troubled.append((code, row["period"], row["item"], kind))
    return clean, troubled, keys


# --- the people ------------------------------------------------------------------------------------------


def _staff(enterprise, cast: Cast, tally: Tally):
    """The enterprise manager's account of an enterprise without a demo login (provisioned, SSO only)."""
    from kiln.accounts import services as accounts
    from kiln.accounts.models import Membership, User
    from kiln.accounts.roles import Role

    username = f"e{enterprise.credit_code.lower()}"
    user = User.objects.filter(username=username).first()
    if user is None:
        user = accounts.provision_user(
            actor=cast.admin.user,
            acting=cast.admin,
            username=username,
            display_name=person_name(enterprise.credit_code),
        )
        tally.staff += 1
    existing = Membership.objects.filter(
        user=user, organisation=enterprise, role=Role.ENTERPRISE_MANAGER
    ).first()
    membership = existing or accounts.add_membership(
        user, enterprise, Role.ENTERPRISE_MANAGER, actor=cast.admin.user, acting=cast.admin
    )
    return Membership.objects.select_related("user", "organisation__region").get(pk=membership.pk)


# --- the steps of a report -------------------------------------------------------------------------------


def _prepare(enterprise, period: str, checker, today):
    """Open the report and run the self-check (as ``checker``): (submission, self-check)."""
    from kiln.review import services

    sub = services.open_submission(enterprise, period, actor=checker.user, membership=checker)
    check = services.run_self_check(sub, actor=checker.user, membership=checker, today=today)
    return sub, check


def _explain(sub, check, staff) -> None:
    from kiln.review import services

    for finding in services.open_warnings(sub, check):
        services.acknowledge(
            sub, finding["key"], explanation(finding["code"]), actor=staff.user, membership=staff
        )


def _move(sub, action: str, who, **kwargs):
    from kiln.review import services

    return services.transition(sub, action, actor=who.user, membership=who, **kwargs)


def _comment_items(sub, problem) -> list[tuple[str, str]]:
    """Item comments for a return: on the planted problem's month (and item), else the largest source."""
    items = sub.current_version.figures.get("items", {}) if sub.current_version else {}
    if problem is not None:
        _code, period, item, kind = problem
        out = []
        if f"month:{period}" in items:
            out.append((f"month:{period}", RETURN_REASONS[kind]))
        activity = next((k for k in items if k.startswith(f"activity:{item}:")), None)
        if activity:
            out.append((activity, RETURN_REASONS[kind]))
        if out:
            return out
    sources = sorted(
        (k for k in items if k.startswith("source:")), key=lambda k: -abs(items[k].get("value") or 0)
    )
    return [(sources[0], RETURN_SOURCE)] if sources else []


def _conclude(assignment, sub, cast: Cast, conclusion: str, findings: tuple[str, ...]) -> None:
    from kiln.registry.models import ThirdPartyAgency
    from kiln.review import verification
    from kiln.review.models import VerificationAssignment

    reported = float((sub.current_version.figures or {}).get("total_co2_t") or 0.0)
    agency = ThirdPartyAgency.objects.get(pk=assignment.agency_id)
    qualified = conclusion == VerificationAssignment.Conclusion.QUALIFIED
    verified = round(reported * (1.004 if qualified else 1.0), 2)
    printed = (
        "经核查，排放报告基本符合要求（附核查发现）"
        if qualified
        else "经核查，排放报告符合要求，无实质性错报"
    )
    pdf = evidence.verification_pdf(
        evidence.Verification(
            sub.enterprise.credit_code,
            sub.enterprise.name,
            sub.year,
            agency.name,
            agency.accreditation_no or "",
            printed,
            reported,
            verified,
            findings,
        )
    )
    verification.conclude(
        assignment,
        conclusion,
        printed + "。" + "".join(findings),
        f"核查报告-{sub.enterprise.credit_code}-{sub.year}.pdf",
        pdf,
        verified_total_t=verified,
        actor=cast.verifier.user,
        membership=cast.verifier,
    )


def _assign(enterprise, year: int, cast: Cast, tally: Tally):
    from kiln.registry.models import ThirdPartyAgency
    from kiln.review import verification

    agency = ThirdPartyAgency.objects.get(pk=cast.verifier.organisation_id)
    assignment = verification.assign(enterprise, year, agency, actor=cast.city.user, membership=cast.city)
    return assignment


def play(kind: str, enterprise, year: int, cast: Cast, tally: Tally, today, problem=None) -> str | None:
    """Take one enterprise's annual report to the state ``kind`` names; returns the state it ended in,
    or None when its self-check blocks submission (the report stays a draft)."""
    from kiln.review import services, verification
    from kiln.review.models import Action, VerificationAssignment, VerificationFinding

    staff = _staff(enterprise, cast, tally)
    assignment = _assign(enterprise, year, cast, tally) if kind in VERIFIED else None
    if kind == "assigned_only":
        return "not opened (verification assigned)"
    sub, check = _prepare(enterprise, str(year), staff, today)
    if check.errors:
        tally.blocked.append(enterprise.credit_code)
        return None
    if kind == "draft":
        return sub.state
    _explain(sub, check, staff)
    sub = _move(sub, Action.SUBMIT, staff, note=SUBMIT_NOTE)
    if kind == "submitted" or kind == "submitted_verifier":
        return sub.state
    reviewer = cast.verifier if assignment is not None else cast.city
    sub = _move(sub, Action.START_PRELIMINARY, reviewer)
    if kind == "preliminary":
        return sub.state
    if kind == "preliminary_question":
        question = QUESTIONS[tally.questions % len(QUESTIONS)]
        services.request_information(
            sub, question, today + datetime.timedelta(days=10), actor=cast.city.user, membership=cast.city
        )
        tally.questions += 1
        return sub.state
    if assignment is not None:
        verification.add_finding(
            assignment,
            VERIFIER_OBSERVATION,
            VerificationFinding.Severity.OBSERVATION,
            actor=cast.verifier.user,
            membership=cast.verifier,
        )
        if kind == "verifying":
            return sub.state
        qualified = kind == "final_verified"
        _conclude(
            assignment,
            sub,
            cast,
            VerificationAssignment.Conclusion.QUALIFIED
            if qualified
            else VerificationAssignment.Conclusion.CONFIRMED,
            (VERIFIER_OBSERVATION, VERIFIER_OBSERVATION_2) if qualified else (),
        )
    if kind == "returned":
        comments = _comment_items(sub, problem)
        tally.comments += len(comments)
        sub = _move(
            sub,
            Action.RETURN,
            cast.city,
            comment=RETURN_GENERAL if not problem else "请按审核意见逐项核实更正后重新提交。",
            comments=comments,
        )
        return sub.state
    sub = _move(sub, Action.PASS_PRELIMINARY, reviewer, comment="初审通过，数据与证据一致。")
    if kind in ("final", "final_verified"):
        return sub.state
    if kind == "returned_final":
        sub = _move(
            sub, Action.RETURN, cast.province, comment=RETURN_FINAL, comments=[("total", RETURN_FINAL)]
        )
        tally.comments += 1
        return sub.state
    sub = _move(sub, Action.APPROVE, cast.province, comment="终审通过，报告锁定。")
    return sub.state


# --- the enterprise login's own reports ----------------------------------------------------------------


def _persona(enterprise, year: int, cast: Cast, today, tally: Tally) -> list[str]:
    """The ``enterprise``/``reporter`` logins' company: its annual report a draft whose self-check finds the
    months without evidence; its last monthly report of the year with evidence submitted and returned."""
    from kiln.intake.models import EvidenceFile
    from kiln.review.models import Action

    lines = []
    sub, check = _prepare(enterprise, str(year), cast.reporter, today)
    lines.append(f"annual {year} {sub.state} (self-check: {check.errors} errors, {check.warnings} warnings)")
    months = sorted(
        set(
            EvidenceFile.objects.filter(enterprise=enterprise, period__startswith=f"{year}-").values_list(
                "period", flat=True
            )
        )
    )
    if not months:
        return lines
    period = months[-1]
    sub, check = _prepare(enterprise, period, cast.reporter, today)
    if not check.errors:
        _explain(sub, check, cast.reporter)
        sub = _move(sub, Action.SUBMIT, cast.manager, note="月度报告已自查，提交审核。")
        sub = _move(sub, Action.START_PRELIMINARY, cast.city)
        comments = _comment_items(sub, None)
        tally.comments += len(comments)
        sub = _move(
            sub,
            Action.RETURN,
            cast.city,
            comment="请补充本月入炉煤计量台账和熟料产量日报汇总表，核实后重新提交。",
            comments=comments,
        )
    lines.append(
        f"monthly {period} {sub.state} (self-check: {check.errors} errors, {check.warnings} warnings)"
    )
    return lines


# --- on-site sampling and consultancy -----------------------------------------------------------------


def _sampling(year: int, cast: Cast, seed: int, enterprises: int, today) -> str:
    from kiln.registry.models import Region
    from kiln.review import sampling
    from kiln.review.models import SampledEnterprise, SamplingDraw

    region = Region.objects.get(code=CITY)
    population = len(sampling.population(region, year, cast.city))
    size = min(max(2, round(SAMPLE_SIZE * enterprises / 500)), population)
    if size < 1:
        return "no on-site sampling: no enterprise has data"
    draw = sampling.draw(
        region,
        year,
        size,
        SamplingDraw.Strata.COUNTY,
        actor=cast.city.user,
        membership=cast.city,
        seed=int(order_key(seed, "on-site sampling")[:15], 16),
    )
    drawn = list(draw.sampled.order_by("rank"))
    results = (
        (
            SampledEnterprise.Result.ISSUES,
            "现场核查发现：天然气流量计检定证书过期，部分月份燃气量按发票估算。已责令整改。",
        ),
        (SampledEnterprise.Result.NO_ISSUES, "现场核查：计量器具配备齐全，台账与报送数据一致。"),
    )
    for sampled, (result, note) in zip(drawn[: len(drawn) - 1], results, strict=False):
        sampling.record_result(sampled, result, note, today, actor=cast.city.user, membership=cast.city)
    pending = sum(1 for s in draw.sampled.all() if s.result == SampledEnterprise.Result.PENDING)
    return f"on-site sampling draw #{draw.pk}: {size} of {population} enterprises by county, {pending} still to inspect"


def _engagements(enterprises: list, year: int, cast: Cast) -> int:
    from kiln.registry.models import ThirdPartyAgency
    from kiln.review import verification

    if cast.consultant is None:
        return 0
    agency = ThirdPartyAgency.objects.get(pk=cast.consultant.organisation_id)
    for enterprise in enterprises:
        verification.engage(
            agency,
            enterprise,
            datetime.date(year, 1, 1),
            None,
            "碳排放核算咨询、月度存证与自查整改辅导",
            actor=cast.city.user,
            membership=cast.city,
        )
    return len(enterprises)


def _with_evidence(year: int) -> set[str]:
    from kiln.intake.models import EvidenceFile

    return set(
        EvidenceFile.objects.filter(period__startswith=f"{year}-").values_list(
            "enterprise__credit_code", flat=True
        )
    )


# --- the step ---------------------------------------------------------------------------------------------


def run(data: DemoData, today: datetime.date | None = None) -> Outcome:
    from kiln.registry.models import Enterprise
    from kiln.review.models import State, Submission, VerificationAssignment

    today = today or timezone.localdate()
    year = data.config.years[-1]
    cast = _cast()
    missing = [name for name, m in vars(cast).items() if m is None and name != "consultant"]
    if missing:
        return Outcome(f"skipped: demo logins missing ({', '.join(missing)})", [])
    n = data.config.enterprises
    clean, troubled, keys = candidates(data, year)
    wanted = set(clean) | {t[0] for t in troubled} | set(keys) | {enterprise_persona_code(data.enterprises)}
    by_code = {
        e.credit_code: e for e in Enterprise.objects.filter(credit_code__in=wanted).select_related("region")
    }
    tally = Tally()
    with_evidence = _with_evidence(year)
    queues = {
        "clean": [(c, None) for c in clean],
        "returned": [(t[0], t) for t in troubled],
        # The verifier's not-yet-opened assignment: a key emitter with evidence, so the proofs have something.
        "assigned_only": [(c, None) for c in keys if c in with_evidence],
    }
    chosen: dict[str, list[str]] = {}
    for kind, base in PLAN:
        want = scaled(base, n)
        while len(chosen.setdefault(kind, [])) < want:
            queue = queues.get(kind) or queues["clean"]
            if not queue:
                break
            code, problem = queue.pop(0)
            state = play(kind, by_code[code], year, cast, tally, today, problem)
            if state is not None:
                chosen[kind].append(code)
    # Key emitters without their evidence deposits: their self-check blocks them.
    used = {c for codes in chosen.values() for c in codes}
    for code in [c for c in keys if c not in used][: scaled(BLOCKED_KEY_EMITTERS, n)]:
        staff = _staff(by_code[code], cast, tally)
        _prepare(by_code[code], str(year), staff, today)
    persona = by_code[enterprise_persona_code(data.enterprises)]
    persona_lines = _persona(persona, year, cast, today, tally)
    engaged = _engagements([persona, *(by_code[c] for c in chosen.get("draft", [])[:1])], year, cast)
    sampled = _sampling(year, cast, data.config.seed, n, today)

    annual = Submission.objects.filter(year=year, report_type="annual")
    states = Counter(annual.values_list("state", flat=True))
    assignments = Counter(VerificationAssignment.objects.filter(year=year).values_list("status", flat=True))
    details = [
        ", ".join(f"{states[s]} {s}" for s in State.values if states[s])
        + f"; {Enterprise.objects.count() - annual.count():,} not opened",
        f"verification by the verifier login's body: {assignments.get('assigned', 0)} in progress, "
        f"{assignments.get('concluded', 0)} concluded; {tally.questions} open questions, "
        f"{tally.comments} review comments",
        "enterprise login: " + "; ".join(persona_lines),
        sampled,
        f"{engaged} consultancy engagements (consultant login); {tally.staff} enterprise managers provisioned (SSO)",
    ]
    if tally.blocked:
        details.append(f"{len(tally.blocked)} reports blocked by their self-check (left as drafts)")
    return Outcome(f"{annual.count()} annual reports {year} in review (city, province, verifier)", details)
