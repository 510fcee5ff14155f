"""Outsiders get 404 on every page and API endpoint of the portals (DESIGN.md rule 5), anonymous users a login."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def pages(city):
    e1 = city.e1.credit_code
    return {
        "region": (reverse("monitoring:region", args=["339900"]), ("gov_a", "admin")),
        "county": (reverse("monitoring:region", args=["339902"]), ("gov_a", "admin")),
        "industry": (reverse("monitoring:industry", args=["339900", "C30"]), ("gov_a", "admin")),
        "screen": (reverse("monitoring:screen", args=["339900"]), ("gov_a", "admin")),
        "enterprise": (reverse("monitoring:enterprise", args=[e1]), ("gov_a", "admin", "e1_staff")),
        "rows": (reverse("monitoring:rows", args=[e1, "2024-03"]), ("gov_a", "admin", "e1_staff")),
        "verifier": (reverse("monitoring:verifier"), ("verifier_e1", "verifier_unassigned")),
        "platform": (reverse("monitoring:platform"), ("admin",)),
        "maps": (reverse("monitoring:maps"), ("admin",)),
        "api-overview": ("/api/v1/monitoring/regions/339900/overview", ("gov_a", "admin")),
        "api-months": ("/api/v1/monitoring/regions/339900/months", ("gov_a", "admin")),
        "api-years": ("/api/v1/monitoring/regions/339900/years", ("gov_a", "admin")),
        "api-subregions": ("/api/v1/monitoring/regions/339900/subregions", ("gov_a", "admin")),
        "api-industries": ("/api/v1/monitoring/regions/339900/industries", ("gov_a", "admin")),
        "api-enterprises": ("/api/v1/monitoring/regions/339900/enterprises", ("gov_a", "admin")),
        "api-enterprise-months": (f"/api/v1/monitoring/enterprises/{e1}/months", ("gov_a", "admin", "e1_staff")),
        "api-enterprise-rows": (f"/api/v1/monitoring/enterprises/{e1}/rows?period=2024-03",
                                ("gov_a", "admin", "e1_staff")),
        "api-platform": ("/api/v1/monitoring/platform", ("admin",)),
    }


PERSONAS = ("gov_a", "gov_b", "e1_staff", "e2_staff", "verifier_e1", "verifier_unassigned", "admin")


def test_every_route_answers_insiders_and_hides_from_outsiders(city, login):
    for name, (url, insiders) in pages(city).items():
        for persona in PERSONAS:
            reply = login(getattr(city, persona)).get(url)
            expected = 200 if persona in insiders else 404
            assert reply.status_code == expected, (name, persona, reply.status_code)


def test_anonymous_users_are_sent_to_log_in(city, client):
    for name, (url, _insiders) in pages(city).items():
        reply = client.get(url)
        if url.startswith("/api/"):
            assert reply.status_code == 401, name
        else:
            assert reply.status_code == 302 and "login" in reply.url, name


def test_the_map_data_route(city, login):
    url = reverse("monitoring:map-data", args=["339900"])
    assert login(city.gov_a).get(url).status_code == 404  # no map uploaded yet
    assert login(city.gov_b).get(url).status_code == 404


def test_a_government_user_of_another_region_gets_404_for_every_enterprise_and_county(city, login):
    client = login(city.gov_b)
    for firm in (city.e1, city.e3, city.e4, city.e5):
        assert client.get(reverse("monitoring:enterprise", args=[firm.credit_code])).status_code == 404
    for code in ("339900", "339902", "339903", "339904"):
        assert client.get(reverse("monitoring:region", args=[code])).status_code == 404
    assert client.get(reverse("monitoring:region", args=["339800"])).status_code == 200
