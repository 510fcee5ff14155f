"""PDF (WeasyPrint, embedded CJK font) and DOCX (docxtpl) rendering, templates, and the CLI."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zlib

import pytest
from django.core.management import call_command
from django.utils import translation
from docx import Document

from kiln.audit.models import AuditEvent
from kiln.reports import content, render, services
from kiln.reports.errors import ReportError
from kiln.reports.models import ReportTemplate
from kiln.reports.numbers import format_number
from tests.reports.conftest import YEAR

pytestmark = pytest.mark.django_db


def pdf_objects(data: bytes) -> bytes:
    """The PDF's bytes with every compressed stream inflated (font dictionaries live in object streams)."""
    out = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            out.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(out)


def pdf_text(data: bytes, tmp_path) -> str | None:
    if shutil.which("pdftotext") is None:
        return None
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


@pytest.fixture
def report(reported):
    with translation.override("zh-hans"):
        return content.build(reported.e1, YEAR)


def test_pdf_embeds_a_cjk_font_and_shows_the_official_figures(reported, report, tmp_path):
    with translation.override("zh-hans"):
        data = render.pdf(report)
    assert data.startswith(b"%PDF-")
    objects = pdf_objects(data)
    assert b"/FontFile" in objects, "fonts are embedded"
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+Noto-Sans-CJK-SC", objects), (
        "the CJK font is embedded (subset)"
    )
    if shutil.which("pdffonts"):
        path = tmp_path / "f.pdf"
        path.write_bytes(data)
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        cjk = [line for line in fonts.splitlines() if "CJK" in line]
        assert cjk and all(" yes yes " in line for line in cjk), fonts
    text = pdf_text(data, tmp_path)
    if text is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    assert "E1 水泥有限公司" in text
    assert reported.e1.credit_code in text
    assert format_number(report["total_co2_t"]) in text
    for line in report["by_category"]:
        assert format_number(line["co2_t"]) in text
    for month in report["monthly"]:
        assert format_number(month["co2_t"]) in text


def test_pdf_html_has_every_section_and_an_svg_chart(report):
    html = render.html(report)
    assert "<svg" in html and "<script" not in html
    for n in range(1, 10):
        assert f"<h2>{n} " in html


def test_docx_shows_the_official_figures_and_the_chart(reported, report):
    data = render.docx(report)
    document = Document(io.BytesIO(data))
    assert len(document.inline_shapes) == 1  # the chart
    text = docx_text(data)
    assert "E1 水泥有限公司" in text and reported.e1.credit_code in text
    assert format_number(report["total_co2_t"]) in text
    for line in report["by_category"]:
        assert format_number(line["co2_t"]) in text
    for source in report["sources"]:
        assert format_number(source["co2_t"]) in text
    assert "{{" not in text and "{%" not in text


def test_english_report(reported):
    with translation.override("en"):
        report = content.build(reported.e1, YEAR)
        html = render.html(report)
        assert "Annual greenhouse-gas emission report" in html
        assert "raw coal" in html


def test_monthly_pdf_and_docx(reported, tmp_path):
    made = services.generate(reported.e1, f"{YEAR}-02", "pdf")
    assert made.data.startswith(b"%PDF-") and made.file_name.endswith(f"{YEAR}-02-emission-report.pdf")
    made = services.generate(reported.e1, f"{YEAR}-02", "docx")
    assert f"{YEAR}-02" in docx_text(made.data)


