"""The API (GET /efficiency/{year}, /efficiency/{year}/{credit_code}) and ``kiln efficiency``."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.efficiency.conftest import add_economic, make_run

API = "/api/v1/efficiency"


def test_list_for_the_government_of_region_a(client_for, graded):
    body = client_for(graded.gov_a).get(f"{API}/2024").json()
    rows = {r["credit_code"]: r for r in body["items"]}
    assert set(rows) == {graded.e1.credit_code, graded.e3.credit_code, graded.e4.credit_code}
    assert rows[graded.e1.credit_code]["grade"] == 2 and rows[graded.e1.credit_code]["l"] == pytest.approx(
        0.8
    )
    assert rows[graded.e4.credit_code]["reason"] == "EFF-NO-VALUE-ADDED"
    assert rows[graded.e1.credit_code]["neutral_provisional"] is True
    filtered = client_for(graded.gov_a).get(f"{API}/2024", {"grade": 3}).json()["items"]
    assert [r["credit_code"] for r in filtered] == [graded.e3.credit_code]


def test_enterprise_staff_see_only_their_own(client_for, graded):
    body = client_for(graded.e1_staff).get(f"{API}/2024").json()
    assert [r["credit_code"] for r in body["items"]] == [graded.e1.credit_code]
    detail = client_for(graded.e1_staff).get(f"{API}/2024/{graded.e1.credit_code}").json()
    assert detail["k"] == pytest.approx(0.8) and detail["inputs"]["value_added_10k_cny"] == 100.0
    assert detail["inputs"]["calculation_run"] == graded.run_2024.calculation_id
    assert detail["inputs"]["config_version"] == 1 and detail["inputs"]["process_included"] is False
    assert "S31" in detail["inputs"]["config_source"]


@pytest.mark.parametrize("who", ["e2_staff", "gov_b", "verifier_e1", "verifier_unassigned"])
def test_detail_is_404_for_outsiders(client_for, graded, who):
    assert client_for(getattr(graded, who)).get(f"{API}/2024/{graded.e1.credit_code}").status_code == 404


@pytest.mark.parametrize("who", ["verifier_e1", "verifier_unassigned"])
def test_list_is_404_for_outsiders(client_for, graded, who):
    assert client_for(getattr(graded, who)).get(f"{API}/2024").status_code == 404


def test_region_filter_must_be_visible(client_for, graded):
    client = client_for(graded.gov_a)
    assert client.get(f"{API}/2024", {"region": graded.city_b.code}).status_code == 404
    assert client.get(f"{API}/2024", {"region": graded.county_a.code}).status_code == 200


def test_api_needs_authentication(client, graded):
    assert client.get(f"{API}/2024").status_code == 401


def test_ungraded_year_is_empty_and_unknown_enterprise_404(client_for, graded):
    assert client_for(graded.gov_a).get(f"{API}/2019").json()["items"] == []
    assert client_for(graded.gov_a).get(f"{API}/2019/{graded.e1.credit_code}").status_code == 404


# --- kiln efficiency --------------------------------------------------------------------------------------


@pytest.fixture
def region_a_2024(world):
    from tests.efficiency.conftest import add_enterprise

    e3 = add_enterprise(world, "E3", "MA0000003")
    make_run(
        world.city_a,
        2024,
        {world.e1.credit_code: {"co2_combustion_t": 80.0}, e3.credit_code: {"co2_combustion_t": 120.0}},
    )
    add_economic(world.e1, 2024, 100)
    world.e3 = e3
    return world


def test_cli_prints_l_level_k_grade(region_a_2024, capsys):
    w = region_a_2024
    call_command("efficiency", "--year", "2024")
    out = capsys.readouterr().out
    assert "1 graded, 1 without a grade" in out
    line = next(x for x in out.splitlines() if x.startswith(w.e1.credit_code))
    assert line.split() == [w.e1.credit_code, "C30", "0.8000", "medium", "1.0000", "3"]
    line = next(x for x in out.splitlines() if x.startswith(w.e3.credit_code))
    assert "EFF-NO-VALUE-ADDED" in line


def test_cli_json_and_region(region_a_2024, capsys):
    w = region_a_2024
    call_command("efficiency", "--year", "2024", "--region", w.county_a.code, "--json")
    body = json.loads(capsys.readouterr().out)
    assert body["year"] == 2024 and body["region"] == w.city_a.code
    rows = {r["credit_code"]: r for r in body["results"]}
    assert rows[w.e1.credit_code]["grade"] == 3 and rows[w.e1.credit_code]["level"] == "medium"
    assert rows[w.e3.credit_code]["reason"] == "EFF-NO-VALUE-ADDED"
    # Running again with nothing changed reuses the grading.
    call_command("efficiency", "--year", "2024", "--json")
    assert json.loads(capsys.readouterr().out)["grading"] == body["grading"]


def test_cli_without_an_official_run_exits_1(world):
    with pytest.raises(CommandError) as excinfo:
        call_command("efficiency", "--year", "2024")
    assert excinfo.value.returncode == 1 and "EFF-NO-OFFICIAL-RUN" in str(excinfo.value)
    with pytest.raises(CommandError):
        call_command("efficiency", "--year", "2024", "--region", "999999")
