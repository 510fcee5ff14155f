"""Forms of the carbon-efficiency pages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class EconomicImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8, UTF-8 with BOM or GBK) or Excel workbook (.xlsx); the first sheet is read."),
    )
    dry_run = forms.BooleanField(label=_("Check only, save nothing"), required=False)
    reason = forms.CharField(
        label=_("Reason for corrections (optional)"),
        required=False,
        max_length=500,
        help_text=_("Rows that change stored figures become new versions; the old ones are kept."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.KILN_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than the upload limit of %(limit_mb)s MB."),
                code="too_large",
                params={"limit_mb": limit // (1024 * 1024)},
            )
        return upload


class GradeForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
