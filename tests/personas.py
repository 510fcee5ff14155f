"""The personas every permission test uses (DESIGN.md rule 5), built on a small region tree.

Region A (city 339900 with county 339902) and region B (city 339800), one province above
both. Enterprise E1 is in A's county, E2 in B.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiln.accounts.models import Membership, User
from kiln.accounts.roles import Role
from kiln.registry import credit_code
from kiln.registry.models import (
    Enterprise,
    GovernmentDepartment,
    Industry,
    Organisation,
    Region,
    ThirdPartyAgency,
)

PASSWORD = "Persona-pass-2026"  # noqa: S105


@dataclass
class World:
    nation: Region
    province: Region
    city_a: Region
    county_a: Region
    city_b: Region
    cement: Industry
    e1: Enterprise
    e2: Enterprise
    gov_a: User
    gov_b: User
    e1_staff: User
    e2_staff: User
    verifier_e1: User
    verifier_unassigned: User
    admin: User


def region(code, name, level, parent=None):
    return Region.objects.create(code=code, name=name, name_en=name, level=level, parent=parent)


def user_with(username, org, role, **extra) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, **extra)
    Membership.objects.create(user=user, organisation=org, role=role)
    return user


def enterprise(name, county, industry, body) -> Enterprise:
    code = credit_code.make("9", "1", county.code, body)
    return Enterprise.objects.create(
        name=name, name_en=name, credit_code=code, region=county, industry=industry
    )


def build_world() -> World:
    nation = region("000000", "中华人民共和国", 0)
    province = region("330000", "浙江省", 1, nation)
    city_a = region("339900", "青溪市", 2, province)
    county_a = region("339902", "溪南区", 3, city_a)
    city_b = region("339800", "白沙市", 2, province)
    section = Industry.objects.create(code="C", name="制造业", name_en="Manufacturing", level=0)
    division = Industry.objects.create(code="C30", name="非金属矿物制品业", level=1, parent=section)
    cement = Industry.objects.create(
        code="C3011", name="水泥制造", level=3, parent=division, ets_sector="cement"
    )
    e1 = enterprise("E1 水泥有限公司", county_a, cement, "MA0000001")
    e2 = enterprise("E2 水泥有限公司", city_b, cement, "MA0000002")
    gov_a_org = GovernmentDepartment.objects.create(kind="government", name="青溪市生态环境局", region=city_a)
    gov_b_org = GovernmentDepartment.objects.create(kind="government", name="白沙市生态环境局", region=city_b)
    body = ThirdPartyAgency.objects.create(
        kind="third_party", name="核查机构甲", region=province, agency_type="verifier"
    )
    other_body = ThirdPartyAgency.objects.create(
        kind="third_party", name="核查机构乙", region=province, agency_type="verifier"
    )
    operator = Organisation.objects.create(kind="operator", name="平台运营", region=nation)
    return World(
        nation=nation,
        province=province,
        city_a=city_a,
        county_a=county_a,
        city_b=city_b,
        cement=cement,
        e1=e1,
        e2=e2,
        gov_a=user_with("gov_a", gov_a_org, Role.GOV_REVIEWER),
        gov_b=user_with("gov_b", gov_b_org, Role.GOV_REVIEWER),
        e1_staff=user_with("e1_staff", e1, Role.ENTERPRISE_MANAGER),
        e2_staff=user_with("e2_staff", e2, Role.ENTERPRISE_MANAGER),
        # Verification assignments arrive with the review workflow; until then both see nothing.
        verifier_e1=user_with("verifier_e1", body, Role.VERIFIER),
        verifier_unassigned=user_with("verifier_x", other_body, Role.VERIFIER),
        admin=user_with("admin", operator, Role.PLATFORM_ADMIN, is_staff=True, is_superuser=True),
    )
