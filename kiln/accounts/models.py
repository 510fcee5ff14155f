"""Users, their memberships of registry organisations, password history, invitations and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kiln.accounts.roles import ROLE_ORG_KINDS, Role, permissions_of


class User(AbstractUser):
    """A person. What they may see and do comes from their memberships.

    Users are never deleted: "delete" sets ``deleted_at`` and deactivates the account,
    so the audit log keeps pointing at a real row.
    """

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    password_changed_at = models.DateTimeField(_("password changed"), null=True, blank=True, editable=False)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def state(self) -> str:
        if self.deleted_at:
            return "deleted"
        if self.is_active:
            return "active"
        if not self.has_usable_password() and self.invitations.filter(used_at__isnull=True).exists():
            return "invited"
        return "disabled"


class Membership(models.Model):
    """A user holds a role in an organisation; a user may hold several and switch between them."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        "registry.Organisation",
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    active = models.BooleanField(_("active"), default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="membership_unique"),
        ]
        ordering = ["user", "organisation"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation} · {self.get_role_display()}"

    def clean(self) -> None:
        allowed = ROLE_ORG_KINDS.get(self.role, frozenset())
        if self.organisation_id and self.organisation.kind not in allowed:
            raise ValidationError(
                {"role": _("This role cannot be held in an organisation of this kind.")}, code="role_org_kind"
            )

    def has_perm(self, perm: str) -> bool:
        return self.active and perm in permissions_of(self.role)


class PasswordHistory(models.Model):
    """The hashes of a user's previous passwords, so the last N cannot be reused."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)  # the hasher's encoded hash, never the password
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("previous password")
        verbose_name_plural = _("previous passwords")

    def __str__(self) -> str:
        return f"{self.user} · {self.created:%Y-%m-%d}"


class Invitation(models.Model):
    """A one-time link that lets an invited user choose a password and activate the account."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)  # HMAC-SHA256 of the link's secret
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("invited by")
    )
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.user} · {self.created:%Y-%m-%d}"

    @property
    def usable(self) -> bool:
        return self.used_at is None and self.expires > timezone.now()


class ApiToken(models.Model):
    """A bearer token for the REST API or SCIM. Only ``prefix`` and a keyed hash are stored.

    The token a user sees once is ``<prefix>_<secret>``, e.g. ``kiln_ab12cd34_...``;
    ``prefix`` (``kiln_`` + 8 characters) identifies it in lists and logs.
    """

    class Scope(models.TextChoices):
        READ = "read", _("read")
        WRITE = "write", _("write")
        SCIM = "scim", _("SCIM provisioning")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("acting as")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created = models.DateTimeField(_("created"), default=timezone.now)
    expires = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def organisation(self):
        return self.membership.organisation

    @property
    def is_expired(self) -> bool:
        return self.expires is not None and self.expires <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
