"""The shipped DOCX template, built with python-docx: a Word document with docxtpl (Jinja) tags.

Built in code rather than kept as a binary file, so a change to it is a readable diff. Headings
and fixed text are translated when the template is built (one build per language, cached);
admins who want another layout download this one from the template page, edit it in Word and
upload it as a new version. The tags it uses are the report context of ``content.build``
(``r.*``), ``title``, ``chart_image`` and the filters ``num(places)``, ``factor`` and ``percent``.
"""

from __future__ import annotations

import io
from functools import lru_cache

from django.conf import settings
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

BRAND = RGBColor(0xB4, 0x44, 0x1F)


def east_asian_font() -> str:
    return getattr(settings, "KILN_REPORT_DOCX_FONT", "宋体")


def _set_fonts(document) -> None:
    for style_name in ("Normal", "Heading 1", "Heading 2", "Heading 3", "Title", "Table Grid"):
        try:
            style = document.styles[style_name]
        except KeyError:
            continue
        style.font.name = (
            "Arial" if style_name.startswith("Heading") or style_name == "Title" else "Times New Roman"
        )
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        fonts.set(qn("w:eastAsia"), east_asian_font())
    document.styles["Normal"].font.size = Pt(10)


def _table(
    document,
    headers: list[str],
    cells: list[str],
    loop: str,
    *,
    numeric: frozenset[int] | set[int] = frozenset(),
):
    """A table whose body repeats one row per item of ``loop`` (``"s in r.sources"``)."""
    table = document.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, header in enumerate(headers):
        cell = table.rows[0].cells[i]
        cell.text = header
        for run in cell.paragraphs[0].runs:
            run.bold = True
    table.rows[1].cells[0].text = "{%tr for " + loop + " %}"
    for i, content in enumerate(cells):
        paragraph = table.rows[2].cells[i].paragraphs[0]
        paragraph.text = content
        if i in numeric:
            paragraph.alignment = 2  # right
    table.rows[3].cells[0].text = "{%tr endfor %}"
    return table


def _facts(document, rows: list[tuple[str, str]]):
    table = document.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    for i, (label, value) in enumerate(rows):
        table.rows[i].cells[0].text = label
        table.rows[i].cells[1].text = value
        table.rows[i].cells[0].width = Mm(55)
    return table


