"""Readiness: may this process take traffic? (``/readyz``; ``/healthz`` stays plain liveness.)

Each check returns a ``Check`` with status ``ok``, ``fail`` or ``skipped`` and a short detail that
never contains a password, host name or stack trace (those go to the log). The platform is ready
when no check failed.

- ``database``: a ``SELECT 1`` answers and no migration is waiting to be applied.
- ``cache``: a set and get round trip, when a shared cache (not local memory or dummy) is configured.
- ``queue``: the huey queue (SQLite file or Redis) answers; its length is reported.
- ``disk``: ``VAR_DIR`` has at least ``KILN_READY_MIN_FREE_MB`` free.
- ``ledger_key``: in production, ``KILN_LEDGER_SIGNING_KEY`` is set and is a valid Ed25519 seed.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

logger = logging.getLogger(__name__)

OK, FAIL, SKIPPED = "ok", "fail", "skipped"
LABELS = {
    "database": gettext_lazy("Database"),
    "cache": gettext_lazy("Cache"),
    "queue": gettext_lazy("Job queue"),
    "disk": gettext_lazy("Disk space"),
    "ledger_key": gettext_lazy("Ledger signing key"),
}
STATUS_LABELS = {
    OK: gettext_lazy("OK"),
    FAIL: gettext_lazy("failed"),
    SKIPPED: gettext_lazy("not applicable"),
}
LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@dataclass
class Check:
    name: str
    status: str
    detail: str = ""
    ms: float = 0.0
    value: float | None = None  # a number worth showing (queue length, free MB)

    @property
    def label(self) -> str:
        return str(LABELS.get(self.name, self.name))

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    def as_dict(self) -> dict:
        data = asdict(self)
        del data["name"]
        if data["value"] is None:
            del data["value"]
        return data


# Once every migration is applied in this process's lifetime, the check need not load the graph again.
_migrations_applied = False


def _pending_migrations(connection) -> int:
    global _migrations_applied
    if _migrations_applied:
        return 0
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    _migrations_applied = pending == 0
    return pending


def check_database() -> Check:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    pending = _pending_migrations(connection)
    if pending:
        return Check(
            "database",
            FAIL,
            _("%(count)d migrations not applied (run: kiln migrate)") % {"count": pending},
            value=pending,
        )
    return Check("database", OK, connection.vendor)


def check_cache() -> Check:
    from django.core.cache import caches

    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if not backend or backend in LOCAL_CACHES:
        return Check("cache", SKIPPED, _("no shared cache configured"))
    cache = caches["default"]
    key, token = f"kiln:readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, token, timeout=10)
    got = cache.get(key)
    cache.delete(key)
    if got != token:
        return Check("cache", FAIL, _("the cache did not return what was stored"))
    return Check("cache", OK, backend.rsplit(".", 1)[-1])


def queue_length() -> int:
    from huey.contrib.djhuey import HUEY

    return int(HUEY.pending_count())


def check_queue() -> Check:
    from huey.contrib.djhuey import HUEY

    length = queue_length()
    return Check("queue", OK, type(HUEY).__name__, value=length)


def free_megabytes(path: Path) -> float:
    path.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(path).free / (1024 * 1024)


def check_disk() -> Check:
    minimum = int(getattr(settings, "KILN_READY_MIN_FREE_MB", 1024))
    free = free_megabytes(Path(settings.VAR_DIR))
    status = OK if free >= minimum else FAIL
    detail = _("%(free)d MB free in VAR_DIR (minimum %(minimum)d MB)") % {"free": free, "minimum": minimum}
    return Check("disk", status, detail, value=round(free))


def check_ledger_key() -> Check:
    if not getattr(settings, "PRODUCTION", False):
        return Check("ledger_key", SKIPPED, _("development: a key is generated under VAR_DIR"))
    from django.core.exceptions import ImproperlyConfigured

    from kiln.ledger.signing import parse_seed

    value = getattr(settings, "KILN_LEDGER_SIGNING_KEY", "")
    if not value:
        return Check("ledger_key", FAIL, _("KILN_LEDGER_SIGNING_KEY is not set."))
    try:
        parse_seed(value)
    except ImproperlyConfigured:
        return Check("ledger_key", FAIL, _("KILN_LEDGER_SIGNING_KEY is not a 32-byte Ed25519 seed"))
    return Check("ledger_key", OK, _("configured"))


CHECKS: list[tuple[str, Callable[[], Check]]] = [
    ("database", check_database),
    ("cache", check_cache),
    ("queue", check_queue),
    ("disk", check_disk),
    ("ledger_key", check_ledger_key),
]


def run_checks() -> list[Check]:
    results = []
    for name, check in CHECKS:
        start = time.perf_counter()
        try:
            result = check()
        except Exception as exc:  # a failed probe is a result, not a 500
            logger.warning("readiness check %s failed", name, exc_info=True)
            result = Check(name, FAIL, _("unavailable (%(error)s)") % {"error": type(exc).__name__})
        result.ms = round((time.perf_counter() - start) * 1000, 1)
        results.append(result)
    return results


def is_ready(results: list[Check]) -> bool:
    return all(r.status != FAIL for r in results)
