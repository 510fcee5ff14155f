"""/readyz: per-check JSON, 503 when any check fails; /healthz stays plain liveness."""

import pytest

from kiln.ops import readiness

pytestmark = pytest.mark.django_db


def test_ready_with_every_check_listed(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "cache", "queue", "disk", "ledger_key"}
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["queue"]["status"] == "ok" and body["checks"]["queue"]["value"] >= 0
    assert body["checks"]["cache"]["status"] == "skipped"  # local-memory cache: nothing shared to check
    assert body["checks"]["ledger_key"]["status"] == "skipped"  # development
    assert all(isinstance(c["ms"], float) for c in body["checks"].values())
    assert response["Cache-Control"].startswith("max-age=0")


def test_answers_in_english_whatever_the_browser_asks(client):
    body = client.get("/readyz", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert "MB free in VAR_DIR" in body["checks"]["disk"]["detail"]


def test_healthz_is_still_plain_liveness(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_low_disk_is_not_ready(client, settings):
    settings.KILN_READY_MIN_FREE_MB = 10**12
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["disk"]["status"] == "fail"
    assert body["checks"]["database"]["status"] == "ok"


def test_unreachable_queue_is_not_ready_and_says_nothing_more(client, monkeypatch):
    from huey.contrib.djhuey import HUEY

    def broken():
        raise ConnectionError("redis://secret-host:6379 refused")

    monkeypatch.setattr(HUEY, "pending_count", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    queue = response.json()["checks"]["queue"]
    assert queue == {"status": "fail", "detail": "unavailable (ConnectionError)", "ms": queue["ms"]}
    assert b"secret-host" not in response.content


def test_pending_migrations_are_not_ready(client, monkeypatch):
    assert readiness._pending_migrations(__import__("django.db").db.connection) == 0
    monkeypatch.setattr(readiness, "_pending_migrations", lambda connection: 3)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["detail"] == "3 migrations not applied (run: kiln migrate)"


def test_ledger_key_is_required_in_production(settings):
    settings.PRODUCTION = True
    settings.KILN_LEDGER_SIGNING_KEY = ""
    assert readiness.check_ledger_key().status == "fail"
    settings.KILN_LEDGER_SIGNING_KEY = "not a key"
    assert readiness.check_ledger_key().status == "fail"
    settings.KILN_LEDGER_SIGNING_KEY = "11" * 32
    assert readiness.check_ledger_key().status == "ok"


def test_production_without_ledger_key_answers_503(client, settings):
    settings.PRODUCTION = True
    settings.KILN_LEDGER_SIGNING_KEY = ""
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["ledger_key"]["status"] == "fail"


def test_a_shared_cache_is_checked(settings, tmp_path):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "c"),
        }
    }
    assert readiness.check_cache().status == "ok"


def test_a_broken_cache_fails(settings, monkeypatch):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": "/nonexistent",
        }
    }
    from django.core.cache import caches

    monkeypatch.setattr(type(caches["default"]), "get", lambda self, key, default=None, version=None: None)
    assert readiness.check_cache().status == "fail"


def test_reachable_while_mfa_enrolment_is_pending(client, world):
    from tests.accounts.helpers import mark_signed_in

    client.force_login(world.gov_a)  # a government reviewer without a second factor
    mark_signed_in(client, world.gov_a, mfa=False)
    assert client.get("/readyz").status_code == 200
    assert client.get("/").status_code == 302  # everything else sends it to enrolment
