"""Account pages: organisation switch, profile, user and role administration, invitations, API tokens.

User administration is for platform admins (every user) and enterprise managers (their own
enterprise's users); anyone else, and any user outside the manager's scope, gets 404.
Changes go through ``kiln.accounts.services`` and need a recent sign-in (re-authentication).
"""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from kiln.accounts import errors, services
from kiln.accounts.current import SESSION_KEY, current_membership, memberships
from kiln.accounts.forms import InviteForm, MembershipForm, ProfileForm, SetPasswordForm, TokenForm
from kiln.accounts.models import ApiToken, Membership, User
from kiln.accounts.queries import can_manage_users, manageable_memberships, manageable_users, tokens_of
from kiln.accounts.rules import allowed
from kiln.accounts.security import requires_mfa


@login_required
@require_POST
def switch_membership(request):
    """Act under another of the user's own memberships (never someone else's: 404)."""
    wanted = request.POST.get("membership", "")
    held = {str(m.id): m for m in memberships(request.user)}
    if wanted not in held:
        raise Http404
    request.session[SESSION_KEY] = held[wanted].id
    target = request.POST.get("next") or reverse("home")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = reverse("home")
    return HttpResponseRedirect(target)


def email_redirect(request):
    """E-mail addresses are managed by administrators; allauth's e-mail page leads to the profile."""
    return redirect("profile")


# --- profile ----------------------------------------------------------------------------------------


@login_required
def profile(request):
    user = request.user
    form = ProfileForm(request.POST or None, initial={"display_name": user.display_name, "phone": user.phone})
    if request.method == "POST" and form.is_valid():
        services.update_profile(user, actor=user, request=request, **form.cleaned_data)
        messages.success(request, _("Your profile has been saved."))
        return redirect("profile")
    authenticators = Authenticator.objects.filter(user=user).order_by("type")
    context = {
        "form": form,
        "held": Membership.objects.filter(user=user).select_related("organisation", "organisation__region"),
        "authenticators": authenticators,
        "mfa_required": requires_mfa(user),
        "has_strong_mfa": authenticators.filter(type__in=["totp", "webauthn"]).exists(),
        "social_accounts": user.socialaccount_set.all(),
    }
    return render(request, "accounts/profile.html", context)


# --- user administration ------------------------------------------------------------------------------


def _manager(request) -> Membership:
    acting = current_membership(request)
    if not can_manage_users(acting):
        raise Http404
    return acting


def _managed_user(request, pk: int) -> tuple[Membership, User]:
    acting = _manager(request)
    user = get_object_or_404(User, pk=pk)
    if not allowed(acting, "accounts.view_user", user):
        raise Http404
    return acting, user


@login_required
def user_list(request):
    acting = _manager(request)
    show_deleted = request.GET.get("state") == "deleted"
    qs = manageable_users(acting, include_deleted=show_deleted)
    if show_deleted:
        qs = qs.filter(deleted_at__isnull=False)
    elif request.GET.get("state") == "disabled":
        qs = qs.filter(is_active=False)
    elif request.GET.get("state") == "active":
        qs = qs.filter(is_active=True)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q) | Q(email__icontains=q))
    page = Paginator(qs.prefetch_related("memberships__organisation"), 50).get_page(request.GET.get("page"))
    return render(
        request, "accounts/user_list.html", {"page": page, "q": q, "state": request.GET.get("state", "")}
    )


@login_required
@reauthentication_required(allow_get=True)
def user_invite(request):
    acting = _manager(request)
    form = InviteForm(request.POST or None, acting=acting)
    if request.method == "POST" and form.is_valid():
        try:
            user, _link = services.invite_user(
                actor=request.user, acting=acting, request=request, **form.cleaned_data
            )
        except errors.AccountError as exc:
            form.add_error(None, ValidationError(exc.message, code=exc.code))
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
            return redirect("user-detail", pk=user.pk)
    return render(request, "accounts/user_invite.html", {"form": form})


