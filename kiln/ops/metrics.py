"""Prometheus metrics: HTTP requests by view, and Kiln's own gauges computed when scraped.

Request metrics live in ``prometheus_client``'s default registry. Under gunicorn with several
workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory (the same for every worker, emptied
at each start) so ``/metrics`` adds up all workers; without it, each scrape sees one worker.

Kiln's gauges (enterprises, activity rows, open findings, the age of the newest official run,
backups, queue length) are read from the database at scrape time by ``KilnCollector`` and cached
for ``CACHE_SECONDS`` so a busy scraper cannot load the database.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator

from django.apps import apps
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

UNRESOLVED = "<unresolved>"  # 404s of unknown paths share one label: paths never become labels
CACHE_SECONDS = 30

REQUESTS = Counter(
    "kiln_http_requests_total",
    "HTTP responses, by URL name (view), method and status code.",
    ["view", "method", "status"],
)
LATENCY = Histogram(
    "kiln_http_request_duration_seconds",
    "Time from the request entering Kiln to its response, by URL name (view) and method.",
    ["view", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _view_label(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNRESOLVED
    return match.view_name or match.route or UNRESOLVED


class MetricsMiddleware:
    """Counts and times every response. First in MIDDLEWARE, so redirects and refusals count too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        view = _view_label(request)
        method = request.method if request.method in METHODS else "OTHER"
        LATENCY.labels(view, method).observe(time.perf_counter() - start)
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        return response


# --- Kiln's gauges -----------------------------------------------------------------------------------


def _count(label: str, **filters) -> int | None:
    try:
        model = apps.get_model(label)
    except LookupError:
        return None
    return model.objects.filter(**filters).count()


def kiln_values() -> dict[str, float | None]:
    """The numbers behind Kiln's gauges; ``None`` where the app holding them is not installed."""
    from django.utils import timezone

    from kiln.ops import backups

    values: dict[str, float | None] = {
        "enterprises": _count("registry.Enterprise"),
        "activity_rows": _count("intake.ActivityRecord"),
        "open_findings": None,
        "last_official_run_age": None,
        "backups": None,
        "last_backup_timestamp": None,
        "queue_length": None,
    }
    from django.db.models import Max
    from django.db.models.functions import Coalesce

    from kiln.accounting.models import CalculationRun
    from kiln.screening.models import OPEN_STATUSES

    values["open_findings"] = _count("screening.Finding", status__in=OPEN_STATUSES)
    newest = CalculationRun.objects.filter(official=True).aggregate(
        at=Max(Coalesce("promoted_at", "created"))
    )["at"]
    if newest is not None:
        values["last_official_run_age"] = max(0.0, (timezone.now() - newest).total_seconds())
    archives = backups.list_backups()
    values["backups"] = len(archives)
    if archives:
        values["last_backup_timestamp"] = archives[0].created.timestamp()
    from kiln.ops.readiness import queue_length

    values["queue_length"] = queue_length()
    return values


GAUGES = {
    "enterprises": ("kiln_enterprises", "Enterprises in the registry."),
    "activity_rows": ("kiln_activity_rows", "Monthly activity-data rows held (every version)."),
    "open_findings": ("kiln_open_findings", "Screening findings not yet closed, acknowledged or dismissed."),
    "last_official_run_age": (
        "kiln_last_official_run_age_seconds",
        "Seconds since the newest official calculation run was made official.",
    ),
    "backups": ("kiln_backups", "Backup archives in KILN_BACKUP_DIR."),
    "last_backup_timestamp": (
        "kiln_last_backup_timestamp_seconds",
        "Unix time of the newest backup archive in KILN_BACKUP_DIR.",
    ),
    "queue_length": ("kiln_queue_length", "Background jobs waiting in the huey queue."),
}


class KilnCollector(Collector):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: tuple[float, dict[str, float | None]] | None = None

    def values(self) -> dict[str, float | None]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > CACHE_SECONDS:
                self._cached = (now, kiln_values())
            return self._cached[1]

    def clear(self) -> None:
        with self._lock:
            self._cached = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from kiln.ops.versions import versions

        info = GaugeMetricFamily(
            "kiln_build_info",
            "Versions of Kiln and its parts (always 1).",
            labels=["kiln", "django", "polars", "engine"],
        )
        v = versions()
        info.add_metric([v["kiln"], v["django"], v["polars"], v["engine"]], 1)
        yield info
        try:
            values = self.values()
        except Exception:  # a scrape must never fail because one query did
            logger.exception("Kiln gauges could not be read")
            up = GaugeMetricFamily("kiln_gauges_up", "1 when Kiln's gauges could be read from the database.")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("kiln_gauges_up", "1 when Kiln's gauges could be read from the database.")
        up.add_metric([], 1)
        yield up
        for key, (name, documentation) in GAUGES.items():
            value = values.get(key)
            if value is not None:
                yield GaugeMetricFamily(name, documentation, value=float(value))


KILN_REGISTRY = CollectorRegistry(auto_describe=False)
COLLECTOR = KilnCollector()
KILN_REGISTRY.register(COLLECTOR)


def exposition() -> bytes:
    """The text exposition of every metric: requests (all workers when multiprocess), then Kiln's gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        base = generate_latest(registry)
    else:
        base = generate_latest(REGISTRY)
    return base + generate_latest(KILN_REGISTRY)
