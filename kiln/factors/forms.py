from django import forms
from django.utils.translation import gettext_lazy as _


class FactorSetUploadForm(forms.Form):
    code = forms.SlugField(
        label=_("Code"),
        max_length=64,
        help_text=_("An existing code adds a new version; a new code starts a series."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    name_en = forms.CharField(label=_("English name"), max_length=200, required=False)
    source = forms.CharField(label=_("Source"), widget=forms.Textarea(attrs={"rows": 2}))
    default_grid_series = forms.CharField(label=_("Default grid factor series"), initial="MEE_ETS_GRID/CN")
    file = forms.FileField(
        label=_("Factor file (CSV or XLSX)"),
        help_text=_(
            "Columns: item, parameter, series, year_from, year_to, value, unit, source, confidence, note."
        ),
    )