@login_required
def user_detail(request, pk: int):
    acting, user = _managed_user(request, pk)
    from axes.models import AccessAttempt

    context = {
        "subject": user,
        "subject_memberships": manageable_memberships(acting, user),
        "other_memberships": Membership.objects.filter(user=user)
        .exclude(pk__in=manageable_memberships(acting, user).values("pk"))
        .count(),
        "whole_account": allowed(acting, "accounts.change_user", user),
        "locked": AccessAttempt.objects.filter(username=user.username).exists(),
        "role_form": MembershipForm(acting=acting),
        "is_self": user.pk == request.user.pk,
        "mfa": Authenticator.objects.filter(user=user).values_list("type", flat=True),
    }
    return render(request, "accounts/user_detail.html", context)


ACTIONS = {
    "activate": (services.activate_user, _("%(user)s has been activated.")),
    "disable": (services.disable_user, _("%(user)s has been disabled.")),
    "delete": (services.delete_user, _("%(user)s has been deleted.")),
    "unlock": (services.unlock_user, _("%(user)s has been unlocked.")),
}


@login_required
@require_POST
@reauthentication_required
def user_action(request, pk: int, action: str):
    acting, user = _managed_user(request, pk)
    service, done = ACTIONS[action]
    try:
        service(user, actor=request.user, acting=acting, request=request)
    except errors.AccountError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done % {"user": user.username})
    return redirect("user-detail", pk=user.pk)


@login_required
@require_POST
@reauthentication_required
def membership_add(request, pk: int):
    acting, user = _managed_user(request, pk)
    form = MembershipForm(request.POST, acting=acting)
    if form.is_valid():
        try:
            services.add_membership(
                user,
                form.cleaned_data["organisation"],
                form.cleaned_data["role"],
                actor=request.user,
                acting=acting,
                request=request,
            )
        except errors.AccountError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Role granted."))
    else:
        for error_list in form.errors.values():
            for error in error_list:
                messages.error(request, str(error))
    return redirect("user-detail", pk=user.pk)


@login_required
@require_POST
@reauthentication_required
def membership_remove(request, pk: int, membership_id: int):
    acting, user = _managed_user(request, pk)
    membership = get_object_or_404(manageable_memberships(acting, user), pk=membership_id)
    try:
        services.remove_membership(membership, actor=request.user, acting=acting, request=request)
    except errors.AccountError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Role withdrawn."))
    return redirect("user-detail", pk=user.pk)


# --- invitations ---------------------------------------------------------------------------------------


def accept_invitation(request, token: str):
    try:
        invitation = services.find_invitation(token)
    except errors.InvitationInvalid:
        return render(request, "accounts/invitation_invalid.html", status=404)
    if request.user.is_authenticated and request.user.pk != invitation.user_id:
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = SetPasswordForm(request.POST or None, user=invitation.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.accept_invitation(
                invitation, form.cleaned_data["password1"], actor=invitation.user, request=request
            )
        except errors.AccountError:
            return render(request, "accounts/invitation_invalid.html", status=404)
        messages.success(request, _("Your account is active. Log in with your new password."))
        return redirect("login")
    return render(request, "accounts/invitation_accept.html", {"form": form, "invited": invitation.user})


# --- API tokens ------------------------------------------------------------------------------------------


@login_required
@reauthentication_required(allow_get=True)
def token_list(request):
    form = TokenForm(request.POST or None, user=request.user)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = services.create_token(
                actor=request.user,
                membership=form.cleaned_data["membership"],
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_days=form.cleaned_data["expires_days"],
                request=request,
            )
        except errors.AccountError as exc:
            form.add_error(None, ValidationError(exc.message, code=exc.code))
        else:
            created = {"token": token, "secret": raw}
            form = TokenForm(user=request.user)
    context = {"form": form, "tokens": tokens_of(request.user), "created": created}
    response = render(request, "accounts/token_list.html", context)
    if created:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=pk)
    services.revoke_token(token, actor=request.user, request=request)
    messages.success(request, _("Token %(prefix)s revoked.") % {"prefix": token.prefix})
    return redirect("token-list")
