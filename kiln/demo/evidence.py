"""Evidence documents for the demo's monthly deposits, drawn here byte for byte: no fixtures, no clock.

- ``settlement_pdf``: the grid company's electricity settlement statement (电费结算单), kind ``invoice``;
- ``coal_report_pdf``: a CMA laboratory's coal quality report (煤质检测报告), kind ``lab_report``;
- ``meter_png``: a photo-like rendering of the revenue meter's display (电能表读数), kind ``meter_reading``;
- ``verification_pdf``: a verification body's signed report on an annual emission report (核查报告).

The PDFs use the non-embedded Adobe-GB1 font STSong-Light (every PDF viewer substitutes a Chinese
font), so they stay a few kilobytes. The same arguments always give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import math
import zlib
from dataclasses import dataclass

LAB = ("青溪市质量技术监督检测研究院", "CMA 241199340123")
GRID_COMPANY = "国网浙江省电力有限公司青溪供电公司"
TARIFF_CNY_PER_KWH = 0.6418  # a typical large-industry two-part tariff's energy charge, Zhejiang


@dataclass(frozen=True)
class Month:
    """What the documents of one enterprise-month say."""

    credit_code: str
    name: str
    period: str
    kwh: float | None = None  # metered electricity of the month
    coal: dict[str, float] | None = None  # raw_coal parameters: ncv, carbon_content, moisture, sulphur
    facility: str = ""

    def number(self, prefix: str) -> str:
        """A document number that is the same every time for this enterprise, month and kind."""
        digest = hashlib.sha256(f"{prefix}|{self.credit_code}|{self.period}".encode()).hexdigest()
        return f"{prefix}{self.period.replace('-', '')}{int(digest[:8], 16) % 1_000_000:06d}"


# --- a small PDF writer ------------------------------------------------------------------------------


class _Page:
    """Drawing operators for one A4 page (points, origin bottom left)."""

    def __init__(self) -> None:
        self.ops: list[str] = []

    def text(self, x: float, y: float, s: str, size: float = 10.5, rgb=(0, 0, 0)) -> None:
        # UniGB-UCS2-H: every character as two bytes of UCS-2 (the demo's texts stay in the BMP).
        encoded = s.encode("utf-16-be").hex().upper()
        self.ops.append(f"{_rgb(rgb)} rg BT /F1 {size:g} Tf {x:.1f} {y:.1f} Td <{encoded}> Tj ET")

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = 0.6, rgb=(0, 0, 0)) -> None:
        self.ops.append(f"{_rgb(rgb)} RG {width:g} w {x1:.1f} {y1:.1f} m {x2:.1f} {y2:.1f} l S")

    def rect(self, x: float, y: float, w: float, h: float, width: float = 0.8, rgb=(0, 0, 0)) -> None:
        self.ops.append(f"{_rgb(rgb)} RG {width:g} w {x:.1f} {y:.1f} {w:.1f} {h:.1f} re S")

    def seal(self, cx: float, cy: float, r: float, top: str, bottom: str) -> None:
        """A red round seal (公章): ring, star, the issuer's name around the top, the purpose below."""
        red = (0.82, 0.1, 0.1)
        k = 0.5523 * r
        self.ops.append(
            f"{_rgb(red)} RG 2.2 w {cx + r:.1f} {cy:.1f} m "
            f"{cx + r:.1f} {cy + k:.1f} {cx + k:.1f} {cy + r:.1f} {cx:.1f} {cy + r:.1f} c "
            f"{cx - k:.1f} {cy + r:.1f} {cx - r:.1f} {cy + k:.1f} {cx - r:.1f} {cy:.1f} c "
            f"{cx - r:.1f} {cy - k:.1f} {cx - k:.1f} {cy - r:.1f} {cx:.1f} {cy - r:.1f} c "
            f"{cx + k:.1f} {cy - r:.1f} {cx + r:.1f} {cy - k:.1f} {cx + r:.1f} {cy:.1f} c S"
        )
        star = []
        for i in range(10):
            radius = r * (0.28 if i % 2 == 0 else 0.11)
            angle = math.pi / 2 + i * math.pi / 5
            star.append((cx + radius * math.cos(angle), cy + 0.12 * r + radius * math.sin(angle)))
        path = " ".join(f"{x:.1f} {y:.1f} {'m' if i == 0 else 'l'}" for i, (x, y) in enumerate(star))
        self.ops.append(f"{_rgb(red)} rg {path} h f")
        size = min(11.0, 2.6 * r / max(len(top), 1))
        span = math.radians(220)
        for i, ch in enumerate(top):  # each character turned to follow the ring
            angle = math.pi / 2 + span / 2 - span * (i + 0.5) / len(top)
            x = cx + 0.78 * r * math.cos(angle)
            y = cy + 0.78 * r * math.sin(angle)
            rot = angle - math.pi / 2
            cos, sin = math.cos(rot), math.sin(rot)
            ox, oy = x - (cos * size / 2 - sin * size / 3), y - (sin * size / 2 + cos * size / 3)
            encoded = ch.encode("utf-16-be").hex().upper()
            self.ops.append(
                f"{_rgb(red)} rg BT /F1 {size:.1f} Tf {cos:.4f} {sin:.4f} {-sin:.4f} {cos:.4f} "
                f"{ox:.1f} {oy:.1f} Tm <{encoded}> Tj ET"
            )
        self.text(cx - len(bottom) * 4.5, cy - 0.55 * r, bottom, 9, red)


