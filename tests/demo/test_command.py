"""``kiln demo-data``: files, database load, personas, --if-empty and --files-only."""

import json
import re

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
from tests.demo.conftest import ARGS

STEPS = (
    "registry",
    "economic data",
    "factor sets",
    "activity data",
    "evidence deposits",
    "metered electricity",
    "official calculations",
    "carbon efficiency",
    "screening",
    "supervision",
)


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """Evidence, stored originals, calculation rows and the ledger key go to a fresh directory."""
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    return settings.VAR_DIR


def test_command_writes_files_and_loads_the_city(demo):
    manifest = json.loads((demo / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["arguments"]["enterprises"] == 30 and manifest["seed"] == 3
    assert Enterprise.objects.count() == 30
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
    assert Enterprise.objects.count() == 30 and not (demo / "again").exists()
    with pytest.raises(CommandError):
        call_command("demo_data", *ARGS, "--out", str(demo / "again"))


def test_files_only_leaves_the_database_alone(db, tmp_path):
    call_command("demo_data", *ARGS, "--out", str(tmp_path), "--files-only")
    assert (tmp_path / "activity.csv").exists() and (tmp_path / "samples" / "README.md").exists()
    assert not Enterprise.objects.exists() and not Region.objects.filter(code="339900").exists()


def test_the_same_arguments_give_the_same_files_samples_included(db, tmp_path):
    call_command("demo_data", *ARGS, "--out", str(tmp_path / "a"), "--files-only")
    call_command("demo_data", *ARGS, "--out", str(tmp_path / "b"), "--files-only")
    first, second = (json.loads((tmp_path / d / "manifest.json").read_text(encoding="utf-8")) for d in "ab")
    assert first == second
    assert {
        "samples/activity_duplicates.csv",
        "samples/activity_errors_gbk.csv",
        "samples/activity_january.xlsx",
        "samples/evidence_meter_photo.png",
        "samples/README.md",
    } <= set(first["files"])


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
        "339902",
        "339903",
        "339904",
        "339921",
        "339922",
        "339981",
    }
    assert qingxi_geojson_bytes() == qingxi_geojson_bytes()  # deterministic
    rings = [f["geometry"]["coordinates"][0] for f in qingxi_counties()["features"]]
    assert all(ring[0] == ring[-1] and len(ring) > 20 for ring in rings)


# ------------------------------------------------------------------ the whole chain


def read_activity(path):
    frame = pl.read_csv(path, infer_schema=False)
    return frame.with_columns(pl.col("quantity").cast(pl.Float64))


def test_every_step_runs_and_is_timed(demo):
    out = (demo / "stdout.txt").read_text(encoding="utf-8")
    for step in STEPS:
        assert re.search(rf"^  {step}\s+\d+\.\d s  \S", out, re.MULTILINE), step
    assert "skipped" not in out
    assert "Kiln-demo-2026" in out and "enterprise" in out and "samples" in out


def test_activity_file_is_imported_whole_through_the_intake(demo):
    from kiln.intake.models import ActivityRecord, ImportBatch

    rows = read_activity(demo / "activity.csv")
    batch = ImportBatch.objects.get()
    assert (batch.door, batch.status, batch.row_count) == ("demo", "imported", rows.height)
    assert ActivityRecord.objects.filter(current=True).count() == rows.height
    key = ["credit_code", "period", "item", "facility"]
    assert rows.select(pl.struct(key).is_duplicated().any()).item() is False


def test_duplicates_live_in_the_sample_file_and_the_truth_says_so(demo):
    problems = pl.read_csv(demo / "injected_problems.csv", infer_schema=False)
    assert problems.columns == ["credit_code", "period", "item", "kind", "facility", "file"]
    duplicates = problems.filter(pl.col("kind") == "duplicate")
    assert duplicates.height and set(duplicates["file"]) == {"samples/activity_duplicates.csv"}
    assert set(problems.filter(pl.col("kind") != "duplicate")["file"]) == {"activity.csv"}
    sample = pl.read_csv(demo / "samples" / "activity_duplicates.csv", infer_schema=False)
    assert sample.height == duplicates.height
    assert set(zip(sample["credit_code"], sample["period"], sample["item"], strict=True)) == set(
        zip(duplicates["credit_code"], duplicates["period"], duplicates["item"], strict=True)
    )
    # Every planted duplicate repeats a row that is in the main file (and now in the database).
    main = read_activity(demo / "activity.csv")
    assert sample.join(
        main.select("credit_code", "period", "item"), on=["credit_code", "period", "item"]
    ).height


def test_the_official_run_equals_the_engine_over_the_activity_file(demo):
    from kiln.accounting.models import CalculationRun
    from kiln.engine.aggregate import aggregate
    from kiln.engine.emissions import compute
    from kiln.factors.models import FactorSet
    from kiln.factors.services import frame_of

    manifest = json.loads((demo / "manifest.json").read_text(encoding="utf-8"))
    (year,) = manifest["years"]
    run = CalculationRun.objects.get(region__code="339900", year=year, official=True)
    factor_set = FactorSet.objects.get(code="CN-DEFAULT-2024")
    assert list(run.factor_sets.all()) == [factor_set]
    enterprises = pl.read_csv(demo / "enterprises.csv", infer_schema=False)
    mapping = enterprises.select(
        "credit_code", "region_code", "industry_code", pl.lit("339900").alias("city_code")
    )
    results = compute(
        read_activity(demo / "activity.csv"), frame_of(factor_set), grid_series=factor_set.default_grid_series
    )
    expected = aggregate(results, mapping)["enterprise_year"]["co2_total_t"].sum()
    assert run.total_co2_t > 0
    assert run.total_co2_t == pytest.approx(expected, rel=1e-9)
    assert run.input_rows == read_activity(demo / "activity.csv").height


def test_evidence_is_deposited_and_logged_and_some_months_are_overdue(demo):
    from kiln.intake import deposits
    from kiln.intake.models import EvidenceFile
    from kiln.ledger.models import LedgerEntry

    files = EvidenceFile.objects.all()
    assert files.count() >= 10
    assert {"invoice", "meter_reading"} <= set(files.values_list("kind", flat=True))
    assert files.filter(ledger_index__isnull=True).count() == 0
    deposits_logged = LedgerEntry.objects.filter(kind="evidence_deposit")
    assert deposits_logged.filter(reference__startswith="intake.evidence:").count() == files.count()
    # The rest are the verification bodies' signed reports (the supervision step).
    assert all(
        r.startswith("review.verification:")
        for r in deposits_logged.exclude(reference__startswith="intake.evidence:").values_list(
            "reference", flat=True
        )
    )
    assert len(set(files.values_list("sha256", flat=True))) == files.count()  # no two documents alike
    cement = Membership.objects.get(user__username="enterprise").organisation.enterprise
    assert files.filter(enterprise=cement).exists()
    for evidence in files[:5]:
        path = deposits.stored_path(evidence)
        assert path.read_bytes()[:4] in (b"%PDF", b"\x89PNG")
    periods = sorted(set(files.values_list("period", flat=True)))
    overdue = deposits.overdue(Enterprise.objects.all(), first=periods[0], last=periods[-1])
    assert overdue.height > 0


def test_grades_and_screening_follow_the_official_run(demo):
    from kiln.efficiency.models import EfficiencyRun
    from kiln.screening.models import ScreeningRun

    assert EfficiencyRun.objects.filter(region__code="339900", current=True).get().graded > 0
    screening = ScreeningRun.objects.get()
    assert screening.input_rows == read_activity(demo / "activity.csv").height


def test_the_sample_files_do_what_their_readme_says(demo):
    from kiln.intake.services import import_activity

    reporter = Membership.objects.select_related("user", "organisation").get(user__username="reporter")

    def check(name):
        data = (demo / "samples" / name).read_bytes()
        return import_activity(
            data, actor=reporter.user, membership=reporter, door="upload", file_name=name, dry_run=True
        )

    errors = check("activity_errors_gbk.csv")
    assert set(errors.report["counts"]) == {
        "INT-CREDIT-CHECKSUM",
        "INT-PERIOD-FORMAT",
        "INT-UNIT-UNKNOWN",
        "INT-QUANTITY-NEGATIVE",
        "INT-CELL-FORMULA",
    }
    assert all(n == 1 for n in errors.report["counts"].values())
    with pytest.raises(UnicodeDecodeError):
        (demo / "samples" / "activity_errors_gbk.csv").read_bytes().decode("utf-8")
    january = check("activity_january.xlsx")
    assert january.ok and january.source_format == "xlsx" and january.rows > 5
    # The planted duplicates are other enterprises' rows (or, now and then, the reporter's own: stored already).
    planted = pl.read_csv(demo / "samples" / "activity_duplicates.csv", infer_schema=False).height
    counts = check("activity_duplicates.csv").report["counts"]
    assert sum(counts.values()) == planted
    assert set(counts) <= {"INT-ENTERPRISE-OUT-OF-SCOPE", "INT-DUPLICATE-STORED"}


def test_the_enterprise_persona_sees_its_data_and_evidence(demo, client):
    from django.urls import reverse

    assert client.post(reverse("login"), {"login": "reporter", "password": DEMO_PASSWORD}).status_code == 302
    assert client.get(reverse("intake:upload")).status_code == 200
    page = client.get(reverse("intake:deposits"))
    assert page.status_code == 200


def test_a_failing_step_leaves_nothing_behind(db, reference_data, tmp_path, monkeypatch):
    from kiln.demo import steps

    def broken(*args, **kwargs):
        raise steps.StepError("the engine is on strike")

    monkeypatch.setattr(steps, "calculations", broken)
    with pytest.raises(CommandError, match="on strike.*nothing was stored"):
        call_command("demo_data", *ARGS, "--out", str(tmp_path / "demo"))
    assert not Enterprise.objects.exists() and not Region.objects.filter(code="339900").exists()
    monkeypatch.undo()
    call_command(
        "demo_data", *ARGS, "--out", str(tmp_path / "demo"), "--if-empty"
    )  # and can simply run again
    assert Enterprise.objects.count() == 30


def test_the_national_preset_loads_the_registry_only(db, reference_data, tmp_path, capsys):
    from kiln.intake.models import ActivityRecord

    call_command("demo_data", *ARGS, "--size", "national", "--out", str(tmp_path / "demo"))
    assert Enterprise.objects.count() == 30 and not ActivityRecord.objects.exists()
    assert "National preset" in capsys.readouterr().out
    assert (tmp_path / "demo" / "activity.parquet").exists() and not (
        tmp_path / "demo" / "activity.csv"
    ).exists()
