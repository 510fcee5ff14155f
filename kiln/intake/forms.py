"""Forms of the intake pages. Size and content checks live in the services, so every door shares them."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kiln.intake.models import EvidenceFile


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        # An empty file is the pipeline's to refuse, with its own code (INT-FILE-EMPTY) and a kept report.
        allow_empty_file=True,
        help_text=_("CSV (UTF-8, UTF-8 with BOM or GBK) or Excel workbook (.xlsx); the first sheet is read."),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run: check the file without saving anything"), required=False, initial=False
    )
    correction_reason = forms.CharField(
        label=_("Correction reason"),
        required=False,
        max_length=500,
        help_text=_("Only to replace data already stored: rows for stored months become new versions."),
    )


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of evidence"), choices=EvidenceFile.Kind.choices)
    cma_cnas = forms.BooleanField(
        label=_("Test report bears the CMA or CNAS mark"),
        required=False,
        help_text=_("Only for laboratory test reports."),
    )
    file = forms.FileField(label=_("File"), help_text=_("PDF, PNG, JPEG, Excel (.xlsx) or CSV."))


class FreezeForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("freeze", _("Freeze")), ("unfreeze", _("Unfreeze"))], widget=forms.HiddenInput
    )
    reason = forms.CharField(label=_("Reason"), max_length=500)
