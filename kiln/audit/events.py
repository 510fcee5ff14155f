"""Audit event types: stable integer codes grouped by hundreds (DESIGN.md rule 4).

100s authentication, 200s users and permissions, 300s data changes, 400s exports,
500s views of sensitive data, 600s system operations (backups, restores). Codes are never renumbered; retired codes stay reserved.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.IntegerChoices):
    # 100s: authentication
    LOGIN = 101, _("login")
    LOGOUT = 102, _("logout")
    LOGIN_FAILED = 103, _("failed login")
    LOCKED_OUT = 104, _("account locked after failed logins")
    MFA_ADDED = 105, _("second factor added")
    MFA_REMOVED = 106, _("second factor removed")
    MFA_RESET = 107, _("recovery codes regenerated")
    MFA_FAILED = 108, _("wrong second-factor code")
    PASSWORD_CHANGED = 109, _("password changed")
    SSO_REJECTED = 110, _("single sign-on rejected")
    # 200s: users, roles and permissions
    USER_INVITED = 201, _("user invited")
    USER_ACTIVATED = 202, _("user activated")
    USER_DISABLED = 203, _("user disabled")
    USER_DELETED = 204, _("user deleted")
    MEMBERSHIP_ADDED = 205, _("role granted")
    MEMBERSHIP_REMOVED = 206, _("role withdrawn")
    USER_UNLOCKED = 207, _("user unlocked")
    TOKEN_CREATED = 208, _("API token created")
    TOKEN_REVOKED = 209, _("API token revoked")
    INVITATION_ACCEPTED = 210, _("invitation accepted")
    USER_UPDATED = 211, _("user updated")
    USER_PROVISIONED = 212, _("user provisioned")
    # 300s: data changes (used by every app's services)
    DATA_CREATED = 301, _("record created")
    DATA_UPDATED = 302, _("record updated")
    DATA_DELETED = 303, _("record deleted")
    DATA_IMPORTED = 304, _("data imported")
    DATA_SUBMITTED = 305, _("data submitted")
    # A change asked for and refused (out of turn, not allowed, invalid): ``after`` says what and why.
    ACTION_REFUSED = 306, _("action refused")
    # 400s: exports
    AUDIT_EXPORTED = 401, _("audit log exported")
    DATA_EXPORTED = 402, _("data exported")
    # 500s: views of sensitive data
    AUDIT_VIEWED = 501, _("audit log searched")
    SENSITIVE_VIEWED = 502, _("sensitive record viewed")
    # 600s: system operations
    BACKUP_REQUESTED = 601, _("backup requested")
    BACKUP_CREATED = 602, _("backup taken")
    BACKUP_FAILED = 603, _("backup failed")
    BACKUP_RESTORED = 604, _("database restored from a backup")
    BACKUPS_PRUNED = 605, _("old backups removed")


class Group(models.IntegerChoices):
    AUTH = 100, _("authentication")
    USERS = 200, _("users and permissions")
    DATA = 300, _("data changes")
    EXPORTS = 400, _("exports")
    VIEWS = 500, _("sensitive views")
    SYSTEM = 600, _("system operations")


def group_of(code: int) -> int:
    return (int(code) // 100) * 100
