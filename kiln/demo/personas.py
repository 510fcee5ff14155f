"""The demo logins: one user per role, in the demo region's organisations."""

from __future__ import annotations

import unicodedata

from django.contrib.auth.hashers import make_password

from kiln.accounts.models import Membership, User
from kiln.accounts.roles import Role

DEMO_PASSWORD = "Kiln-demo-2026"  # noqa: S105 - printed on purpose: demo only

# username, display name (a person's, as real users have), role, how to find the organisation (kind, key)
PERSONAS = [
    ("admin", "陈志远", Role.PLATFORM_ADMIN, ("operator", None)),
    ("expert", "周敏", Role.TECH_EXPERT, ("operator", None)),
    ("province", "钱海燕", Role.GOV_REVIEWER, ("government", 1)),
    ("city", "孙建国", Role.GOV_REVIEWER, ("government", 2)),
    ("county", "李晓丽", Role.GOV_VIEWER, ("government", 3)),
    ("enterprise", "王磊", Role.ENTERPRISE_MANAGER, ("enterprise", None)),
    ("reporter", "刘芳", Role.ENTERPRISE_REPORTER, ("enterprise", None)),
    ("verifier", "吴涛", Role.VERIFIER, ("third_party", "verifier")),
    ("consultant", "郑琳", Role.CONSULTANT, ("third_party", "consultancy")),
    ("grid", "冯强", Role.GRID_MAINTAINER, ("grid", None)),
]


def create_personas(organisations: dict) -> list[User]:
    """Create the demo users. ``organisations`` maps (kind, key) to the organisation to join."""
    users = []
    # One Argon2 hash (~0.6 s) for all of them rather than one each: they share the printed password.
    password = make_password(DEMO_PASSWORD)
    for username, display, role, org_key in PERSONAS:
        user, _ = User.objects.get_or_create(username=username, defaults={"display_name": display})
        user.display_name = display
        user.is_staff = user.is_superuser = role == Role.PLATFORM_ADMIN
        user.password = password
        user.save()
        Membership.objects.get_or_create(user=user, organisation=organisations[org_key], role=role)
        users.append(user)
    return users


def demo_logins() -> list[tuple[str, str, str]]:
    """(role label, username, organisation) for every demo user that exists."""
    rows = []
    names = [p[0] for p in PERSONAS]
    for m in Membership.objects.filter(user__username__in=names).select_related("user", "organisation"):
        rows.append((str(m.get_role_display()), m.user.username, m.organisation.name))
    order = {n: i for i, n in enumerate(names)}
    return sorted(rows, key=lambda r: order[r[1]])


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (a Chinese character takes two)."""
    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - columns, 0)


def login_table() -> list[str]:
    """The demo logins as aligned terminal lines; ``*`` marks those who enrol TOTP at first login."""
    from django.conf import settings

    from kiln.accounts.roles import requires_mfa

    mfa = {username for username, _, role, _ in PERSONAS if requires_mfa(role)}
    if not getattr(settings, "KILN_MFA_ENFORCE", True):
        mfa = set()
    lines = [f"Demo logins, password for all: {DEMO_PASSWORD}"]
    lines += [
        f"  {username:<11} {'*' if username in mfa else ' '} {_pad(role, 16)} {org}"
        for role, username, org in demo_logins()
    ]
    if mfa:
        lines.append(
            "  * sets up an authenticator app (TOTP) at first login: scan the QR code or type the key shown."
        )
    return lines
