from django import forms
from django.utils.translation import gettext_lazy as _

from kiln.accounting.models import CalculationRun
from kiln.factors.models import FactorSet
from kiln.registry.models import Region


class CalculateForm(forms.Form):
    region = forms.ModelChoiceField(queryset=Region.objects.none(), label=_("Region"))
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    factor_set = forms.ModelChoiceField(queryset=FactorSet.objects.all(), label=_("Factor set"))
    grid_series = forms.CharField(
        label=_("Grid factor series"),
        required=False,
        help_text=_("Empty: the factor set's default, e.g. MEE_ETS_GRID/CN or MEE_NBS_AVG/330000."),
    )
    kind = forms.ChoiceField(choices=CalculationRun.Kind.choices, label=_("Kind"))

    def __init__(self, *args, regions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions.filter(level__gte=Region.Level.CITY)


class PromoteForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
