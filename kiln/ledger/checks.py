"""System check: a production platform must have its ledger signing key configured."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from kiln.ledger.signing import parse_seed


@register()
def signing_key_configured(app_configs=None, **kwargs) -> list[Error]:
    value = getattr(settings, "KILN_LEDGER_SIGNING_KEY", "")
    if value:
        try:
            parse_seed(value)
        except ImproperlyConfigured as exc:
            return [Error(str(exc), id="kiln_ledger.E002")]
        return []
    if getattr(settings, "PRODUCTION", False):
        return [
            Error(
                _("KILN_LEDGER_SIGNING_KEY is not set."),
                hint=_('Generate one with: python -c "import os; print(os.urandom(32).hex())"'),
                id="kiln_ledger.E001",
            )
        ]
    return []
