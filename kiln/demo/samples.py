"""What the intake would refuse stays out of ``activity.csv``: it goes to sample files to try the upload page with.

``activity.csv`` is imported as it is by ``kiln demo-data`` (all or nothing), so it holds only rows the
intake accepts; the planted problems that are valid data (x1000 unit slips, spikes, missing months,
implausible parameters, under-reported electricity) stay in it for screening to find. The planted
duplicates (the same rows sent a second time) would make the whole import fail, so they are written
to ``samples/activity_duplicates.csv`` instead and ``injected_problems.csv`` says so in its ``file`` column.

``samples/`` also holds, for the enterprise the ``enterprise`` and ``reporter`` logins belong to:

- ``activity_errors_gbk.csv``: a first draft of next January's report, saved by Excel as GBK, with five
  typical mistakes (a mistyped credit code, month 2099-13, the unit 车, a negative quantity, a formula);
- ``activity_january.xlsx``: the corrected draft, Chinese headers: it imports cleanly;
- ``evidence_meter_photo.png`` (deposit it) and ``evidence_renamed.pdf`` (a PNG named .pdf: refused).

Pure Polars and bytes: no Django, no clock. The same data gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import datetime
import io

import polars as pl

from kiln.demo import evidence

DIR = "samples"
DUPLICATES = "activity_duplicates.csv"
ERRORS_GBK = "activity_errors_gbk.csv"
JANUARY_XLSX = "activity_january.xlsx"
METER_PHOTO = "evidence_meter_photo.png"
RENAMED = "evidence_renamed.pdf"
README = "README.md"
MAIN_FILE = "activity.csv"
KEY = ["credit_code", "period", "item", "facility"]  # the intake's key (kiln.intake.validation.KEY)

HEADERS_ZH = {
    "credit_code": "统一社会信用代码",
    "period": "月份",
    "item": "项目代码",
    "quantity": "数量",
    "unit": "单位",
    "source": "数据来源",
    "facility": "设施",
    "note": "备注",
}
UNITS_ZH = {
    "t": "吨",
    "MWh": "兆瓦时",
    "kWh": "千瓦时",
    "GJ": "吉焦",
    "GJ/t": "吉焦/吨",
    "tC/GJ": "吨碳/吉焦",
}
SOURCES_ZH = {"meter": "计量", "invoice": "发票", "lab": "化验", "estimate": "估算", "grid": "电网"}
GROWTH = 1.03  # next January against this January, for flows (measured parameters stay as they were)


def split_rejects(activity: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows the intake accepts in one batch, the repeated rows): the first row of each key stays."""
    first = activity.select(pl.struct(KEY).is_first_distinct()).to_series()
    return activity.filter(first), activity.filter(~first)


def mark_problems(problems: pl.DataFrame) -> pl.DataFrame:
    """``injected_problems`` with a ``file`` column: where each planted problem can be found."""
    return problems.with_columns(
        pl.when(pl.col("kind") == "duplicate")
        .then(pl.lit(f"{DIR}/{DUPLICATES}"))
        .otherwise(pl.lit(MAIN_FILE))
        .alias("file")
    )


def enterprise_persona_code(enterprises: pl.DataFrame) -> str:
    """The credit code of the enterprise the ``enterprise`` and ``reporter`` logins belong to."""
    cement = enterprises.filter((pl.col("sector") == "cement_clinker") & pl.col("key_emitter"))
    if cement.is_empty():
        raise ValueError("the demo needs a cement enterprise that is a key emitter")
    return cement["credit_code"][0]


def _strings(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String))


def january_rows(activity: pl.DataFrame, code: str, end_year: int) -> pl.DataFrame:
    """The persona enterprise's report for January after the data ends, from its last January (strings)."""
    rows = _strings(activity).filter((pl.col("credit_code") == code) & (pl.col("period") == f"{end_year}-01"))
    flow = ~pl.col("item").str.contains(".", literal=True)
    return rows.with_columns(
        pl.lit(f"{end_year + 1}-01").alias("period"),
        pl.when(flow)
        .then((pl.col("quantity") * GROWTH).round(3))
        .otherwise(pl.col("quantity"))
        .alias("quantity"),
    )


