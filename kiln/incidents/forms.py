from django import forms
from django.utils.translation import gettext_lazy as _

from kiln.factors.models import FactorSet
from kiln.incidents.models import Incident, Kind, ResponseLevel

PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"


class IncidentForm(forms.ModelForm):
    class Meta:
        model = Incident
        fields = ["title", "kind", "level", "region", "owner", "summary", "factor_set"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, regions, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions
        self.fields["owner"].queryset = owners
        self.fields["factor_set"].queryset = FactorSet.objects.all()
        self.fields["factor_set"].required = False
        self.fields["factor_set"].help_text = _(
            "For a policy change: the new factor set whose impact is tracked."
        )


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class StatusForm(forms.Form):
    target = forms.ChoiceField(label=_("New status"), choices=Incident.Status.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class LevelForm(forms.Form):
    level = forms.ChoiceField(label=_("Response level"), choices=ResponseLevel.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class FreezeForm(forms.Form):
    credit_code = forms.CharField(label=_("Credit code"), max_length=18)
    period = forms.RegexField(label=_("Month"), regex=PERIOD)


class FindingsForm(forms.Form):
    findings = forms.CharField(
        label=_("Finding numbers"), help_text=_("Separated by commas or spaces."), max_length=2000
    )


class ReviewForm(forms.Form):
    unforeseen = forms.CharField(label=_("What was not foreseen"), widget=forms.Textarea(attrs={"rows": 4}))
    improvements = forms.CharField(label=_("What to improve"), widget=forms.Textarea(attrs={"rows": 4}))


class RecomputeForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)


class PlaybookForm(forms.Form):
    steps_zh = forms.CharField(
        label=_("Steps (Chinese), one per line"), widget=forms.Textarea(attrs={"rows": 10})
    )
    steps_en = forms.CharField(
        label=_("Steps (English), one per line"), widget=forms.Textarea(attrs={"rows": 10})
    )

    @staticmethod
    def lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]


KIND_CHOICES = Kind.choices
