"""Every change to accounts, roles and tokens (DESIGN.md rule 2).

Each function is one transaction, takes the acting user as keyword-only ``actor`` and writes its
audit event inside that transaction; e-mail leaves via ``transaction.on_commit``. Functions that
manage other users also take ``acting``, the manager's membership that decides the scope (see
``kiln.accounts.queries``). Scope is checked here as well as in the views.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from kiln.accounts import errors, tokens
from kiln.accounts.models import ApiToken, Invitation, Membership, User
from kiln.accounts.queries import (
    can_manage_users,
    fully_managed,
    is_platform_manager,
    manageable_organisations,
    manageable_users,
)
from kiln.accounts.roles import ROLE_ORG_KINDS, Perm, assignable_roles
from kiln.audit.events import EventType
from kiln.audit.services import record


def _snapshot(user: User) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "is_active": user.is_active,
        "deleted": user.deleted_at is not None,
    }


def _membership_snapshot(m: Membership) -> dict:
    return {
        "organisation": m.organisation_id,
        "organisation_name": m.organisation.name,
        "role": m.role,
        "active": m.active,
    }


def _require_manager(acting: Membership | None) -> Membership:
    if not can_manage_users(acting):
        raise errors.NotInScope()
    return acting


def _require_user_in_scope(acting: Membership, user: User, *, whole_account: bool) -> None:
    if not manageable_users(acting, include_deleted=True).filter(pk=user.pk).exists():
        raise errors.NotInScope()
    if whole_account and not fully_managed(acting, user):
        raise errors.SharedUser()


def _require_role_allowed(acting: Membership, organisation, role: str) -> None:
    if not manageable_organisations(acting).filter(pk=organisation.pk).exists():
        raise errors.NotInScope()
    if organisation.kind not in ROLE_ORG_KINDS.get(role, frozenset()):
        raise errors.RoleNotAllowed()
    if role not in assignable_roles(acting.role, organisation.kind):
        raise errors.RoleNotAllowed()


def site_url(request=None) -> str:
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return settings.KILN_SITE_URL.rstrip("/")


# --- invitations ----------------------------------------------------------------------------------


@transaction.atomic
def invite_user(
    *,
    actor: User,
    acting: Membership | None,
    username: str,
    email: str,
    organisation,
    role: str,
    display_name: str = "",
    request=None,
) -> tuple[User, str]:
    """Create an inactive user holding ``role`` in ``organisation`` and e-mail a one-time activation link."""
    acting = _require_manager(acting)
    _require_role_allowed(acting, organisation, role)
    if User.objects.filter(username__iexact=username).exists():
        raise errors.UsernameTaken()
    user = User(username=username, email=email, display_name=display_name, is_active=False)
    user.set_unusable_password()
    user.save()
    membership = Membership.objects.create(user=user, organisation=organisation, role=role)
    _mark_email_verified(user)
    raw = secrets.token_urlsafe(32)
    Invitation.objects.create(
        user=user,
        token_hash=tokens.key_hash(raw),
        created_by=actor,
        expires=timezone.now() + timedelta(days=settings.KILN_INVITATION_DAYS),
    )
    link = site_url(request) + reverse("accept-invitation", kwargs={"token": raw})
    record(
        EventType.USER_INVITED,
        actor=actor,
        target=user,
        after={**_snapshot(user), "membership": _membership_snapshot(membership)},
        request=request,
    )
    context = {
        "user": user,
        "link": link,
        "organisation": organisation,
        "role": membership.get_role_display(),
        "days": settings.KILN_INVITATION_DAYS,
        "platform_name": settings.KILN_PLATFORM_NAME,
    }
    language = translation.get_language()

    def send() -> None:
        with translation.override(language):
            subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
            body = render_to_string("accounts/email/invitation_message.txt", context)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])

    if email:
        transaction.on_commit(send)
    return user, link


@transaction.atomic
def provision_user(
    *,
    actor: User,
    acting: Membership | None,
    username: str,
    email: str = "",
    display_name: str = "",
    first_name: str = "",
    last_name: str = "",
    active: bool = True,
    request=None,
) -> User:
    """Create a user for an identity provider (SCIM). They sign in by SSO: no Kiln password."""
    acting = _require_manager(acting)
    if not is_platform_manager(acting) or not acting.has_perm(Perm.PROVISION_USERS):
        raise errors.NotInScope()
    if User.objects.filter(username__iexact=username).exists():
        raise errors.UsernameTaken()
    user = User(
        username=username,
        email=email,
        display_name=display_name,
        first_name=first_name,
        last_name=last_name,
        is_active=active,
    )
    user.set_unusable_password()
    user.save()
    _mark_email_verified(user)
    record(EventType.USER_PROVISIONED, actor=actor, target=user, after=_snapshot(user), request=request)
    return user


def _mark_email_verified(user: User) -> None:
    """An address an administrator entered counts as verified (it is how SSO finds the user)."""
    if not user.email:
        return
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).delete()
    EmailAddress.objects.update_or_create(
        user=user, email=user.email.lower(), defaults={"verified": True, "primary": True}
    )


def find_invitation(raw: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("user").filter(token_hash=tokens.key_hash(raw or "")).first()
    )
    if invitation is None or not invitation.usable or invitation.user.deleted_at is not None:
        raise errors.InvitationInvalid()
    return invitation


@transaction.atomic
def accept_invitation(invitation: Invitation, password: str, *, actor: User, request=None) -> User:
    """The invited user chooses a password; the account becomes active and the link is spent."""
    invitation = Invitation.objects.select_for_update().select_related("user").get(pk=invitation.pk)
    if not invitation.usable or actor.pk != invitation.user_id:
        raise errors.InvitationInvalid()
    user = invitation.user
    validate_password(password, user)
    user.set_password(password)
    user.is_active = True
    user.save()
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    record(EventType.INVITATION_ACCEPTED, actor=user, target=user, after=_snapshot(user), request=request)
    return user


# --- account state --------------------------------------------------------------------------------


@transaction.atomic
def activate_user(user: User, *, actor: User, acting: Membership | None, request=None) -> User:
    acting = _require_manager(acting)
    _require_user_in_scope(acting, user, whole_account=True)
    if user.deleted_at is not None:
        raise errors.UserDeleted()
    return _set_active(user, True, EventType.USER_ACTIVATED, actor=actor, request=request)


@transaction.atomic
def disable_user(user: User, *, actor: User, acting: Membership | None, request=None) -> User:
    """Sign the user out everywhere and refuse further logins and tokens until re-activated."""
    acting = _require_manager(acting)
    if user.pk == actor.pk:
        raise errors.SelfAction()
    _require_user_in_scope(acting, user, whole_account=True)
    return _set_active(user, False, EventType.USER_DISABLED, actor=actor, request=request)


@transaction.atomic
def delete_user(user: User, *, actor: User, acting: Membership | None, request=None) -> User:
    """Soft delete: the row stays (the audit log refers to it); roles and tokens end, login is refused."""
    acting = _require_manager(acting)
    if user.pk == actor.pk:
        raise errors.SelfAction()
    _require_user_in_scope(acting, user, whole_account=True)
    before = _snapshot(user)
    now = timezone.now()
    user.is_active = False
    user.deleted_at = now
    user.save(update_fields=["is_active", "deleted_at"])
    user.memberships.update(active=False)
    user.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=now)
    user.invitations.filter(used_at__isnull=True).update(expires=now)
    record(
        EventType.USER_DELETED,
        actor=actor,
        target=user,
        before=before,
        after=_snapshot(user),
        request=request,
    )
    return user


@transaction.atomic
def unlock_user(user: User, *, actor: User, acting: Membership | None, request=None) -> int:
    """Clear the failed-login lockout (django-axes) of this user."""
    from axes.utils import reset

    acting = _require_manager(acting)
    _require_user_in_scope(acting, user, whole_account=True)
    cleared = reset(username=user.username)
    record(
        EventType.USER_UNLOCKED,
        actor=actor,
        target=user,
        after={"attempts_cleared": cleared},
        request=request,
    )
    return cleared


@transaction.atomic
def update_user(
    user: User,
    *,
    actor: User,
    acting: Membership | None,
    request=None,
    email: str | None = None,
    display_name: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> User:
    acting = _require_manager(acting)
    _require_user_in_scope(acting, user, whole_account=True)
    before = _snapshot(user)
    for name, value in (
        ("email", email),
        ("display_name", display_name),
        ("first_name", first_name),
        ("last_name", last_name),
    ):
        if value is not None:
            setattr(user, name, value)
    user.save()
    _mark_email_verified(user)
    record(
        EventType.USER_UPDATED,
        actor=actor,
        target=user,
        before=before,
        after=_snapshot(user),
        request=request,
    )
    return user


@transaction.atomic
def update_profile(user: User, *, actor: User, display_name: str, phone: str, request=None) -> User:
    """A user edits their own display name and phone (e-mail is the administrators' business)."""
    if actor.pk != user.pk:
        raise errors.NotInScope()
    before = {"display_name": user.display_name, "phone": user.phone}
    user.display_name, user.phone = display_name, phone
    user.save(update_fields=["display_name", "phone"])
    record(
        EventType.USER_UPDATED,
        actor=actor,
        target=user,
        before=before,
        after={"display_name": user.display_name, "phone": user.phone},
        request=request,
    )
    return user


# --- roles ------------------------------------------------------------------------------------------


@transaction.atomic
def add_membership(
    user: User, organisation, role: str, *, actor: User, acting: Membership | None, request=None
) -> Membership:
    acting = _require_manager(acting)
    if user.deleted_at is not None:
        raise errors.UserDeleted()
    _require_role_allowed(acting, organisation, role)
    if not is_platform_manager(acting) and not manageable_users(acting).filter(pk=user.pk).exists():
        raise errors.NotInScope()
    membership, created = Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
    before = None if created else _membership_snapshot(membership)
    if not membership.active:
        membership.active = True
        membership.save(update_fields=["active"])
    record(
        EventType.MEMBERSHIP_ADDED,
        actor=actor,
        target=membership,
        before=before,
        after={**_membership_snapshot(membership), "user": user.username},
        request=request,
    )
    return membership


@transaction.atomic
def remove_membership(
    membership: Membership, *, actor: User, acting: Membership | None, request=None
) -> Membership:
    """Withdraw a role. The row stays, inactive, as the record that the user once held it."""
    acting = _require_manager(acting)
    if not manageable_organisations(acting).filter(pk=membership.organisation_id).exists():
        raise errors.NotInScope()
    if membership.pk == acting.pk:
        raise errors.SelfAction()
    before = _membership_snapshot(membership)
    membership.active = False
    membership.save(update_fields=["active"])
    membership.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    record(
        EventType.MEMBERSHIP_REMOVED,
        actor=actor,
        target=membership,
        before=before,
        after={**_membership_snapshot(membership), "user": membership.user.username},
        request=request,
    )
    return membership


# --- API tokens -------------------------------------------------------------------------------------


def allowed_scopes(membership: Membership) -> list[str]:
    scopes = [ApiToken.Scope.READ, ApiToken.Scope.WRITE]
    if membership.has_perm(Perm.PROVISION_USERS):
        scopes.append(ApiToken.Scope.SCIM)
    return [str(s) for s in scopes]


@transaction.atomic
def create_token(
    *,
    actor: User,
    membership: Membership,
    name: str,
    scopes: list[str],
    expires_days: int | None = 90,
    request=None,
) -> tuple[ApiToken, str]:
    """A new token acting as one of the actor's own memberships. Returns (token, secret shown once)."""
    if membership.user_id != actor.pk or not membership.active:
        raise errors.NotInScope()
    scopes = sorted(set(scopes))
    if not scopes or any(s not in allowed_scopes(membership) for s in scopes):
        raise errors.ScopeNotAllowed()
    days = (
        settings.KILN_TOKEN_MAX_DAYS
        if expires_days is None
        else min(int(expires_days), settings.KILN_TOKEN_MAX_DAYS)
    )
    raw, prefix, digest = tokens.new_token()
    token = ApiToken.objects.create(
        user=actor,
        membership=membership,
        name=name,
        prefix=prefix,
        key_hash=digest,
        scopes=scopes,
        expires=timezone.now() + timedelta(days=max(days, 1)),
    )
    record(
        EventType.TOKEN_CREATED,
        actor=actor,
        target=token,
        after={"name": name, "prefix": prefix, "scopes": scopes, "expires": token.expires},
        request=request,
    )
    return token, raw


@transaction.atomic
def revoke_token(token: ApiToken, *, actor: User, request=None) -> ApiToken:
    if token.user_id != actor.pk:
        raise errors.NotInScope()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(
            EventType.TOKEN_REVOKED,
            actor=actor,
            target=token,
            after={"prefix": token.prefix},
            request=request,
        )
    return token


def _set_active(user: User, active: bool, event: EventType, *, actor: User, request) -> User:
    """Flip ``is_active`` and record the change with the account before and after."""
    before = _snapshot(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    record(event, actor=actor, target=user, before=before, after=_snapshot(user), request=request)
    return user
