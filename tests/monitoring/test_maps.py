"""Region boundaries: validated uploads (a file that does not match the registry is refused, clearly)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kiln.audit.models import AuditEvent
from kiln.demo.boundaries import qingxi_counties
from kiln.monitoring import geo, services
from kiln.monitoring.models import RegionMap

pytestmark = pytest.mark.django_db
CITY_A_COUNTIES = {"339902", "339903", "339904"}


def collection(codes=CITY_A_COUNTIES, **changes):
    doc = qingxi_counties()
    doc["features"] = [f for f in doc["features"] if f["properties"]["code"] in codes]
    doc.update(changes)
    return doc


def upload(client, doc, region="339900", name="map.geojson"):
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    from kiln.registry.models import Region

    return client.post(reverse("monitoring:maps"), {
        "region": Region.objects.get(code=region).pk, "file": SimpleUploadedFile(name, data, "application/geo+json")})


def test_a_matching_file_becomes_the_current_map(city, login):
    client = login(city.admin)
    reply = upload(client, collection())
    assert reply.status_code == 302
    region_map = RegionMap.objects.get(region=city.city_a, current=True)
    assert region_map.feature_count == 3
    assert {f["properties"]["name"] for f in region_map.geojson["features"]} == {"溪南区", "青湖区", "临江区"}
    assert AuditEvent.objects.filter(event_type=301, target_type__icontains="regionmap").exists()
    # The map now shows on the dashboard and its GeoJSON is served to the region's users only.
    page = login(city.gov_a).get(reverse("monitoring:region", args=["339900"])).text
    assert "chart-map" in page
    data = login(city.gov_a).get(reverse("monitoring:map-data", args=["339900"]))
    assert data.status_code == 200 and data.json()["type"] == "FeatureCollection"
    assert login(city.gov_b).get(reverse("monitoring:map-data", args=["339900"])).status_code == 404
    # A second upload keeps the first, no longer current.
    assert upload(login(city.admin), collection()).status_code == 302
    assert RegionMap.objects.filter(region=city.city_a).count() == 2
    assert RegionMap.objects.filter(region=city.city_a, current=True).count() == 1


@pytest.mark.parametrize("doc, code, words", [
    (collection(CITY_A_COUNTIES | {"339921"}), "KLN-MON-105", "339921"),
    (collection({"339902", "339903"}), "KLN-MON-106", "339904"),
    (b"{not json", "KLN-MON-101", "JSON"),
    (collection(type="Feature"), "KLN-MON-102", "FeatureCollection"),
])
def test_a_mismatching_file_is_refused_with_a_clear_error(city, login, doc, code, words):
    reply = upload(login(city.admin), doc)
    assert reply.status_code == 422
    assert code in reply.text and words in reply.text
    assert not RegionMap.objects.filter(region=city.city_a).exists()


def test_the_demo_citys_file_does_not_fit_the_test_city(city):
    with pytest.raises(geo.MapError) as problem:
        services.upload_map(actor=city.admin, region=city.city_a,
                            data=json.dumps(qingxi_counties()).encode())
    assert problem.value.code == "KLN-MON-105" and "339981" in problem.value.message


def test_geometry_and_codes_are_checked(city):
    broken = collection()
    broken["features"][0]["geometry"]["coordinates"][0] = [[0, 0], [1, 1]]
    with pytest.raises(geo.MapError, match="KLN-MON-103"):
        geo.validate(json.dumps(broken).encode(), city.city_a)
    doubled = collection()
    doubled["features"].append(doubled["features"][0])
    with pytest.raises(geo.MapError, match="KLN-MON-107"):
        geo.validate(json.dumps(doubled).encode(), city.city_a)
    unnamed = collection()
    unnamed["features"][0]["properties"] = {"name": "x"}
    with pytest.raises(geo.MapError, match="KLN-MON-104"):
        geo.validate(json.dumps(unnamed).encode(), city.city_a)
    with pytest.raises(geo.MapError, match="KLN-MON-109"):
        geo.validate(json.dumps(collection()).encode(), city.county_a)
    adcodes = collection()
    for f in adcodes["features"]:
        f["properties"] = {"adcode": int(f["properties"]["code"])}
    assert len(geo.validate(json.dumps(adcodes).encode(), city.city_a)["features"]) == 3


def test_only_registry_managers_upload(city, login):
    for user in (city.gov_a, city.e1_staff, city.verifier_e1):
        assert login(user).get(reverse("monitoring:maps")).status_code == 404
    assert login(city.admin).get(reverse("monitoring:maps")).status_code == 200


def test_the_command_uploads_maps_and_digests_runs(city, tmp_path):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from kiln.monitoring.models import RunDigest

    path = tmp_path / "counties.geojson"
    path.write_text(json.dumps(collection()), encoding="utf-8")
    out = StringIO()
    call_command("monitoring", "map", "339900", str(path), stdout=out)
    assert "3 areas" in out.getvalue()
    path.write_text(json.dumps(collection({"339902"})), encoding="utf-8")
    with pytest.raises(CommandError, match="KLN-MON-106"):
        call_command("monitoring", "map", "339900", str(path))
    RunDigest.objects.all().delete()
    out = StringIO()
    call_command("monitoring", "digest", stdout=out)
    assert RunDigest.objects.count() == 3 and "enterprises" in out.getvalue()
