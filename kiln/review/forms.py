from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kiln.registry.models import ThirdPartyAgency
from kiln.review.models import (
    ExtensionRequest,
    ReportType,
    SampledEnterprise,
    SamplingDraw,
    State,
    VerificationAssignment,
    VerificationFinding,
)

COMMENT_ROWS = 3


class OpenForm(forms.Form):
    period = forms.RegexField(
        label=_("Period"),
        regex=r"^\d{4}(-(0[1-9]|1[0-2]))?$",
        help_text=_("A year (2024) for the annual report, a month (2024-03) for a monthly one."),
    )


class TransitionForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— the report as a whole —")), *items]
        for i in range(1, COMMENT_ROWS + 1):
            self.fields[f"item_{i}"] = forms.ChoiceField(
                label=_("Data item"), choices=choices, required=False
            )
            self.fields[f"text_{i}"] = forms.CharField(
                label=_("Comment on it"), required=False, widget=forms.Textarea(attrs={"rows": 2})
            )

    def item_comments(self) -> list[tuple[str, str]]:
        data = self.cleaned_data
        return [
            (data.get(f"item_{i}") or "", data.get(f"text_{i}") or "")
            for i in range(1, COMMENT_ROWS + 1)
            if (data.get(f"text_{i}") or "").strip()
        ]

    def comment_rows(self):
        return [(self[f"item_{i}"], self[f"text_{i}"]) for i in range(1, COMMENT_ROWS + 1)]


class AcknowledgeForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput)
    explanation = forms.CharField(label=_("Explanation"), widget=forms.Textarea(attrs={"rows": 2}))


class InformationForm(forms.Form):
    question = forms.CharField(label=_("Question"), widget=forms.Textarea(attrs={"rows": 3}))
    due = forms.DateField(
        label=_("Answer by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 3}))


class ExtensionForm(forms.Form):
    until = forms.DateField(label=_("New deadline"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class DecideExtensionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            (ExtensionRequest.Decision.GRANTED, _("Grant")),
            (ExtensionRequest.Decision.DECLINED, _("Decline")),
        ]
    )
    note = forms.CharField(label=_("Note"), required=False)


class ReassignForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("Stage"), choices=[("preliminary", _("preliminary review")), ("final", _("final review"))]
    )
    assignee = forms.IntegerField(label=_("Reviewer"))


class RespondForm(forms.Form):
    response = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 2}))


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("all but drafts")), *[c for c in State.choices if c[0] != State.DRAFT]],
    )
    year = forms.CharField(label=_("Year"), required=False, max_length=4)
    report_type = forms.ChoiceField(
        label=_("Report type"), required=False, choices=[("", _("all")), *ReportType.choices]
    )
    region = forms.ChoiceField(label=_("Region"), required=False)
    industry = forms.CharField(label=_("Industry code"), required=False, max_length=5)
    q = forms.CharField(label=_("Enterprise"), required=False, max_length=100)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", _("all")), *[(r.code, f"{r.code} {r.label}") for r in regions]]


class AssignVerifierForm(forms.Form):
    credit_code = forms.CharField(label=_("Enterprise (credit code)"), max_length=18)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    agency = forms.ModelChoiceField(label=_("Verification body"), queryset=ThirdPartyAgency.objects.none())
    access_until = forms.DateField(
        label=_("Access until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = ThirdPartyAgency.objects.filter(
            agency_type=ThirdPartyAgency.AgencyType.VERIFIER, active=True
        ).order_by("name")


class EngagementForm(forms.Form):
    credit_code = forms.CharField(label=_("Enterprise (credit code)"), max_length=18)
    agency = forms.ModelChoiceField(label=_("Third party"), queryset=ThirdPartyAgency.objects.none())
    starts = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    scope = forms.CharField(label=_("Scope of work"), required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = ThirdPartyAgency.objects.filter(active=True).order_by("name")


class FindingForm(forms.Form):
    severity = forms.ChoiceField(label=_("Severity"), choices=VerificationFinding.Severity.choices)
    item_key = forms.CharField(label=_("Data item"), required=False, max_length=200)
    text = forms.CharField(label=_("Finding"), widget=forms.Textarea(attrs={"rows": 2}))


class ConclusionForm(forms.Form):
    conclusion = forms.ChoiceField(label=_("Conclusion"), choices=VerificationAssignment.Conclusion.choices)
    verified_total_t = forms.FloatField(label=_("Verified total tCO2e"), required=False)
    text = forms.CharField(
        label=_("Conclusion text"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    report = forms.FileField(label=_("Signed verification report (PDF)"))


class WithdrawAssignmentForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000)


class DrawForm(forms.Form):
    region = forms.ChoiceField(label=_("Region"))
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    size = forms.IntegerField(label=_("Sample size"), min_value=1, max_value=10000)
    stratify_by = forms.ChoiceField(label=_("Strata"), choices=SamplingDraw.Strata.choices)
    seed = forms.IntegerField(label=_("Seed (empty: random)"), required=False, min_value=0, max_value=2**62)

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r.code, f"{r.code} {r.label}") for r in regions]


class RedrawForm(forms.Form):
    reason = forms.CharField(label=_("Why draw again"), widget=forms.Textarea(attrs={"rows": 2}))
    seed = forms.IntegerField(label=_("Seed (empty: random)"), required=False, min_value=0, max_value=2**62)


class ResultForm(forms.Form):
    result = forms.ChoiceField(
        label=_("Result"),
        choices=[c for c in SampledEnterprise.Result.choices if c[0] != SampledEnterprise.Result.PENDING],
    )
    inspected_on = forms.DateField(
        label=_("Inspected on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(
        label=_("What was found"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
