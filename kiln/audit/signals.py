"""Authentication events into the audit log: logins, logouts, failures, lockouts, MFA and password changes."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from kiln.audit.events import EventType
from kiln.audit.services import record


def _login_method(request) -> str:
    records = request.session.get("account_authentication_methods") if request is not None else None
    if isinstance(records, list) and records:
        methods = []
        for entry in records:
            method = entry.get("method", "")
            if method == "mfa":
                method = f"mfa:{entry.get('type', '')}"
            elif method == "socialaccount":
                method = f"sso:{entry.get('provider', '')}"
            if method not in methods:
                methods.append(method)
        return "+".join(methods)
    return "session"


def on_logged_in(sender, request, user, **kwargs) -> None:
    record(
        EventType.LOGIN, actor=user, target=user, after={"method": _login_method(request)}, request=request
    )


def on_logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(EventType.LOGOUT, actor=user, target=user, request=request)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = (credentials or {}).get("username") or (credentials or {}).get("email") or ""
    user = get_user_model().objects.filter(username=username).first() if username else None
    target = user if user is not None else ("accounts.user", "", username)
    record(
        EventType.LOGIN_FAILED,
        actor=None,
        target=target,
        after={"username": username[:150], "locked": bool(getattr(request, "axes_locked_out", False))},
        request=request,
    )


def on_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    user = get_user_model().objects.filter(username=username).first() if username else None
    target = user if user is not None else ("accounts.user", "", username or "")
    record(
        EventType.LOCKED_OUT, actor=None, target=target, after={"username": username or ""}, request=request
    )


def _mfa_event(event_type):
    def handler(sender, request, user, authenticator, **kwargs) -> None:
        record(
            event_type,
            actor=user,
            target=user,
            after={"authenticator": authenticator.type, "authenticator_id": authenticator.pk},
            request=request,
        )

    return handler


on_mfa_added = _mfa_event(EventType.MFA_ADDED)
on_mfa_removed = _mfa_event(EventType.MFA_REMOVED)
on_mfa_reset = _mfa_event(EventType.MFA_RESET)
on_mfa_failed = _mfa_event(EventType.MFA_FAILED)


def on_password_changed(sender, request, user, **kwargs) -> None:
    record(EventType.PASSWORD_CHANGED, actor=user, target=user, request=request)


def connect() -> None:
    from allauth.account import signals as account_signals
    from allauth.mfa import signals as mfa_signals
    from axes.signals import user_locked_out

    user_logged_in.connect(on_logged_in, dispatch_uid="kiln.audit.login")
    user_logged_out.connect(on_logged_out, dispatch_uid="kiln.audit.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="kiln.audit.login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="kiln.audit.locked_out")
    mfa_signals.authenticator_added.connect(on_mfa_added, dispatch_uid="kiln.audit.mfa_added")
    mfa_signals.authenticator_removed.connect(on_mfa_removed, dispatch_uid="kiln.audit.mfa_removed")
    mfa_signals.authenticator_reset.connect(on_mfa_reset, dispatch_uid="kiln.audit.mfa_reset")
    mfa_signals.authentication_failed.connect(on_mfa_failed, dispatch_uid="kiln.audit.mfa_failed")
    for signal in (
        account_signals.password_changed,
        account_signals.password_set,
        account_signals.password_reset,
    ):
        signal.connect(on_password_changed, dispatch_uid=f"kiln.audit.password.{id(signal)}")