def test_external_resources_are_never_fetched(reported, monkeypatch):
    fetcher = render.url_fetcher()
    for url in ("http://127.0.0.1:9/logo.png", "file:///etc/passwd", "https://example.com/a.css"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    opened = []
    monkeypatch.setattr("urllib.request.OpenerDirector.open", lambda *a, **k: opened.append(a) or None)
    source = (
        '<html><head><link rel="stylesheet" href="http://127.0.0.1:9/a.css"></head><body>'
        '<img src="http://127.0.0.1:9/x.png"><img src="file:///etc/passwd">{{ r.period }}</body></html>'
    )
    services.upload_template(actor=reported.admin, fmt="pdf", name="external", data=source.encode())
    data = render.pdf(content.build(reported.e1, YEAR))
    assert data.startswith(b"%PDF-") and opened == []


def test_uploaded_html_template_is_versioned_and_used(reported):
    source = "{% load reports %}<html><body><h1>CUSTOM {{ r.enterprise.credit_code }}</h1>{{ r.total_co2_t|num:2 }}</body></html>"
    first = services.upload_template(actor=reported.admin, fmt="pdf", name="custom", data=source.encode())
    second = services.upload_template(
        actor=reported.admin, fmt="pdf", name="custom 2", data=source.encode(), activate=False
    )
    assert (first.version, second.version) == (1, 2)
    assert first.active and not ReportTemplate.objects.get(pk=second.pk).active
    report = content.build(reported.e1, YEAR)
    assert f"CUSTOM {reported.e1.credit_code}" in render.html(report)
    assert render.pdf(report).startswith(b"%PDF-")
    services.activate_template(None, actor=reported.admin, fmt="pdf")
    assert "CUSTOM" not in render.html(report)
    assert AuditEvent.objects.filter(target_type="reports.reporttemplate").count() >= 3


def test_broken_templates_are_refused(reported):
    with pytest.raises(ReportError) as caught:
        services.upload_template(actor=reported.admin, fmt="pdf", name="bad", data=b"{% if %}")
    assert caught.value.code == "REP-TEMPLATE-INVALID"
    with pytest.raises(ReportError) as caught:
        services.upload_template(actor=reported.admin, fmt="docx", name="bad", data=b"not a docx")
    assert caught.value.code == "REP-TEMPLATE-INVALID"
    assert not ReportTemplate.objects.exists()


def test_uploaded_docx_template_is_used(reported):
    document = Document()
    document.add_paragraph("MARKER {{ r.enterprise.credit_code }} {{ r.total_co2_t|num(1) }}")
    buffer = io.BytesIO()
    document.save(buffer)
    services.upload_template(actor=reported.admin, fmt="docx", name="mine", data=buffer.getvalue())
    report = content.build(reported.e1, YEAR)
    text = docx_text(render.docx(report))
    assert f"MARKER {reported.e1.credit_code} {format_number(report['total_co2_t'], 1)}" in text


def test_cli_writes_the_report_and_audits_it(reported, tmp_path):
    out = tmp_path / "r.docx"
    call_command(
        "report", reported.e1.credit_code, str(YEAR), "--format", "docx", "-o", str(out), stdout=io.StringIO()
    )
    assert out.read_bytes()[:2] == b"PK"
    event = AuditEvent.objects.filter(event_type=402).latest("id")
    assert event.after["format"] == "docx" and event.after["run"] == reported.run.pk


def test_cli_refuses_unknown_enterprise(reported, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("report", "91330000MA00000000", str(YEAR), "-o", str(tmp_path / "x.pdf"))


def test_chart_png_with_bars_thinner_than_a_pixel():
    from kiln.reports import chart

    series = {"combustion": [1e6] + [0.001] * 11, "electricity_exported": [-0.0004] * 12}
    scene = chart.monthly_chart([f"2024-{m:02d}" for m in range(1, 13)], series, {}, unit="tCO2")
    assert scene.png().startswith(b"\x89PNG")
    assert (
        chart.category_chart({"combustion": 1e6, "process": 1e-4}, {}, unit="t").png().startswith(b"\x89PNG")
    )


def test_a_failing_report_does_not_stop_the_job(reported, monkeypatch):
    from kiln.accounts.models import Membership
    from kiln.reports.models import ReportJob

    job = services.start_job(
        actor=reported.gov_a,
        membership=Membership.objects.get(user=reported.gov_a),
        region=reported.city_a,
        year=YEAR,
        fmt="docx",
        enterprises=None,
    )

    def boom(*args, **kwargs):
        raise ValueError("broken drawing")

    monkeypatch.setattr(render, "docx", boom)
    for part in range(job.parts):
        done = services.run_job(job.pk, part)
    assert done.status == ReportJob.Status.DONE and done.skipped == 1
    assert done.problems == [{"credit_code": reported.e1.credit_code, "code": "REP-RENDER-FAILED"}]