def _rgb(rgb) -> str:
    return " ".join(f"{c:g}" for c in rgb)


def _pdf(page: _Page, title: str) -> bytes:
    content = zlib.compress("\n".join(page.ops).encode("ascii"), 9)
    title_hex = ("\ufeff" + title).encode("utf-16-be").hex().upper()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [6 0 R] >>",
        # CIDs 1-95 are the proportional Latin glyphs: half width, so digits do not spread out.
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
        b"/FontDescriptor 7 0 R /DW 1000 /W [1 95 500] >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
        b"<< /Title <" + title_hex.encode() + b"> /Producer (Kiln demo) >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R /Info 8 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, xref)
    )
    return out.getvalue()


def _table(
    page: _Page, top: float, rows: list[tuple[str, str]], left: float = 60, split: float = 230
) -> float:
    """Label | value rows in a ruled box; returns the y below it."""
    height = 24
    page.rect(left, top - height * len(rows), 475, height * len(rows))
    page.line(split, top, split, top - height * len(rows))
    for i, (label, value) in enumerate(rows):
        y = top - height * (i + 1)
        if i:
            page.line(left, y + height, left + 475, y + height, 0.4)
        page.text(left + 8, y + 8, label)
        page.text(split + 8, y + 8, value)
    return top - height * len(rows)


def _month_text(period: str) -> str:
    return f"{period[:4]}年{int(period[5:]):d}月"


def _last_day(period: str) -> int:
    year, month = int(period[:4]), int(period[5:])
    return 31 if month == 12 else (30 if month in (4, 6, 9, 11) else (29 if year % 4 == 0 else 28))


def settlement_pdf(month: Month) -> bytes:
    """The grid company's monthly electricity settlement statement for a large industrial user."""
    assert month.kwh is not None
    page = _Page()
    page.text(60, 780, GRID_COMPANY, 12)
    page.text(190, 745, "电 费 结 算 单", 20)
    page.text(206, 724, "Electricity settlement statement", 10)
    page.text(60, 700, f"结算单号 No. {month.number('DF')}", 9.5)
    page.text(380, 700, f"抄表日期 {month.period}-{_last_day(month.period):02d}", 9.5)
    energy = round(month.kwh * TARIFF_CNY_PER_KWH, 2)
    capacity = round(month.kwh / 720 * 1.25 * 30.0, 2)  # demand charge on ~125 % of the mean load
    bottom = _table(
        page,
        690,
        [
            ("用电户名 Customer", month.name),
            ("统一社会信用代码 Credit code", month.credit_code),
            ("结算期间 Period", f"{_month_text(month.period)} ({month.period})"),
            ("计量点 Metering point", f"{month.credit_code[8:14]}-01  10 kV"),
            ("有功电量 Active energy", f"{month.kwh:,.0f} kWh"),
            ("电度电费 Energy charge", f"{energy:,.2f} 元 CNY"),
            ("基本电费 Demand charge", f"{capacity:,.2f} 元 CNY"),
            ("应收合计 Total due", f"{energy + capacity:,.2f} 元 CNY"),
        ],
    )
    page.text(60, bottom - 30, "本结算单电量依据关口电能表抄见数据,与电网公司营销系统一致。", 9)
    page.text(60, bottom - 46, "Energy from the revenue meter, as recorded by the grid company.", 8.5)
    page.seal(440, bottom - 110, 48, GRID_COMPANY[:12], "电费专用章")
    return _pdf(page, f"电费结算单 {month.credit_code} {month.period}")


