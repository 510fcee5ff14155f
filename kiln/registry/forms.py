"""Forms of the registry pages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kiln.registry.services import IMPORT_KINDS


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file contains"),
        choices=[(k.key, k.label) for k in IMPORT_KINDS.values()],
        initial="enterprises",
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8, UTF-8 with BOM or GBK) or Excel workbook (.xlsx); the first sheet is read."),
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
