"""青溪市 (Qingxi): the fictional prefecture-level city in Zhejiang the demo is set in.

The city code 339900 is unused by GB/T 2260 (Zhejiang's real cities stop at 331100), so demo data can
never be mistaken for a real place. Everything here is fixed: only enterprises are drawn at random.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiln.registry.credit_code import make

PROVINCE = "330000"
CITY = "339900"


@dataclass(frozen=True)
class County:
    code: str
    name: str
    name_en: str
    short: str  # as used in enterprise names: 溪南
    short_en: str
    industry_weight: float  # share of the city's enterprises located here


CITY_NAME = ("青溪市", "Qingxi")
COUNTIES = (
    County("339902", "溪南区", "Xinan District", "溪南", "Xinan", 0.22),
    County("339903", "青湖区", "Qinghu District", "青湖", "Qinghu", 0.14),
    County("339904", "临江区", "Linjiang District", "临江", "Linjiang", 0.18),
    County("339921", "安澜县", "Anlan County", "安澜", "Anlan", 0.17),
    County("339922", "白石县", "Baishi County", "白石", "Baishi", 0.13),
    County("339981", "云岭市", "Yunling", "云岭", "Yunling", 0.16),
)

# Roads for addresses in each county's industrial park.
ROADS = (
    "工业大道",
    "经一路",
    "经二路",
    "纬三路",
    "纬五路",
    "滨江路",
    "创业路",
    "科技大道",
    "园区路",
    "兴业路",
)


@dataclass(frozen=True)
class Body:
    """A non-enterprise organisation. ``credit`` is (authority, type, nine-character body).

    GB 32100-2015 authority/type: 1-1 government organ, 1-2 public institution (事业单位),
    5-2 private non-enterprise unit (民办非企业单位), 9-1 enterprise.
    """

    key: str
    kind: str  # Organisation.Kind
    name: str
    name_en: str
    region: str
    credit: tuple[str, str, str]
    agency_type: str = ""  # ThirdPartyAgency.AgencyType
    accreditation_no: str = ""
    accreditation_scope: str = ""
    accredited_until: str = ""  # ISO date
    address: str = ""

    @property
    def credit_code(self) -> str:
        authority, org_type, body = self.credit
        return make(authority, org_type, self.region, body)


def _department(key, name, name_en, region, body, address):
    return Body(key, "government", name, name_en, region, ("1", "1", body), address=address)


GOVERNMENT = (
    _department(
        "province",
        "浙江省生态环境厅",
        "Department of Ecology and Environment of Zhejiang Province",
        PROVINCE,
        "002482307",
        "杭州市西湖区学院路117号",
    ),
    _department(
        "city",
        "青溪市生态环境局",
        "Qingxi Municipal Bureau of Ecology and Environment",
        CITY,
        "MB1964832",
        "青溪市溪南区市民中心B座",
    ),
    *(
        _department(
            f"county-{c.code}",
            f"青溪市生态环境局{c.short}分局",
            f"Qingxi Bureau of Ecology and Environment, {c.short_en} Branch",
            c.code,
            f"MB19{i:01d}{c.code[-3:]}7"[:9],
            f"{c.name}行政中心",
        )
        for i, c in enumerate(COUNTIES, start=1)
    ),
)

THIRD_PARTIES = (
    Body(
        "verifier-1",
        "third_party",
        "浙江青衡碳核查技术有限公司",
        "Zhejiang Qingheng Carbon Verification Co., Ltd.",
        PROVINCE,
        ("9", "1", "MA2H7K3L5"),
        "verifier",
        "CNAS V0217",
        "发电、水泥熟料、铝冶炼、钢铁、化工、造纸温室气体排放核查",
        "2028-06-30",
        "杭州市滨江区江南大道588号",
    ),
    Body(
        "verifier-2",
        "third_party",
        "浙江绿准低碳认证有限公司",
        "Zhejiang Lvzhun Low-Carbon Certification Co., Ltd.",
        PROVINCE,
        ("9", "1", "MA28Q4N6X"),
        "verifier",
        "CNAS V0304",
        "发电、水泥熟料、纺织、化纤温室气体排放核查",
        "2027-12-31",
        "杭州市拱墅区莫干山路1418号",
    ),
    Body(
        "verifier-3",
        "third_party",
        "青溪市环境科学研究院",
        "Qingxi Academy of Environmental Sciences",
        CITY,
        ("1", "2", "MB1A03752"),
        "verifier",
        "CMA 231112340567",
        "温室气体排放核查；燃料元素碳、低位发热量检测",
        "2029-03-31",
        "青溪市青湖区科创路9号",
    ),
    Body(
        "consultancy-1",
        "third_party",
        "青溪碳汇咨询服务有限公司",
        "Qingxi Carbon Advisory Services Co., Ltd.",
        CITY,
        ("9", "1", "MA2J8T1P4"),
        "consultancy",
        "",
        "碳排放核算咨询、节能诊断",
        "",
        "青溪市溪南区创业路66号",
    ),
    Body(
        "consultancy-2",
        "third_party",
        "浙江绿道低碳发展研究中心",
        "Zhejiang Lüdao Low-Carbon Development Centre",
        PROVINCE,
        ("5", "2", "MJ9B2C7D1"),
        "consultancy",
        "",
        "低碳发展规划、碳效评价咨询",
        "",
        "杭州市上城区钱江路1366号",
    ),
)

GRID = Body(
    "grid",
    "grid",
    "国网浙江省电力有限公司青溪供电公司",
    "State Grid Qingxi Power Supply Company",
    CITY,
    ("9", "1", "MA2K4F0R8"),
    address="青溪市溪南区电力路1号",
)
OPERATOR = Body(
    "operator",
    "operator",
    "青溪数智碳科技有限公司",
    "Qingxi Digital Carbon Technology Co., Ltd.",
    CITY,
    ("9", "1", "MA2L6W3D9"),
    address="青溪市青湖区科创路18号",
)

BODIES = (*GOVERNMENT, *THIRD_PARTIES, GRID, OPERATOR)


def regions() -> list[tuple[str, str, str, int, str]]:
    """(code, name, name_en, level, parent code) for the city and its counties (GB/T 2260 levels)."""
    rows = [(CITY, CITY_NAME[0], CITY_NAME[1], 2, PROVINCE)]
    rows += [(c.code, c.name, c.name_en, 3, CITY) for c in COUNTIES]
    return rows