def coal_report_pdf(month: Month) -> bytes:
    """A CMA-accredited laboratory's monthly composite-sample coal analysis (GB/T 213, GB/T 476)."""
    assert month.coal
    coal = month.coal
    page = _Page()
    page.text(60, 780, f"{LAB[0]}    {LAB[1]}", 11)
    page.text(196, 745, "煤 质 检 测 报 告", 20)
    page.text(214, 724, "Coal quality test report", 10)
    page.text(60, 700, f"报告编号 No. {month.number('MZ')}", 9.5)
    page.text(380, 700, f"签发日期 {_next_month(month.period)}-06", 9.5)
    rows = [
        ("委托单位 Client", month.name),
        ("统一社会信用代码 Credit code", month.credit_code),
        ("样品 Sample", f"入炉原煤月度混合样 {month.facility or ''}".strip()),
        ("采样期间 Sampling period", f"{_month_text(month.period)} ({month.period})"),
    ]
    if "ncv" in coal:
        rows.append(("收到基低位发热量 Qnet,ar", f"{coal['ncv']:.3f} GJ/t  (GB/T 213)"))
    if "carbon_content" in coal:
        rows.append(("单位热值含碳量 Carbon per GJ", f"{coal['carbon_content']:.5f} tC/GJ"))
    if "moisture" in coal:
        rows.append(("全水分 Mt", f"{coal['moisture']:.2f} %  (GB/T 211)"))
    if "sulphur" in coal:
        rows.append(("全硫 St,ar", f"{coal['sulphur']:.2f} %  (GB/T 214)"))
    bottom = _table(page, 690, rows)
    page.text(60, bottom - 30, "本报告仅对来样负责。未经本院书面批准,不得部分复制本报告。", 9)
    page.text(60, bottom - 46, "Results refer to the sample received only.", 8.5)
    page.text(
        60, bottom - 80, "检测 Tested: 王  磊      审核 Checked: 陈  静      批准 Approved: 李建国", 9.5
    )
    page.seal(440, bottom - 140, 48, LAB[0][:12], "检验检测专用章")
    return _pdf(page, f"煤质检测报告 {month.credit_code} {month.period}")


@dataclass(frozen=True)
class Verification:
    """What a verification body's signed report (核查报告) says about one enterprise-year."""

    credit_code: str
    name: str
    year: int
    agency: str
    accreditation: str
    conclusion: str  # the conclusion as printed, e.g. 经核查，排放报告符合要求
    reported_t: float
    verified_t: float
    findings: tuple[str, ...] = ()

    def number(self) -> str:
        digest = hashlib.sha256(f"HC|{self.credit_code}|{self.year}|{self.agency}".encode()).hexdigest()
        return f"HC{self.year}{int(digest[:8], 16) % 1_000_000:06d}"


