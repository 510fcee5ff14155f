"""``kiln demo-data``: files, database load, personas, --if-empty and --files-only."""

import json

import polars as pl
import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from kiln.accounts.models import Membership
from kiln.demo.generate import DemoConfig, generate
from kiln.demo.load import DemoLoadError, load
from kiln.demo.personas import DEMO_PASSWORD, PERSONAS
from kiln.registry.models import (
    Enterprise,
    Facility,
    GovernmentDepartment,
    Organisation,
    Region,
    ThirdPartyAgency,
)

ARGS = ("--enterprises", "25", "--years", "1", "--seed", "3")


@pytest.fixture
def demo(db, reference_data, tmp_path):
    call_command("demo_data", *ARGS, "--out", str(tmp_path))
    return tmp_path


def test_command_writes_files_and_loads_the_city(demo):
    manifest = json.loads((demo / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["arguments"]["enterprises"] == 25 and manifest["seed"] == 3
    assert Enterprise.objects.count() == 25
    assert Facility.objects.count() == manifest["files"]["facilities.csv"]["rows"]
    city = Region.objects.get(code="339900")
    assert city.parent.code == "330000" and city.path.endswith("330000/339900/")
    counties = Region.objects.filter(parent=city)
    assert counties.count() == 6 and all(r.path == city.path + r.code + "/" for r in counties)
    assert GovernmentDepartment.objects.count() == 8
    assert ThirdPartyAgency.objects.filter(agency_type="verifier").count() == 3
    assert Organisation.objects.get(kind="grid").name == "国网浙江省电力有限公司青溪供电公司"
    enterprise = Enterprise.objects.select_related("industry", "region").first()
    assert enterprise.region.parent == city and enterprise.industry.code and enterprise.founded
    assert enterprise.facilities.exists()


def test_every_persona_can_log_in(demo):
    request = RequestFactory().post("/accounts/login/")
    for username, *_ in PERSONAS:
        assert authenticate(request, username=username, password=DEMO_PASSWORD) is not None, username
    cement = Membership.objects.get(user__username="enterprise").organisation.enterprise
    assert cement.industry.code == "C3011" and cement.key_emitter
    county = Membership.objects.get(user__username="county").organisation
    assert county.region.code == "339902"


def test_if_empty_does_nothing_when_enterprises_exist(demo, capsys):
    call_command("demo_data", *ARGS, "--seed", "4", "--out", str(demo / "again"), "--if-empty")
    assert "already exist" in capsys.readouterr().out
    assert Enterprise.objects.count() == 25 and not (demo / "again").exists()
    with pytest.raises(CommandError):
        call_command("demo_data", *ARGS, "--out", str(demo / "again"))


def test_files_only_leaves_the_database_alone(db, tmp_path):
    call_command("demo_data", *ARGS, "--out", str(tmp_path), "--files-only")
    assert (tmp_path / "activity.csv").exists()
    assert not Enterprise.objects.exists() and not Region.objects.filter(code="339900").exists()


def test_future_years_are_refused(db, tmp_path):
    with pytest.raises(CommandError, match="not a complete year"):
        call_command("demo_data", *ARGS, "--end-year", "2999", "--out", str(tmp_path), "--files-only")


def test_an_unknown_industry_fails_loudly(db, reference_data):
    data = generate(DemoConfig(enterprises=10, years=(2024,), seed=1))
    data.enterprises = data.enterprises.with_columns(pl.lit("C999").alias("industry_code"))
    with pytest.raises(DemoLoadError, match="C999"):
        load(data)
    assert not Region.objects.filter(code="339900").exists()  # all or nothing


def test_loading_costs_the_same_queries_for_more_enterprises(db, reference_data):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    class Undo(Exception):
        pass

    def queries(n):
        with CaptureQueriesContext(connection) as captured:
            try:
                with transaction.atomic():
                    load(generate(DemoConfig(enterprises=n, years=(2024,), seed=1)))
                    raise Undo
            except Undo:
                pass
        return len(captured)

    few, many = queries(20), queries(200)
    # Bulk statements, not one per row: SQLite caps a statement at 999 parameters, so the
    # ~3 facilities per enterprise still take a few more batches for ten times the enterprises.
    assert many - few <= 8, (few, many)


def test_a_persona_logs_in_through_the_login_page(demo, client):
    from django.urls import reverse

    response = client.post(reverse("login"), {"login": "verifier", "password": DEMO_PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_the_city_ships_its_county_boundaries(demo):
    from kiln.demo.boundaries import qingxi_counties, qingxi_geojson_bytes
    from kiln.monitoring.models import RegionMap

    region_map = RegionMap.objects.get(region__code="339900", current=True)
    assert region_map.feature_count == 6
    assert {f["properties"]["code"] for f in region_map.geojson["features"]} == {
        "339902", "339903", "339904", "339921", "339922", "339981"}
    assert qingxi_geojson_bytes() == qingxi_geojson_bytes()  # deterministic
    rings = [f["geometry"]["coordinates"][0] for f in qingxi_counties()["features"]]
    assert all(ring[0] == ring[-1] and len(ring) > 20 for ring in rings)
