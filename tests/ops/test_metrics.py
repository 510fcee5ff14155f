"""/metrics: Prometheus text with request counts and latency by view, and Kiln's gauges; 404 unless allowed."""

import re

import pytest
from django.test import Client

from kiln.ops.metrics import COLLECTOR

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-for-tests"


def scrape(client, **extra):
    COLLECTOR.clear()
    return client.get("/metrics", **extra)


def sample(text: str, name: str, **labels) -> float | None:
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        metric, _, value = line.rpartition(" ")
        if metric.split("{")[0] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', metric))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return None


def test_off_unless_configured(client, world, client_for):
    assert scrape(client).status_code == 404
    admin = client_for(world.admin)
    assert scrape(admin).status_code == 404  # a session is not a credential here


def test_bearer_token(client, settings):
    settings.KILN_METRICS_TOKEN = TOKEN
    assert scrape(client).status_code == 404
    assert scrape(client, HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    response = scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")


def test_allow_listed_network(settings):
    settings.KILN_METRICS_ALLOW = ["10.0.0.0/8", "not-a-network", "::1/128"]
    assert scrape(Client(REMOTE_ADDR="10.1.2.3")).status_code == 200
    assert scrape(Client(REMOTE_ADDR="::1")).status_code == 200
    assert scrape(Client(REMOTE_ADDR="192.168.1.1")).status_code == 404


def test_requests_counted_and_timed_by_view(client, settings):
    settings.KILN_METRICS_TOKEN = TOKEN
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    before = (
        sample(
            scrape(client, **auth).text,
            "kiln_http_requests_total",
            view="healthz",
            method="GET",
            status="200",
        )
        or 0
    )
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/page/at/all")
    text = scrape(client, **auth).text
    assert sample(text, "kiln_http_requests_total", view="healthz", method="GET", status="200") == before + 2
    assert sample(text, "kiln_http_requests_total", view="<unresolved>", method="GET", status="404") >= 1
    assert "/no/such/page" not in text  # paths never become labels
    assert sample(text, "kiln_http_request_duration_seconds_count", view="healthz", method="GET") >= 2
    assert (
        sample(text, "kiln_http_request_duration_seconds_bucket", view="healthz", method="GET", le="+Inf")
        >= 2
    )


def test_kiln_gauges(client, settings, world):
    from kiln.accounting.models import CalculationRun

    settings.KILN_METRICS_TOKEN = TOKEN
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    text = scrape(client, **auth).text
    assert sample(text, "kiln_enterprises") == 2
    assert sample(text, "kiln_activity_rows") == 0
    assert sample(text, "kiln_open_findings") == 0
    assert sample(text, "kiln_last_official_run_age_seconds") is None  # no official run yet
    assert sample(text, "kiln_backups") == 0
    assert sample(text, "kiln_queue_length") >= 0
    assert sample(text, "kiln_gauges_up") == 1
    assert sample(text, "kiln_build_info", engine=__import__("kiln.engine").engine.ENGINE_VERSION) == 1

    CalculationRun.objects.create(
        kind="official",
        status="done",
        region=world.city_a,
        year=2024,
        grid_series="national",
        engine_version="0.1.0",
        inputs_sha256="0" * 64,
        official=True,
    )
    age = sample(scrape(client, **auth).text, "kiln_last_official_run_age_seconds")
    assert age is not None and 0 <= age < 120


def test_gauges_are_cached_between_scrapes(client, settings, world):
    from tests.personas import enterprise

    settings.KILN_METRICS_TOKEN = TOKEN
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert sample(scrape(client, **auth).text, "kiln_enterprises") == 2
    enterprise("E3 水泥有限公司", world.county_a, world.cement, "MA0000003")
    assert sample(client.get("/metrics", **auth).text, "kiln_enterprises") == 2  # cached
    assert sample(scrape(client, **auth).text, "kiln_enterprises") == 3


def test_a_failing_gauge_query_does_not_break_the_scrape(client, settings, monkeypatch):
    from kiln.ops import metrics

    def broken():
        raise RuntimeError("database gone")

    monkeypatch.setattr(metrics, "kiln_values", broken)
    settings.KILN_METRICS_TOKEN = TOKEN
    response = scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert sample(response.text, "kiln_gauges_up") == 0
