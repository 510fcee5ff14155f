from django import forms
from django.utils.translation import gettext_lazy as _


class UploadForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))
    dry_run = forms.BooleanField(label=_("Check only, store nothing"), required=False)


class PeriodRangeForm(forms.Form):
    first = forms.RegexField(label=_("From"), regex=r"^\d{4}-(0[1-9]|1[0-2])$", required=False)
    last = forms.RegexField(label=_("To"), regex=r"^\d{4}-(0[1-9]|1[0-2])$", required=False)
