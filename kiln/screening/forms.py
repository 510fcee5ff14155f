from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from kiln.screening.models import Finding, Level, RuleVersion, Severity
from kiln.screening.workflow import Action

PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"


class RunForm(forms.Form):
    period = forms.RegexField(label=_("Month"), regex=PERIOD, required=False, help_text="YYYY-MM")
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
    region = forms.ModelChoiceField(label=_("Region"), queryset=None, required=False)

    def __init__(self, *args, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions

    def clean(self):
        data = super().clean()
        if bool(data.get("period")) == bool(data.get("year")):
            raise forms.ValidationError(_("Give either a month or a year."))
        return data


class QueueFilter(forms.Form):
    level = forms.ChoiceField(
        label=_("Level"), choices=[("", _("All levels")), *Level.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Open (all open statuses)")), ("all", _("All")), *Finding.Status.choices],
        required=False,
    )
    severity = forms.ChoiceField(
        label=_("Severity"), choices=[("", _("All")), *Severity.choices], required=False
    )
    rule = forms.CharField(label=_("Rule"), required=False, max_length=32)
    period = forms.CharField(label=_("Month"), required=False, max_length=7)
    county = forms.CharField(label=_("County code"), required=False, max_length=6)
    industry = forms.CharField(label=_("Industry code"), required=False, max_length=5)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    overdue = forms.BooleanField(label=_("Past the deadline"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("rule", "period", "county", "industry"):  # the labels are for screen readers only
            self.fields[name].widget.attrs["placeholder"] = self.fields[name].label


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            (Action.ASSIGN, Action.ASSIGN.label),
            (Action.ACKNOWLEDGE, Action.ACKNOWLEDGE.label),
            (Action.DISMISS, Action.DISMISS.label),
            (Action.ESCALATE, Action.ESCALATE.label),
        ]
    )
    ids = forms.CharField()
    assignee = forms.IntegerField(required=False)
    deadline = forms.DateField(required=False)
    comment = forms.CharField(required=False, max_length=2000)

    def id_list(self) -> list[int]:
        return [int(x) for x in self.cleaned_data["ids"].replace(",", " ").split() if x.isdigit()]


class TransitionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment or reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )
    assignee = forms.IntegerField(label=_("Assignee"), required=False)
    deadline = forms.DateField(
        label=_("Deadline"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    answer_kind = forms.ChoiceField(
        label=_("Answer"),
        required=False,
        choices=[
            ("correction", _("the data were corrected")),
            ("explanation", _("the data are right: explanation")),
        ],
    )
    evidence = forms.FileField(label=_("Evidence file"), required=False)


class RuleForm(forms.ModelForm):
    params = forms.CharField(
        label=_("Parameters (JSON)"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )

    class Meta:
        model = RuleVersion
        fields = [
            "engine_check",
            "severity",
            "sector",
            "item",
            "parameter",
            "low",
            "high",
            "params",
            "message_zh",
            "message_en",
            "route_to",
            "deadline_days",
            "enabled",
            "note",
        ]
        widgets = {
            "message_zh": forms.Textarea(attrs={"rows": 2}),
            "message_en": forms.Textarea(attrs={"rows": 2}),
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.initial["params"] = json.dumps(self.instance.params, ensure_ascii=False, indent=1)

    def clean_params(self):
        text = self.cleaned_data.get("params") or "{}"
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(error)s") % {"error": exc}) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_('Give a JSON object: {"name": value, ...}.'))
        return value


class NewRuleForm(RuleForm):
    rule_id = forms.RegexField(
        label=_("Rule ID"),
        regex=r"^KLN-[A-Z]+(-[A-Z]+)*-\d{3}$",
        help_text=_("KLN-<FAMILY>-NNN, e.g. KLN-RANGE-040."),
    )

    class Meta(RuleForm.Meta):
        fields = ["rule_id", *RuleForm.Meta.fields]
