"""Turn a report's content into a PDF (WeasyPrint, embedded CJK font) or a DOCX (docxtpl).

The active ``ReportTemplate`` of the format is used, else the shipped default. WeasyPrint gets a
URL fetcher that fetches nothing but ``data:`` URLs: a template (admin-uploaded) can neither reach
the network nor read local files, and a report never depends on anything outside itself.
"""

from __future__ import annotations

import io
from functools import cache

from django.conf import settings
from django.template import Context, Template, TemplateSyntaxError, engines
from django.template.loader import get_template
from django.utils.translation import gettext as _

from kiln.reports.errors import BAD_FORMAT, TEMPLATE_RENDER, ReportError
from kiln.reports.models import ReportFormat, ReportTemplate
from kiln.reports.numbers import format_factor, format_number

DEFAULT_HTML = "reports/pdf/report.html"
PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CONTENT_TYPES: dict[str, str] = {ReportFormat.PDF: PDF_TYPE, ReportFormat.DOCX: DOCX_TYPE}


def font_family() -> str:
    """CSS font-family of PDFs: a CJK font first (fonts-noto-cjk on Debian), so Chinese renders and embeds."""
    return getattr(
        settings,
        "KILN_REPORT_FONT_FAMILY",
        '"Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Micro Hei", sans-serif',
    )


def title_of(report: dict) -> str:
    if report["kind"] == "monthly":
        return _("Monthly greenhouse-gas emission report")
    return _("Annual greenhouse-gas emission report")


def active_template(fmt: str) -> ReportTemplate | None:
    return ReportTemplate.objects.filter(format=fmt, active=True).first()


def file_name(report: dict, fmt: str) -> str:
    return f"{report['enterprise']['credit_code']}-{report['period']}-emission-report.{fmt}"


def render(report: dict, fmt: str, template: ReportTemplate | None = None) -> bytes:
    if fmt == ReportFormat.PDF:
        return pdf(report, template)
    if fmt == ReportFormat.DOCX:
        return docx(report, template)
    raise ReportError(BAD_FORMAT)


# --- PDF ----------------------------------------------------------------------------------------------


def html(report: dict, template: ReportTemplate | None = None) -> str:
    template = template if template is not None else active_template(ReportFormat.PDF)
    context = {
        "r": report,
        "title": title_of(report),
        "chart": report.get("chart"),
        "font_family": font_family(),
    }
    try:
        if template is not None:
            return engines["django"].from_string(template.html).render(context)
        return get_template(DEFAULT_HTML).render(context)
    except TemplateSyntaxError as exc:
        raise ReportError(TEMPLATE_RENDER, detail=str(exc)) from exc


def check_html_template(source: str) -> None:
    """Raise ``TemplateSyntaxError`` when an uploaded HTML template does not compile."""
    Template(source).render(Context({}))


@cache
def url_fetcher():
    """WeasyPrint's fetcher limited to ``data:`` URLs: nothing is fetched from the network or the disk."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, fail_on_errors=False, timeout=1)


@cache
def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def pdf(report: dict, template: ReportTemplate | None = None) -> bytes:
    from weasyprint import HTML

    document = HTML(string=html(report, template), url_fetcher=url_fetcher(), base_url=None)
    return document.write_pdf(font_config=_font_config())


# --- DOCX ---------------------------------------------------------------------------------------------


def _jinja_env():
    import jinja2

    env = jinja2.Environment(autoescape=False)  # noqa: S701 - docxtpl escapes XML itself (autoescape=True below)
    env.filters["num"] = lambda value, places=2: format_number(value, places)
    env.filters["factor"] = format_factor
    env.filters["percent"] = lambda value, places=1: (
        "—" if value is None else f"{float(value) * 100:.{places}f}%"
    )
    return env


def docx(report: dict, template: ReportTemplate | None = None) -> bytes:
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    from kiln.reports import docx_default

    template = template if template is not None else active_template(ReportFormat.DOCX)
    source = (
        bytes(template.docx) if template is not None and template.docx else docx_default.default_template()
    )
    document = DocxTemplate(io.BytesIO(source))
    context = {"r": report, "title": title_of(report), "chart_image": ""}
    scene = (report.get("chart") or {}).get("scene")
    if scene is not None and scene.shapes:
        context["chart_image"] = InlineImage(document, io.BytesIO(scene.png()), width=Mm(165))
    try:
        document.render(context, jinja_env=_jinja_env(), autoescape=True)
    except Exception as exc:  # docxtpl raises jinja2 errors of many kinds for a bad uploaded template
        raise ReportError(TEMPLATE_RENDER, detail=str(exc)[:300]) from exc
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