def verification_pdf(report: Verification) -> bytes:
    """A verification body's report on an enterprise's annual emission report, signed and sealed."""
    page = _Page()
    page.text(60, 780, f"{report.agency}    {report.accreditation}", 11)
    page.text(150, 745, "温 室 气 体 排 放 核 查 报 告", 20)
    page.text(196, 724, "Greenhouse gas emission verification report", 10)
    page.text(60, 700, f"报告编号 No. {report.number()}", 9.5)
    page.text(380, 700, f"核查年度 {report.year}", 9.5)
    bottom = _table(
        page,
        690,
        [
            ("重点排放单位 Entity", report.name),
            ("统一社会信用代码 Credit code", report.credit_code),
            ("核查依据 Criteria", "GB/T 32150-2015, GB/T 32151 系列"),
            ("报告排放量 Reported", f"{report.reported_t:,.2f} tCO2e"),
            ("核查确认排放量 Verified", f"{report.verified_t:,.2f} tCO2e"),
            ("核查结论 Conclusion", report.conclusion),
        ],
    )
    y = bottom - 30
    page.text(60, y, "核查发现 Findings", 10.5)
    for i, text in enumerate(report.findings or ("未发现实质性错报。",), start=1):
        y -= 18
        page.text(72, y, f"{i}. {text}"[:46], 9.5)
    page.text(60, y - 40, "核查组长 Lead verifier: 周  宁      技术复核 Reviewed: 孙  蕾", 9.5)
    page.seal(440, y - 120, 48, report.agency[:12], "核查专用章")
    return _pdf(page, f"核查报告 {report.credit_code} {report.year}")


def _next_month(period: str) -> str:
    year, month = int(period[:4]), int(period[5:])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


# --- a meter display as a PNG ------------------------------------------------------------------------

# Segments a-g of a seven-segment digit, lit for each digit.
_SEGMENTS = {
    "0": "abcdef", "1": "bc", "2": "abged", "3": "abgcd", "4": "fgbc",
    "5": "afgcd", "6": "afgedc", "7": "abc", "8": "abcdefg", "9": "abcdfg",
}  # fmt: skip


def _digit(draw, x: int, y: int, ch: str, w: int = 26, h: int = 48, t: int = 5, on=(20, 30, 20)) -> None:
    half = h // 2
    bars = {
        "a": (x + t, y, x + w - t, y + t),
        "g": (x + t, y + half - t // 2, x + w - t, y + half + t // 2),
        "d": (x + t, y + h - t, x + w - t, y + h),
        "f": (x, y + t, x + t, y + half - t // 2),
        "b": (x + w - t, y + t, x + w, y + half - t // 2),
        "e": (x, y + half + t // 2, x + t, y + h - t),
        "c": (x + w - t, y + half + t // 2, x + w, y + h - t),
    }
    for segment, box in bars.items():
        draw.rectangle(box, fill=on if segment in _SEGMENTS.get(ch, "") else (150, 170, 140))


def meter_png(month: Month, reading: float, multiplier: int = 1) -> bytes:
    """The meter's total active-energy register at month end, as a small PNG.

    ``reading`` is what the display shows (one decimal); kWh = reading x ``multiplier`` (the CT/PT ratio).
    """
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (520, 300), (58, 62, 70))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((18, 18, 502, 282), radius=18, fill=(214, 216, 210), outline=(30, 30, 30), width=3)
    font = ImageFont.load_default(size=15)
    small = ImageFont.load_default(size=12)
    draw.text((40, 34), "DTZY 3x220/380V 3x1.5(6)A  class 0.5S", fill=(20, 20, 20), font=font)
    draw.text((40, 56), f"No. {month.credit_code[2:8]}-{month.number('')[-6:]}", fill=(20, 20, 20), font=font)
    draw.rectangle((40, 90, 480, 190), fill=(170, 190, 160), outline=(40, 40, 40), width=2)
    text = f"{reading % 1e9:011.1f}"
    x = 58
    for ch in text:
        if ch == ".":
            draw.rectangle((x - 4, 172, x + 2, 178), fill=(20, 30, 20))
            x += 8
            continue
        _digit(draw, x, 116, ch)
        x += 36
    draw.text((405, 98), f"kWh x{multiplier}" if multiplier != 1 else "kWh", fill=(20, 30, 20), font=font)
    draw.text((48, 96), "Pos. active total", fill=(20, 30, 20), font=small)
    draw.text((40, 206), f"{month.credit_code}   {month.period}", fill=(20, 20, 20), font=font)
    draw.text((40, 230), "Photo taken at month-end meter reading (demo data)", fill=(70, 70, 70), font=small)
    for i in range(3):  # the three pulse LEDs
        draw.ellipse((400 + 26 * i, 238, 414 + 26 * i, 252), fill=(180, 40, 30) if i == 0 else (90, 90, 90))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=9)
    return buffer.getvalue()
