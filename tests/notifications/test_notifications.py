"""One notification system: the per-user key, e-mail after commit, the bell's count, the list, mark-as-read."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from kiln.notifications import services
from kiln.notifications.models import Notification
from tests.accounts.helpers import signed_in


@pytest.fixture(autouse=True)
def locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_a_key_reaches_each_user_once(world, django_capture_on_commit_callbacks):
    w = world
    type(w.gov_a).objects.filter(pk=w.gov_a.pk).update(email="gov_a@example.org")
    w.gov_a.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        first = services.notify([w.gov_a, w.gov_b, w.gov_a], kind="deadline", key="deadline:x", title="Due")
        again = services.notify([w.gov_a, w.gov_b], kind="deadline", key="deadline:x", title="Due")
    assert len(first) == 2 and again == []
    assert Notification.objects.filter(key="deadline:x").count() == 2
    assert [m.to for m in mail.outbox] == [["gov_a@example.org"]]  # gov_b has no address
    assert Notification.objects.get(user=w.gov_a, key="deadline:x").emailed


def test_in_app_only_when_email_is_not_asked(world, django_capture_on_commit_callbacks):
    w = world
    type(w.gov_a).objects.filter(pk=w.gov_a.pk).update(email="gov_a@example.org")
    w.gov_a.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            [w.gov_a], kind="incident", key="incident:1:opened", title="[III]", level="III", email=False
        )
    assert mail.outbox == []
    assert Notification.objects.get(user=w.gov_a).colour == "yellow"


def test_bell_list_and_mark_as_read(world, client):
    w = world
    services.notify([w.gov_a], kind="review", key="a", title="First", url="/review/")
    services.notify([w.gov_a], kind="incident", key="b", title="Second", level="I")
    services.notify([w.gov_b], kind="review", key="a", title="Not for gov_a")
    signed_in(client, w.gov_a)
    page = client.get(reverse("home")).content.decode()
    assert 'class="unread-count">2<' in page and reverse("notifications:list") in page
    listing = client.get(reverse("notifications:list")).content.decode()
    assert "First" in listing and "Second" in listing and "Not for gov_a" not in listing
    assert "notification-level lvl-red" in listing
    one = Notification.objects.get(user=w.gov_a, key="a")
    theirs = Notification.objects.get(user=w.gov_b)
    response = client.post(reverse("notifications:read"), {"id": [one.pk, theirs.pk]})
    assert response.status_code == 302 and response["Location"] == reverse("notifications:list")
    one.refresh_from_db()
    theirs.refresh_from_db()
    assert one.read_at is not None and theirs.read_at is None  # never someone else's
    assert services.unread_count(w.gov_a) == 1
    unread = client.get(reverse("notifications:list") + "?unread=1").content.decode()
    assert "Second" in unread and "First" not in unread
    client.post(reverse("notifications:read"))
    assert services.unread_count(w.gov_a) == 0
    assert 'class="unread-count"' not in client.get(reverse("home")).content.decode()


def test_the_list_is_for_the_signed_in(client):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302 and "login" in response["Location"]
