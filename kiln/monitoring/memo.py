"""Memos of reads from official results: per process, and shared by a host's worker processes.

What a calculation run computed never changes (results are never overwritten; a recomputation is
a new run), so a read keyed by the runs it came from — their ids *and* creation times, so a reused
id can never hit — stays true for ever. Reads that also depend on the registry (which enterprises
a region holds, their names) are kept for ``REGISTRY_SECONDS`` only. Bounded: least recently used
entries go first.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

MAX_ENTRIES = 2048
REGISTRY_SECONDS = 60.0

_entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
_lock = threading.Lock()


def runs_key(runs: Iterable) -> tuple:
    return tuple(sorted((r.pk, r.created.timestamp()) for r in runs))


def remember(key: tuple, compute: Callable[[], Any], *, seconds: float | None = None) -> Any:
    now = time.monotonic()
    with _lock:
        found = _entries.get(key)
        if found is not None and (found[0] == 0 or found[0] > now):
            _entries.move_to_end(key)
            return found[1]
    value = compute()
    with _lock:
        _entries[key] = (now + seconds if seconds else 0, value)
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()


# ------------------------------------------------------------------ shared between processes

SHARED_SECONDS = 300.0  # rendered fragments and API answers: registry names may be this stale
SHARED_ALIAS = "monitoring"  # a CACHES entry of this name (e.g. Redis) is used when configured
_shared = None


def _shared_cache():
    """The ``monitoring`` cache if configured, else files under VAR_DIR shared by every worker of a host."""
    global _shared
    if _shared is None:
        from django.conf import settings
        from django.core.cache import caches
        from django.core.cache.backends.filebased import FileBasedCache

        if SHARED_ALIAS in getattr(settings, "CACHES", {}):
            _shared = caches[SHARED_ALIAS]
        else:
            location = Path(settings.VAR_DIR) / "cache" / "monitoring"
            _shared = FileBasedCache(str(location), {"TIMEOUT": SHARED_SECONDS, "OPTIONS": {"MAX_ENTRIES": 5000}})
    return _shared


def shared(key: tuple, compute: Callable[[], Any], *, seconds: float = SHARED_SECONDS) -> Any:
    """Like ``remember``, in a cache every worker process sees (one miss per key for the whole host).

    The key must name what the value depends on: the official runs (``runs_key``), the language,
    the parameters. Inside a transaction (tests) nothing is cached: ids may be reused after rollback.
    """
    from django.db import transaction

    if transaction.get_connection().in_atomic_block:
        return compute()
    digest = "mon:" + hashlib.sha256(repr(key).encode()).hexdigest()
    cache = _shared_cache()
    found = cache.get(digest, _MISSING)
    if found is not _MISSING:
        return found
    value = compute()
    cache.set(digest, value, seconds)
    return value


def clear_shared() -> None:
    _shared_cache().clear()


_MISSING = object()