def build() -> bytes:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(18)
    section.top_margin, section.bottom_margin = Mm(20), Mm(18)
    _set_fonts(document)
    section.header.paragraphs[0].text = "{{ r.enterprise.name }} · {{ title }} {{ r.period }}"

    title = document.add_heading("{{ r.enterprise.name }}", level=0)
    title.runs[0].font.color.rgb = BRAND
    document.add_paragraph("{{ title }} · {{ r.period }}")
    document.add_paragraph(
        _(
            "Prepared following GB/T 32150-2015 (general rules for greenhouse-gas accounting and reporting of "
            "industrial enterprises)"
        )
    )
    document.add_paragraph(_("Total emissions") + ": {{ r.total_co2_t|num(2) }} tCO2e").runs[0].bold = True
    document.add_paragraph(
        _("Generated")
        + " {{ r.generated_at }} · "
        + _("Calculation run")
        + " #{{ r.run.id }} · "
        + _("Factor set")
        + " {{ r.factor_set }}"
    )

    document.add_heading("1 " + _("Reporting entity"), level=1)
    _facts(
        document,
        [
            (_("Enterprise name"), "{{ r.enterprise.name }}"),
            (_("Unified social credit code"), "{{ r.enterprise.credit_code }}"),
            (_("Region"), "{{ r.enterprise.region }} ({{ r.enterprise.region_code }})"),
            (_("Industry (GB/T 4754)"), "{{ r.enterprise.industry_code }} {{ r.enterprise.industry }}"),
            (_("Size"), "{{ r.enterprise.size }}"),
            (_("Address"), "{{ r.enterprise.address or '—' }}"),
            (_("Contact"), "{{ r.enterprise.contact or '—' }} {{ r.enterprise.phone }}"),
            (_("Reporting period"), "{{ r.period }}"),
        ],
    )

    document.add_heading("2 " + _("Accounting boundary"), level=1)
    document.add_paragraph(
        _(
            "The reporting entity is the enterprise as a legal person. The boundary covers its main production "
            "system, auxiliary production systems and the ancillary systems that directly serve production."
        )
    )
    document.add_paragraph(
        _("Sources in scope")
        + ": {{ r.boundary.categories|join('、') }}. "
        + _("Biomass combustion is reported separately and not counted in the total.")
    )
    document.add_paragraph(_("Gases covered") + ": {{ r.boundary.gases|join(', ') }}.")
    document.add_heading(_("Facilities"), level=2)
    _table(
        document,
        [_("Code"), _("Name"), _("Kind"), _("Capacity")],
        ["{{ f.code }}", "{{ f.name }}", "{{ f.kind }}", "{{ f.capacity }}"],
        "f in r.facilities",
    )

    document.add_heading("3 " + _("Emission sources"), level=1)
    _table(
        document,
        [_("Source category"), _("Item"), _("Facility"), _("Formula"), _("Tier"), "tCO2e"],
        [
            "{{ s.category_label }}",
            "{{ s.item_label }}",
            "{{ s.facility or '—' }}",
            "{{ s.formula_text }}",
            "{{ s.tier_text }}",
            "{{ s.co2_t|num(2) }}",
        ],
        "s in r.sources",
        numeric={5},
    )

    document.add_heading("4 " + _("Activity data"), level=1)
    _table(
        document,
        [_("Item"), _("Facility"), _("Quantity"), _("Unit"), _("Data sources"), _("Months with data"), "tce"],
        [
            "{{ a.item_label }}",
            "{{ a.facility or '—' }}",
            "{{ a.quantity|num(3) }}",
            "{{ a.unit }}",
            "{{ a.data_sources }}",
            "{{ a.months }}",
            "{{ a.tce|num(2) }}",
        ],
        "a in r.activity",
        numeric={2, 5, 6},
    )
    document.add_heading(_("Measured parameters"), level=2)
    _table(
        document,
        [
            _("Parameter"),
            _("Facility"),
            _("Months with data"),
            _("Lowest"),
            _("Mean"),
            _("Highest"),
            _("Unit"),
        ],
        [
            "{{ m.item_label }}",
            "{{ m.facility or '—' }}",
            "{{ m.months }}",
            "{{ m.low|factor }}",
            "{{ m.mean|factor }}",
            "{{ m.high|factor }}",
            "{{ m.unit }}",
        ],
        "m in r.measured",
        numeric={2, 3, 4, 5},
    )

    document.add_heading("5 " + _("Emission factors and their sources"), level=1)
    document.add_paragraph(
        _("Factor set")
        + ": {{ r.factor_set }} ({{ r.factor_set_name }}); "
        + _("grid factor series")
        + ": {{ r.grid_series }}."
    )
    _table(
        document,
        [_("Item"), _("Parameter"), _("Value"), _("Unit"), _("Source"), _("Confidence")],
        [
            "{{ f.item_label }}",
            "{{ f.parameter_label }}{% if f.series %} ({{ f.series }}){% endif %}",
            "{{ f.value|factor }}",
            "{{ f.unit }}",
            "{{ f.source }}",
            "{{ f.confidence }}",
        ],
        "f in r.factors",
        numeric={2},
    )
    document.add_heading(_("Factors applied per source"), level=2)
    _table(
        document,
        [_("Item"), _("Facility"), _("Quantity"), _("Unit"), _("Effective factor"), "tCO2e"],
        [
            "{{ s.item_label }}",
            "{{ s.facility or '—' }}",
            "{{ s.quantity|num(3) }}",
            "{{ s.unit }}",
            "{{ s.effective_factor|factor }}",
            "{{ s.co2_t|num(2) }}",
        ],
        "s in r.sources",
        numeric={2, 4, 5},
    )

    document.add_heading("6 " + _("Emissions"), level=1)
    document.add_heading(_("By source category"), level=2)
    _table(
        document,
        [_("Source category"), "tCO2e"],
        ["{{ c.label }}", "{{ c.co2_t|num(2) }}"],
        "c in r.by_category",
        numeric={1},
    )
    document.add_paragraph(_("Total (GB/T 32150)") + ": {{ r.total_co2_t|num(2) }} tCO2e").runs[0].bold = True
    document.add_paragraph(_("Memo: biomass CO2, not in the total") + ": {{ r.biomass_co2_t|num(2) }} tCO2")
    document.add_heading(_("By gas"), level=2)
    _table(
        document,
        [_("Gas"), "tCO2e"],
        [
            "{{ g.gas }}",
            "{% if g.estimated %}{{ g.co2e_t|num(2) }}{% else %}" + _("not estimated (NE)") + "{% endif %}",
        ],
        "g in r.by_gas",
        numeric={1},
    )
    document.add_paragraph("{{ chart_image }}")
    document.add_heading(_("By month"), level=2)
    _table(
        document,
        [_("Month"), "tCO2e", "tce"],
        ["{{ m.period }}", "{{ m.co2_t|num(2) }}", "{{ m.tce|num(2) }}"],
        "m in r.monthly",
        numeric={1, 2},
    )
    document.add_heading(_("Energy use"), level=2)
    _table(
        document,
        [_("Energy type"), "tce"],
        ["{{ e.label }}", "{{ e.tce|num(2) }}"],
        "e in r.energy",
        numeric={1},
    )
    document.add_paragraph(_("Total") + ": {{ r.total_tce|num(2) }} tce")

    document.add_heading("7 " + _("Data-quality management"), level=1)
    _facts(
        document,
        [
            (_("Months reported"), "{{ r.quality.months_reported }} / {{ r.quality.months_expected }}"),
            (
                _("Months with evidence deposited"),
                "{{ r.quality.months_with_evidence }} / {{ r.quality.months_expected }}",
            ),
            (_("Share of emissions from measured parameters"), "{{ r.quality.measured_share|percent }}"),
            (_("Corrected rows (version 2 or later)"), "{{ r.quality.corrected_rows }}"),
            (
                _("Calculation"),
                "#{{ r.run.id }} · {{ r.run.region }} {{ r.run.year }} · {{ r.run.engine_version }}",
            ),
            (_("Input rows SHA-256"), "{{ r.run.inputs_sha256 }}"),
            (_("Figures SHA-256"), "{{ r.figures_sha256 }}"),
            (_("Self-check"), "{{ r.quality.self_check.summary if r.quality.self_check else '—' }}"),
            (_("Review"), "{{ r.quality.review_state or '—' }}"),
            (_("Third-party verification"), "{{ r.quality.verification or '—' }}"),
        ],
    )
    document.add_heading(_("Warnings acknowledged by the enterprise"), level=2)
    _table(
        document,
        [_("Check"), _("Finding"), _("Explanation")],
        ["{{ a.code }}", "{{ a.message }}", "{{ a.explanation }}"],
        "a in r.quality.acknowledged or []",
    )
    document.add_heading(_("Monthly evidence deposit"), level=2)
    _table(
        document,
        [_("Month"), _("Deadline"), _("Status"), _("Files")],
        ["{{ d.period }}", "{{ d.deadline }}", "{{ d.status_label }}", "{{ d.files }}"],
        "d in r.quality.deposits",
        numeric={3},
    )

    document.add_heading("8 " + _("Evidence list"), level=1)
    _table(
        document,
        [_("Month"), _("Kind"), _("File"), "CMA/CNAS", "SHA-256", _("Ledger entry")],
        [
            "{{ e.period }}",
            "{{ e.kind }}",
            "{{ e.name }}",
            "{{ '✔' if e.cma_cnas else '' }}",
            "{{ e.sha256 }}",
            "{{ e.ledger_index if e.ledger_index is not none else '—' }}",
        ],
        "e in r.evidence",
    )

    document.add_heading("9 " + _("Declaration"), level=1)
    document.add_paragraph(
        _(
            "We declare that the data in this report are true, accurate and complete, that the evidence listed "
            "above is the original record, and we accept responsibility for them."
        )
    )
    document.add_paragraph(_("Legal representative (signature)") + ": ____________________")
    document.add_paragraph(_("Enterprise (seal)") + ": ____________________")
    document.add_paragraph(_("Date") + ": ____________________")

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@lru_cache(maxsize=8)
def _cached(language: str) -> bytes:
    with override(language):
        return build()


def default_template() -> bytes:
    """The shipped DOCX template in the current language."""
    return _cached(get_language() or settings.LANGUAGE_CODE)
