"""The shipped GB/T 2260 regions and GB/T 4754-2017 industries."""

import csv
import io

import pytest
from django.core.management import call_command

from kiln.registry.models import Industry, Region
from kiln.registry.reference import load_reference_data, reference_file

ETS_CLASSES = {
    "D4411": ("火力发电", "power"),
    "D4412": ("热电联产", "power"),
    "C3110": ("炼铁", "steel"),
    "C3120": ("炼钢", "steel"),
    "C3011": ("水泥制造", "cement"),
    "C3216": ("铝冶炼", "aluminium"),
}
PROVINCES = {
    "110000": "北京市",
    "120000": "天津市",
    "130000": "河北省",
    "140000": "山西省",
    "150000": "内蒙古自治区",
    "210000": "辽宁省",
    "220000": "吉林省",
    "230000": "黑龙江省",
    "310000": "上海市",
    "320000": "江苏省",
    "330000": "浙江省",
    "340000": "安徽省",
    "350000": "福建省",
    "360000": "江西省",
    "370000": "山东省",
    "410000": "河南省",
    "420000": "湖北省",
    "430000": "湖南省",
    "440000": "广东省",
    "450000": "广西壮族自治区",
    "460000": "海南省",
    "500000": "重庆市",
    "510000": "四川省",
    "520000": "贵州省",
    "530000": "云南省",
    "540000": "西藏自治区",
    "610000": "陕西省",
    "620000": "甘肃省",
    "630000": "青海省",
    "640000": "宁夏回族自治区",
    "650000": "新疆维吾尔自治区",
    "710000": "台湾省",
    "810000": "香港特别行政区",
    "820000": "澳门特别行政区",
}
ZHEJIANG_CITIES = {
    "330100": "杭州市",
    "330200": "宁波市",
    "330300": "温州市",
    "330400": "嘉兴市",
    "330500": "湖州市",
    "330600": "绍兴市",
    "330700": "金华市",
    "330800": "衢州市",
    "330900": "舟山市",
    "331000": "台州市",
    "331100": "丽水市",
}


def _rows(name):
    return list(csv.DictReader(io.StringIO(reference_file(name).decode("utf-8"))))


def test_files_are_well_formed():
    for name in ("regions.csv", "industries.csv"):
        rows = _rows(name)
        seen = set()
        for row in rows:
            assert row["parent_code"] == "" or row["parent_code"] in seen, row  # parents come first
            assert row["name"] and row["name_en"], row
            seen.add(row["code"])
        assert len(seen) == len(rows)


def test_region_file_has_nothing_fictional():
    codes = {r["code"] for r in _rows("regions.csv")}
    assert codes == {"000000"} | set(PROVINCES) | set(ZHEJIANG_CITIES)


@pytest.mark.django_db
def test_load_creates_everything_and_is_idempotent():
    first = load_reference_data()
    assert first["regions"] == {"created": 46, "updated": 0, "unchanged": 0}
    assert first["industries"]["created"] == len(_rows("industries.csv"))
    second = load_reference_data()
    assert second["regions"] == {"created": 0, "updated": 0, "unchanged": 46}
    assert second["industries"]["created"] == second["industries"]["updated"] == 0
    assert Region.objects.count() == 46


@pytest.mark.django_db
def test_all_provinces_and_zhejiang_cities():
    load_reference_data()
    provinces = dict(Region.objects.filter(level=Region.Level.PROVINCE).values_list("code", "name"))
    assert provinces == PROVINCES
    assert all(r.parent.code == "000000" for r in Region.objects.filter(level=1).select_related("parent"))
    cities = Region.objects.filter(parent__code="330000")
    assert dict(cities.values_list("code", "name")) == ZHEJIANG_CITIES
    assert Region.objects.get(code="330500").path == "000000/330000/330500/"


@pytest.mark.django_db
def test_industry_tree_and_ets_sectors():
    load_reference_data()
    sections = Industry.objects.filter(level=Industry.Level.SECTION)
    assert "".join(sections.order_by("code").values_list("code", flat=True)) == "ABCDEFGHIJKLMNOPQRST"
    divisions = set(Industry.objects.filter(level=1).values_list("code", flat=True))
    assert {f"C{n}" for n in range(13, 44)} | {"D44", "D45", "D46"} <= divisions
    assert Industry.objects.filter(level=2, code__startswith="C").count() == 179  # GB/T 4754-2017 中类
    assert Industry.objects.filter(level=2, code__startswith="D").count() == 9
    marked = {i.code: (i.name, i.ets_sector) for i in Industry.objects.exclude(ets_sector="")}
    assert marked == ETS_CLASSES
    cement = Industry.objects.select_related("parent__parent__parent").get(code="C3011")
    assert [cement.parent.code, cement.parent.parent.code, cement.parent.parent.parent.code] == [
        "C301",
        "C30",
        "C",
    ]
    assert cement.parent.name == "水泥、石灰和石膏制造"


@pytest.mark.django_db
def test_load_over_existing_world_keeps_fictional_regions(world):
    load_reference_data()
    world.city_a.refresh_from_db()
    assert world.city_a.path == "000000/330000/339900/"  # the demo's fictional city is left alone
    cement = Industry.objects.get(code="C3011")
    assert cement.pk == world.cement.pk and cement.parent.code == "C301"  # re-hung under its group
    assert Region.objects.get(code="330000").name_en == "Zhejiang Province"


@pytest.mark.django_db
def test_management_command(capsys):
    call_command("load_reference")
    out = capsys.readouterr().out
    assert "regions: 46 created" in out
