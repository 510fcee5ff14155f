from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import password_validators_help_texts, validate_password
from django.utils.translation import gettext_lazy as _

from kiln.accounts.models import ApiToken, Membership
from kiln.accounts.queries import is_platform_manager, manageable_organisations
from kiln.accounts.roles import Role, assignable_roles
from kiln.accounts.services import allowed_scopes


class LoginForm(AllauthLoginForm):
    """allauth's login form; also accepts the field name ``username`` (Django's) for ``login``."""

    def __init__(self, *args, **kwargs):
        data = kwargs.get("data", args[0] if args else None)
        if data is not None and "login" not in data and "username" in data:
            data = data.copy()
            data["login"] = data["username"]
            if args:
                args = (data, *args[1:])
            else:
                kwargs["data"] = data
        super().__init__(*args, **kwargs)


class OrganisationField(forms.CharField):
    """An organisation the manager may act in, entered as credit code, numeric ID or exact name."""

    def __init__(self, *, queryset, **kwargs):
        self.queryset = queryset
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value).strip()
        qs = self.queryset
        found = None
        if value.isdigit():
            found = qs.filter(pk=int(value)).first()
        if found is None:
            found = qs.filter(credit_code=value.upper()).first() or qs.filter(name=value).first()
        if found is None:
            raise forms.ValidationError(
                _("No organisation you manage matches this."), code="organisation_unknown"
            )
        return found


def _role_choices(acting: Membership) -> list[tuple[str, Any]]:
    kinds = {"enterprise", "government", "third_party", "grid", "operator"}
    if not is_platform_manager(acting):
        kinds = {acting.organisation.kind}
    allowed = {r for kind in kinds for r in assignable_roles(acting.role, kind)}
    return [(value, label) for value, label in Role.choices if value in allowed]


class _OrganisationRoleMixin:
    fields: dict[str, forms.Field]

    def _setup_org_role(self, acting: Membership) -> None:
        orgs = manageable_organisations(acting)
        if is_platform_manager(acting):
            self.fields["organisation"] = OrganisationField(
                queryset=orgs,
                label=_("Organisation"),
                help_text=_("Unified social credit code, numeric ID or exact name."),
                max_length=200,
            )
        else:
            self.fields["organisation"] = forms.ModelChoiceField(
                queryset=orgs, label=_("Organisation"), empty_label=None
            )
        self.fields["role"] = forms.ChoiceField(label=_("Role"), choices=_role_choices(acting))


class InviteForm(_OrganisationRoleMixin, forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("E-mail"))
    display_name = forms.CharField(label=_("Display name"), max_length=100, required=False)

    def __init__(self, *args, acting: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_org_role(acting)


class MembershipForm(_OrganisationRoleMixin, forms.Form):
    def __init__(self, *args, acting: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_org_role(acting)


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Password (again)"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = " ".join(str(t) for t in password_validators_help_texts())

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            raise forms.ValidationError(_("The two passwords differ."), code="password_mismatch")
        if data.get("password1"):
            validate_password(data["password1"], self.user)
        return data


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    membership = forms.ModelChoiceField(
        queryset=Membership.objects.none(), label=_("Acting as"), empty_label=None
    )
    scopes = forms.MultipleChoiceField(label=_("Scopes"), widget=forms.CheckboxSelectMultiple, choices=[])
    expires_days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, initial=90)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        held = Membership.objects.filter(user=user, active=True).select_related("organisation")
        self.fields["membership"].queryset = held
        self.fields["membership"].label_from_instance = lambda m: f"{m.organisation} · {m.get_role_display()}"
        scopes = {s for m in held for s in allowed_scopes(m)}
        self.fields["scopes"].choices = [(v, label) for v, label in ApiToken.Scope.choices if v in scopes]
        self.fields["expires_days"].widget.attrs["max"] = settings.KILN_TOKEN_MAX_DAYS

    def clean_expires_days(self):
        days = self.cleaned_data["expires_days"]
        if days > settings.KILN_TOKEN_MAX_DAYS:
            raise forms.ValidationError(
                _("At most %(days)d days."), code="too_long", params={"days": settings.KILN_TOKEN_MAX_DAYS}
            )
        return days
