"""Validation of uploaded region boundaries (GeoJSON, RFC 7946) for the choropleth maps.

A map of a region shows its direct sub-regions (the counties of a city). The upload must be a
FeatureCollection of Polygon or MultiPolygon features whose region codes (property ``code``,
``adcode`` or ``region_code``) are exactly the region's sub-regions in the registry: no code
missing, none unknown, none twice. Each problem has a stable code (``KLN-MON-1xx``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from kiln.registry.models import Region

MAX_BYTES = 10 * 1024 * 1024
CODE_PROPERTIES = ("code", "adcode", "region_code", "gb2260")
SHOWN = 10  # codes listed in one message


@dataclass
class MapError(Exception):
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def _listed(codes) -> str:
    codes = sorted(codes)
    more = len(codes) - SHOWN
    return ", ".join(codes[:SHOWN]) + (f" … (+{more})" if more > 0 else "")


def _position_ok(position) -> bool:
    return (
        isinstance(position, list | tuple)
        and len(position) >= 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in position[:2])
        and -180 <= position[0] <= 180
        and -90 <= position[1] <= 90
    )


def _ring_ok(ring) -> bool:
    return (
        isinstance(ring, list)
        and len(ring) >= 4
        and all(_position_ok(p) for p in ring)
        and list(ring[0][:2]) == list(ring[-1][:2])
    )


def _polygon_ok(polygon) -> bool:
    return isinstance(polygon, list) and bool(polygon) and all(_ring_ok(r) for r in polygon)


def _geometry_ok(geometry) -> bool:
    if not isinstance(geometry, dict):
        return False
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        return _polygon_ok(coordinates)
    if kind == "MultiPolygon":
        return isinstance(coordinates, list) and bool(coordinates) and all(_polygon_ok(p) for p in coordinates)
    return False


def _code_of(feature: dict) -> str:
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        return ""
    for key in CODE_PROPERTIES:
        value = properties.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def parse(data: bytes) -> dict:
    if len(data) > MAX_BYTES:
        raise MapError("KLN-MON-108", str(_("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // 1024 // 1024}))
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MapError("KLN-MON-101", str(_("The file is not valid JSON (UTF-8): %(error)s") % {"error": exc})) from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise MapError("KLN-MON-102", str(_("The file is not a GeoJSON FeatureCollection.")))
    if not doc["features"]:
        raise MapError("KLN-MON-102", str(_("The FeatureCollection has no features.")))
    return doc


def validate(data: bytes, region: Region) -> dict:
    """The normalised FeatureCollection for ``region``, or ``MapError`` saying what is wrong."""
    doc = parse(data)
    children = {r.code: r for r in Region.objects.filter(parent=region)}
    if not children:
        raise MapError("KLN-MON-109", str(_("%(region)s has no sub-regions in the registry to draw.") % {"region": region}))
    features, seen, duplicates, unnamed, bad = [], set(), set(), 0, []
    for index, feature in enumerate(doc["features"], start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            bad.append(str(index))
            continue
        code = _code_of(feature)
        if not code:
            unnamed += 1
            continue
        if not _geometry_ok(feature.get("geometry")):
            bad.append(code)
            continue
        if code in seen:
            duplicates.add(code)
            continue
        seen.add(code)
        features.append((code, feature["geometry"]))
    if bad:
        raise MapError(
            "KLN-MON-103",
            str(_("These features have no valid Polygon or MultiPolygon geometry (closed rings of "
                  "longitude, latitude): %(codes)s") % {"codes": _listed(bad)}),
        )
    if unnamed:
        raise MapError(
            "KLN-MON-104",
            str(_("%(count)s features carry no region code (property code, adcode or region_code).")
                % {"count": unnamed}),
        )
    if duplicates:
        raise MapError("KLN-MON-107", str(_("These region codes appear more than once: %(codes)s")
                                           % {"codes": _listed(duplicates)}))
    unknown = seen - set(children)
    if unknown:
        raise MapError(
            "KLN-MON-105",
            str(_("These region codes are not sub-regions of %(region)s (%(code)s): %(codes)s")
                % {"region": region.name, "code": region.code, "codes": _listed(unknown)}),
        )
    missing = set(children) - seen
    if missing:
        raise MapError(
            "KLN-MON-106",
            str(_("The file lacks these sub-regions of %(region)s: %(codes)s")
                % {"region": region.name, "codes": _listed(f"{c} {children[c].name}" for c in missing)}),
        )
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"code": code, "name": children[code].name}, "geometry": geometry}
            for code, geometry in sorted(features)
        ],
    }
