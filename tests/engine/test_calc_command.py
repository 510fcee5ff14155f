"""``kiln calc``: files in, per-row results out, errors listed; no database."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import polars as pl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.engine.helpers import E1, E2

ENGLISH = "credit_code,period,item,quantity,unit,source,facility,note\n"
CHINESE = "统一社会信用代码,月份,项目代码,数量,单位,数据来源,设施,备注\n"
ROWS = (
    f"{E1},2023-01,raw_coal,100,吨,meter,,\n"
    f"{E1},2023-01,raw_coal.ncv,22,GJ/t,lab,,\n"
    f'{E1},2023-01,electricity_purchased,"1,000,000",kWh,grid,,\n'
    f"{E2},2023-02,natural_gas,10,万Nm3,invoice,B1,冬季\n"
)
COAL = 100 * 22 * 0.02637 * 0.94 * 44 / 12
GAS = 10 * 389.31 * 0.0153 * 0.99 * 44 / 12


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("calc", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def check_results(path: Path) -> None:
    if path.suffix == ".csv":
        results = pl.read_csv(path)
    elif path.suffix == ".xlsx":
        results = pl.read_excel(path, engine="openpyxl")
    else:
        results = pl.read_parquet(path)
    assert {
        "credit_code",
        "period",
        "item",
        "quantity",
        "unit",
        "co2_t",
        "source_category",
        "tier",
        "factor_set",
    } <= set(results.columns)
    assert results.get_column("item").to_list() == ["raw_coal", "electricity_purchased", "natural_gas"]
    assert results.get_column("co2_t").to_list() == pytest.approx([COAL, 570.3, GAS])
    assert results.get_column("tier").to_list() == ["measured", "default", "default"]


@pytest.mark.parametrize("out_name", ["out.csv", "out.xlsx", "out.parquet"])
def test_utf8_csv_with_english_headers(tmp_path, out_name):
    source = tmp_path / "activity.csv"
    source.write_text(ENGLISH + ROWS, encoding="utf-8")
    stdout, _ = run(source, "--out", tmp_path / out_name)
    check_results(tmp_path / out_name)
    assert "combustion" in stdout and "electricity_purchased" in stdout
    assert f"{COAL + GAS + 570.3:,.3f}" in stdout


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "gb18030"])
def test_chinese_headers_in_gbk_or_bom_csv(tmp_path, encoding):
    source = tmp_path / "activity.csv"
    source.write_bytes((CHINESE + ROWS).encode(encoding))
    run(source, "--out", tmp_path / "out.csv")
    check_results(tmp_path / "out.csv")
    written = (tmp_path / "out.csv").read_bytes()
    assert written.startswith(b"\xef\xbb\xbf")  # Excel opens Chinese text correctly


def test_xlsx_and_parquet_input(tmp_path):
    frame = pl.read_csv(StringIO(CHINESE + ROWS), infer_schema=False)
    frame.write_excel(tmp_path / "activity.xlsx")
    run(tmp_path / "activity.xlsx", "--out", tmp_path / "a.csv")
    check_results(tmp_path / "a.csv")
    english = pl.read_csv(StringIO(ENGLISH + ROWS), infer_schema=False).with_columns(
        pl.col("quantity").str.replace_all(",", "").cast(pl.Float64)
    )
    english.write_parquet(tmp_path / "activity.parquet")
    run(tmp_path / "activity.parquet", "--out", tmp_path / "b.parquet")
    check_results(tmp_path / "b.parquet")


def test_grid_series_and_factor_set_options(tmp_path):
    source = tmp_path / "activity.csv"
    source.write_text(ENGLISH + f"{E1},2022-05,electricity_purchased,1000,MWh,,,\n", encoding="utf-8")
    run(
        source,
        "--out",
        tmp_path / "out.csv",
        "--grid-series",
        "MEE_NBS_AVG/330000",
        "--factor-set",
        "CN-SET-A-2024",
    )
    results = pl.read_csv(tmp_path / "out.csv")
    assert results.get_column("co2_t").to_list() == pytest.approx([515.3])
    assert results.get_column("factor_set").to_list() == ["CN-SET-A-2024"]
    with pytest.raises(CommandError, match="unknown factor set"):
        run(source, "--out", tmp_path / "x.csv", "--factor-set", "NOPE")


def test_bad_input_lists_the_errors_and_writes_nothing(tmp_path):
    source = tmp_path / "activity.csv"
    source.write_text(
        ENGLISH + ROWS + f"{E1},2023-13,diesel,-1,t,,,\n{E1},2023-01,nothing,1,t,,,\n"
        f"{E1},2023-01,diesel,abc,t,,,\n",
        encoding="utf-8",
    )
    err = StringIO()
    with pytest.raises(CommandError, match="4 input error"):
        call_command("calc", str(source), "--out", str(tmp_path / "out.csv"), stdout=StringIO(), stderr=err)
    text = err.getvalue()
    assert "row 5: [bad_period]" in text and "row 5: [negative_quantity]" in text
    assert "row 6: [unknown_item]" in text and "row 7: [non_numeric_quantity]" in text
    assert not (tmp_path / "out.csv").exists()


def test_unreadable_file(tmp_path):
    source = tmp_path / "activity.json"
    source.write_text("{}")
    with pytest.raises(CommandError, match="unsupported file type"):
        run(source, "--out", tmp_path / "out.csv")


def test_console_script_exits_non_zero_on_bad_input(tmp_path):
    kiln = Path(sys.executable).with_name("kiln")
    source = tmp_path / "activity.csv"
    source.write_bytes((CHINESE + ROWS).encode("gbk"))
    ok = subprocess.run([kiln, "calc", source, "--out", tmp_path / "out.csv"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "total (excl. biomass)" in ok.stdout
    source.write_bytes((CHINESE + f"{E1},2023-01,diesel,-5,t,,,\n").encode("gbk"))
    bad = subprocess.run(
        [kiln, "calc", source, "--out", tmp_path / "bad.csv"], capture_output=True, text=True
    )
    assert bad.returncode != 0
    assert "negative_quantity" in bad.stderr