def _chinese(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.with_columns(
        pl.col("unit").replace(UNITS_ZH),
        pl.col("source").replace(SOURCES_ZH),
        pl.col("facility").fill_null(""),
        pl.col("note").fill_null(""),
    )


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def errors_csv(rows: pl.DataFrame) -> bytes:
    """The first draft of the January report, as Excel saves a CSV in China (GBK), with five mistakes."""
    table = _chinese(rows).with_columns(pl.col("quantity").map_elements(_number, return_dtype=pl.String))
    records = table.rows(named=True)

    def find(item: str) -> int:
        for i, r in enumerate(records):
            if r["item"] == item:
                return i
        return len(records) - 1

    code = records[0]["credit_code"]
    wrong_check = "0" if code[-1] != "0" else "1"
    records[find("electricity_purchased")]["credit_code"] = (
        code[:-1] + wrong_check
    )  # a slip of the last character
    records[find("clinker_output")]["period"] = "2099-13"
    records[find("raw_coal")]["unit"] = "车"  # truckloads: what the weighbridge clerk counts, not a unit
    diesel = find("diesel")
    records[diesel]["quantity"] = "-" + records[diesel]["quantity"]
    cement = find("cement_output")
    records[cement]["quantity"] = f"=SUM(D2:D{len(records) + 1})"
    records[cement]["note"] = "合计行(公式)"
    buffer = io.StringIO(newline="")
    buffer.write(",".join(HEADERS_ZH.values()) + "\r\n")
    for r in records:
        buffer.write(",".join(_csv_cell(str(r[k] if r[k] is not None else "")) for k in HEADERS_ZH) + "\r\n")
    return buffer.getvalue().encode("gbk")


def _csv_cell(value: str) -> str:
    return f'"{value}"' if any(c in value for c in ',"\r\n') else value


def january_xlsx(rows: pl.DataFrame) -> bytes:
    """The corrected January report as an Excel workbook with Chinese headers (imports cleanly)."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    # A fixed creation time: XlsxWriter also stamps the zip entries with it, so the bytes never change.
    workbook.set_properties(
        {"title": "月度活动数据", "author": "Kiln demo", "created": datetime.datetime(2024, 1, 1)}
    )
    bold = workbook.add_format({"bold": True, "bg_color": "#EEEEEE"})
    text = workbook.add_format({"num_format": "@"})
    sheet = workbook.add_worksheet("月度活动数据")
    for c, header in enumerate(HEADERS_ZH.values()):
        sheet.write_string(0, c, header, bold)
        sheet.set_column(c, c, 22 if c == 0 else 14, text)
    for r, row in enumerate(_chinese(rows).iter_rows(named=True), start=1):
        for c, key in enumerate(HEADERS_ZH):
            if key == "quantity":
                sheet.write_number(r, c, row[key])
            else:
                sheet.write_string(r, c, row[key] or "")
    sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()


def duplicates_csv(duplicates: pl.DataFrame) -> bytes:
    return _strings(duplicates).write_csv().encode("utf-8")


def separate(data):
    """``data`` without the rows the intake would refuse, and the sample files (``samples/`` name → bytes)."""
    kept, duplicates = split_rejects(data.activity)
    counts = {**data.counts, "activity_rows": kept.height}
    cleaned = dataclasses.replace(
        data, activity=kept, injected_problems=mark_problems(data.injected_problems), counts=counts
    )
    return cleaned, build(kept, duplicates, data.enterprises, data.config.years[-1])


def build(
    activity: pl.DataFrame, duplicates: pl.DataFrame, enterprises: pl.DataFrame, end_year: int
) -> dict[str, bytes]:
    """Every sample file (name in ``samples/`` → bytes)."""
    code = enterprise_persona_code(enterprises)
    name = enterprises.filter(pl.col("credit_code") == code)["name"][0]
    rows = january_rows(activity, code, end_year)
    month = evidence.Month(code, name, f"{end_year + 1}-01")
    photo = evidence.meter_png(month, 1_234_567.8)
    files = {
        DUPLICATES: duplicates_csv(duplicates),
        ERRORS_GBK: errors_csv(rows),
        JANUARY_XLSX: january_xlsx(rows),
        METER_PHOTO: photo,
        RENAMED: photo,
    }
    files[README] = readme(code, name, f"{end_year + 1}-01", duplicates.height).encode("utf-8")
    return files


def readme(code: str, name: str, period: str, duplicates: int) -> str:
    return f"""# Sample files for the upload and deposit pages / 上传与存证页面的示例文件

Log in as `reporter` or `enterprise` ({name}, {code}); password as printed by `kiln demo-data`.
用 `reporter` 或 `enterprise` 登录(企业:{name})。

| file | try it at | what happens |
|---|---|---|
| `{ERRORS_GBK}` | 数据上报 /intake/upload/ | GBK-encoded, Chinese headers, {period}. Rejected as a whole, with one error per mistake: INT-CREDIT-CHECKSUM (last character of the credit code mistyped), INT-PERIOD-FORMAT (2099-13), INT-UNIT-UNKNOWN (车), INT-QUANTITY-NEGATIVE, INT-CELL-FORMULA (=SUM…). Nothing is stored. |
| `{JANUARY_XLSX}` | 数据上报 /intake/upload/ | The corrected draft: imports cleanly ({period}). Upload it twice and the second time every row is INT-DUPLICATE-STORED (give a correction reason to replace them). |
| `{DUPLICATES}` | upload as `admin`, or `kiln import activity {DIR}/{DUPLICATES}` | The {duplicates} rows the generator planted as "sent twice" (kind `duplicate` in `injected_problems.csv`). They were already imported from `activity.csv`, so each is INT-DUPLICATE-STORED; as `reporter` they are INT-ENTERPRISE-OUT-OF-SCOPE (other enterprises' rows). |
| `{METER_PHOTO}` | 月度存证 /intake/deposits/ → a month → kind "meter reading" | Deposited, logged in the evidence ledger. |
| `{RENAMED}` | same | A PNG named .pdf: refused (INT-FILE-TYPE-MISMATCH), the content decides, not the name. |
"""
