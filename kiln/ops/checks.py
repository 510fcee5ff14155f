"""System checks (``kiln check``) for the operations settings, so a typo fails at deploy, not at 2 a.m."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Warning, register


def parse_time(value: str) -> tuple[int, int] | None:
    """``"HH:MM"`` as (hour, minute), or None."""
    try:
        hour, minute = (int(part) for part in value.split(":", 1))
    except ValueError:
        return None
    return (hour, minute) if 0 <= hour < 24 and 0 <= minute < 60 else None


@register()
def operations_settings(app_configs=None, **kwargs):
    problems = []
    at = getattr(settings, "KILN_BACKUP_AT", "02:00")
    if parse_time(at) is None:
        problems.append(
            Error(
                f"KILN_BACKUP_AT={at!r} is not a time of day.",
                hint='Write it as "HH:MM" in TIME_ZONE, e.g. "02:00". The nightly backup runs at 02:00 until then.',
                id="kiln_ops.E001",
            )
        )
    for network in getattr(settings, "KILN_METRICS_ALLOW", []):
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            problems.append(
                Error(
                    f"KILN_METRICS_ALLOW holds {network!r}, which is not a network.",
                    hint="Comma-separated addresses or CIDR networks, e.g. 10.0.0.0/8,127.0.0.1",
                    id="kiln_ops.E002",
                )
            )
    backup_dir = Path(getattr(settings, "KILN_BACKUP_DIR", Path(settings.VAR_DIR) / "backups")).resolve()
    media = Path(settings.MEDIA_ROOT).resolve()
    if backup_dir == media or media in backup_dir.parents:
        problems.append(
            Warning(
                "KILN_BACKUP_DIR is inside MEDIA_ROOT.",
                hint="Backups are left out of the uploaded files they back up; keep them apart all the same.",
                id="kiln_ops.W001",
            )
        )
    return problems
