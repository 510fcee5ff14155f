"""A small per-process memo of reads from official results.

What a calculation run computed never changes (results are never overwritten; a recomputation is
a new run), so a read keyed by the runs it came from — their ids *and* creation times, so a reused
id can never hit — stays true for ever. Reads that also depend on the registry (which enterprises
a region holds, their names) are kept for ``REGISTRY_SECONDS`` only. Bounded: least recently used
entries go first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
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
