"""Stable error codes of account operations (DESIGN.md rule 4); the text is a translation of the code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class AccountError(Exception):
    code = "KLN-ACC-000"
    message = _("The account operation failed.")

    def __init__(self, message=None):
        if message is not None:
            self.message = message
        super().__init__(f"{self.code}: {self.message}")


class NotInScope(AccountError):
    code = "KLN-ACC-001"
    message = _("This user or organisation is outside what you manage.")


class RoleNotAllowed(AccountError):
    code = "KLN-ACC-002"
    message = _("You cannot grant this role in this organisation.")


class UsernameTaken(AccountError):
    code = "KLN-ACC-003"
    message = _("A user with this username already exists.")


class SelfAction(AccountError):
    code = "KLN-ACC-004"
    message = _("You cannot do this to your own account.")


class InvitationInvalid(AccountError):
    code = "KLN-ACC-005"
    message = _("This invitation link is invalid, used or expired.")


class ScopeNotAllowed(AccountError):
    code = "KLN-ACC-006"
    message = _("You cannot create a token with this scope.")


class SharedUser(AccountError):
    code = "KLN-ACC-007"
    message = _("This user also belongs to organisations you do not manage; withdraw your roles instead.")


class UserDeleted(AccountError):
    code = "KLN-ACC-008"
    message = _("This user has been deleted.")
