"""Pages, API and CLI of the factor library and calculation runs, with outsiders getting 404."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from kiln.accounting import services
from kiln.accounting.models import CalculationRun
from kiln.factors.models import FactorSet
from tests.accounting.conftest import TOTAL_T


@pytest.fixture
def run(data, factor_sets):
    return services.calculate(
        actor=data.gov_a, region=data.city_a, year=2024, factor_set=factor_sets["CN-DEFAULT-2024"]
    )


def test_factor_library_pages_show_sources(client, world, factor_sets):
    client.force_login(world.gov_a)
    listing = client.get(reverse("factors:list"))
    assert "CN-DEFAULT-2024" in listing.text
    fs = factor_sets["CN-DEFAULT-2024"]
    detail = client.get(reverse("factors:detail", args=[fs.pk]), {"item": "raw_coal"})
    assert "20.908" in detail.text and "book118" in detail.text
    export = client.get(reverse("factors:export", args=[fs.pk]))
    assert export.content.startswith(b"\xef\xbb\xbfitem,parameter")


def test_upload_creates_a_new_version_and_the_diff_shows_the_change(client, world, factor_sets):
    fs = factor_sets["CN-DEFAULT-2024"]
    client.force_login(world.admin)
    csv = client.get(reverse("factors:export", args=[fs.pk])).content.decode("utf-8-sig")
    csv = csv.replace("raw_coal,ncv,,,,20.908", "raw_coal,ncv,,,,21.5")
    response = client.post(
        reverse("factors:upload"),
        {"code": fs.code, "name": "2025 update", "source": "provincial notice", "default_grid_series": "MEE_ETS_GRID/CN",
         "file": _named(csv.encode("gbk"), "v2.csv")},
    )
    assert response.status_code == 302
    v2 = FactorSet.objects.get(code=fs.code, version=2)
    assert v2.supersedes == fs
    diff = client.get(reverse("factors:diff"), {"a": fs.pk, "b": v2.pk})
    assert "21.5" in diff.text and "20.908" in diff.text


def test_a_bad_factor_file_is_refused_with_reasons(client, world, factor_sets):
    client.force_login(world.admin)
    bad = b"item,parameter,value,unit,source,confidence\nraw_coal,ncv,-3,GJ/t,x,S\nunobtainium,ncv,1,GJ/t,x,S\n"
    response = client.post(
        reverse("factors:upload"),
        {"code": "bad-set", "name": "x", "source": "x", "default_grid_series": "MEE_ETS_GRID/CN",
         "file": _named(bad, "bad.csv")},
    )
    assert response.status_code == 422
    assert "FAC-SET-INVALID" in response.text and "unknown item" in response.text
    assert not FactorSet.objects.filter(code="bad-set").exists()


def test_only_factor_managers_may_upload(client, world):
    for persona in (world.gov_a, world.e1_staff, world.verifier_e1):
        client.force_login(persona)
        assert client.get(reverse("factors:upload")).status_code == 404


def test_run_pages_for_the_region_and_404_for_others(client, world, run):
    client.force_login(world.gov_a)
    assert str(run.pk) in client.get(reverse("accounting:run-list")).text
    detail = client.get(reverse("accounting:run-detail", args=[run.pk]))
    assert detail.status_code == 200 and world.e1.credit_code in detail.text
    provenance = client.get(reverse("accounting:provenance", args=[run.pk, world.e1.credit_code]))
    assert "raw_coal" in provenance.text and "20.908" in provenance.text
    for outsider in (world.gov_b, world.e2_staff, world.verifier_unassigned):
        client.force_login(outsider)
        assert client.get(reverse("accounting:run-detail", args=[run.pk])).status_code == 404
        assert client.get(reverse("accounting:provenance", args=[run.pk, world.e1.credit_code])).status_code == 404


def test_enterprise_staff_see_their_own_provenance_only(client, world, run):
    client.force_login(world.e1_staff)
    assert client.get(reverse("accounting:provenance", args=[run.pk, world.e1.credit_code])).status_code == 200
    assert client.get(reverse("accounting:run-detail", args=[run.pk])).status_code == 404
    assert client.get(reverse("accounting:calculate")).status_code == 404


def test_calculate_page_runs_and_shows_errors(client, data, factor_sets):
    client.force_login(data.gov_a)
    fs = factor_sets["CN-DEFAULT-2024"]
    form = {"region": data.city_a.pk, "year": 2024, "factor_set": fs.pk, "grid_series": "", "kind": "official"}
    response = client.post(reverse("accounting:calculate"), form)
    assert response.status_code == 302
    assert CalculationRun.objects.get().total_co2_t == pytest.approx(TOTAL_T)
    empty = client.post(reverse("accounting:calculate"), {**form, "year": 2022})
    assert empty.status_code == 422 and "ACC-NO-DATA" in empty.text
    other_city = client.post(reverse("accounting:calculate"), {**form, "region": data.city_b.pk})
    assert other_city.status_code == 200 and "region" in other_city.context["form"].errors


def test_compare_and_promote_through_the_pages(client, data, factor_sets, run):
    fs = factor_sets["CN-DEFAULT-2024"]
    what_if = services.calculate(
        actor=data.gov_a, region=data.city_a, year=2024, factor_set=fs, kind=CalculationRun.Kind.WHAT_IF
    )
    client.force_login(data.gov_a)
    page = client.get(reverse("accounting:compare"), {"base": run.pk, "other": what_if.pk})
    assert page.status_code == 200 and page.context["can_promote"]
    assert client.post(reverse("accounting:promote", args=[what_if.pk]), {"reason": ""}).status_code == 302
    assert not CalculationRun.objects.get(pk=what_if.pk).official
    client.post(reverse("accounting:promote", args=[what_if.pk]), {"reason": "data corrected after review"})
    assert CalculationRun.objects.get(pk=what_if.pk).official


def test_api_lists_runs_in_scope_and_calculates(client, data, factor_sets, run):
    client.force_login(data.gov_a)
    listed = client.get("/api/v1/accounting/runs").json()
    assert [r["id"] for r in listed] == [run.pk]
    aggregates = client.get(f"/api/v1/accounting/runs/{run.pk}/aggregates", {"dimension": "enterprise"}).json()
    assert aggregates[0]["co2_total_t"] == pytest.approx(TOTAL_T)
    rows = client.get(f"/api/v1/accounting/runs/{run.pk}/enterprises/{data.e1.credit_code}/rows").json()
    assert {r["formula"] for r in rows} == {"combustion", "electricity", "heat"}
    created = client.post(
        "/api/v1/accounting/runs",
        {"region_code": data.city_a.code, "year": 2024, "factor_set": "CN-DEFAULT-2024", "what_if": True},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["official"] is False
    client.force_login(data.gov_b)
    assert client.get("/api/v1/accounting/runs").json() == []
    assert client.get(f"/api/v1/accounting/runs/{run.pk}").status_code == 404
    refused = client.post(
        "/api/v1/accounting/runs",
        {"region_code": data.city_a.code, "year": 2024, "factor_set": "CN-DEFAULT-2024"},
        content_type="application/json",
    )
    assert refused.status_code == 404


def test_factor_api(client, world, factor_sets):
    client.force_login(world.e1_staff)
    sets = client.get("/api/v1/factors/sets").json()
    assert {s["code"] for s in sets} >= {"CN-DEFAULT-2024"}
    detail = client.get(f"/api/v1/factors/sets/{sets[0]['id']}").json()
    assert all(v["source"] and v["confidence"] for v in detail["values"])


def test_cli_calculate_and_factors(data, factor_sets):
    out = io.StringIO()
    call_command("calculate", "--region", data.city_a.code, "--year", "2024", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["official"] and summary["total_co2_t"] == pytest.approx(TOTAL_T, abs=1e-3)
    listing = io.StringIO()
    call_command("factors", "list", stdout=listing)
    assert "CN-DEFAULT-2024@v1" in listing.getvalue() and "locked" in listing.getvalue()
    with pytest.raises(CommandError, match="ACC-NO-DATA"):
        call_command("calculate", "--region", data.city_a.code, "--year", "2020")
    with pytest.raises(CommandError, match="unknown region"):
        call_command("calculate", "--region", "999999", "--year", "2024")


def _named(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/csv")
