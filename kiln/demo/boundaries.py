"""Synthetic boundaries of 青溪市's six counties, for the monitoring portal's choropleth map.

The city is fictional, so are its borders: a hand-drawn planar layout (three urban districts in a
column between two western counties and the county-level city in the east) whose shared borders
are wiggled deterministically, so neighbours fit exactly and the same code gives the same bytes.
Coordinates are WGS 84 longitude/latitude in inland Zhejiang (about 119.5-120.3 E, 29.2-29.8 N).
"""

from __future__ import annotations

import json
import zlib

import numpy as np

from kiln.demo import city

# Layout nodes in a 3 x 2 box (x east, y north).
NODES = {
    "A": (0.0, 0.0), "B": (1.25, 0.0), "C": (1.8, 0.0), "D": (3.0, 0.0),
    "E": (0.0, 2.0), "F": (1.25, 2.0), "G": (1.8, 2.0), "H": (3.0, 2.0),
    "L": (0.0, 1.05), "M": (1.25, 1.0),
    "P1": (1.25, 0.68), "P2": (1.25, 1.38), "Q1": (1.8, 0.62), "Q2": (1.8, 1.32),
}
# Each county's boundary as a cycle of nodes (counter-clockwise).
COUNTIES = {
    "339922": ["A", "B", "P1", "M", "L"],  # 白石县, south-west
    "339921": ["L", "M", "P2", "F", "E"],  # 安澜县, north-west
    "339904": ["B", "C", "Q1", "P1"],  # 临江区, the southern district
    "339903": ["P1", "Q1", "Q2", "P2", "M"],  # 青湖区, the middle district
    "339902": ["P2", "Q2", "G", "F"],  # 溪南区, the northern district
    "339981": ["C", "D", "H", "G", "Q2", "Q1"],  # 云岭市, the east
}
OUTER = {frozenset(pair) for pair in (("A", "B"), ("B", "C"), ("C", "D"), ("D", "H"), ("H", "G"), ("G", "F"),
                                       ("F", "E"), ("E", "L"), ("L", "A"))}
LON0, LAT0, SCALE = 119.55, 29.22, 0.26
STEPS = 9  # points per border between two nodes


def _edge(u: str, v: str) -> list[tuple[float, float]]:
    """Points from node u to node v, wiggled the same way whichever direction it is asked for."""
    a, b = sorted((u, v))
    rng = np.random.default_rng(zlib.crc32(f"{a}-{b}".encode()))
    (x0, y0), (x1, y1) = NODES[a], NODES[b]
    t = np.linspace(0.0, 1.0, STEPS + 1)
    length = float(np.hypot(x1 - x0, y1 - y0))
    amplitude = (0.10 if frozenset((a, b)) in OUTER else 0.06) * length
    offsets = np.sin(np.pi * t) * rng.uniform(-1, 1, len(t)) * amplitude
    offsets[0] = offsets[-1] = 0.0
    nx, ny = (-(y1 - y0) / length, (x1 - x0) / length) if length else (0.0, 0.0)
    points = [(x0 + (x1 - x0) * s + nx * o, y0 + (y1 - y0) * s + ny * o) for s, o in zip(t, offsets, strict=True)]
    return points if a == u else points[::-1]


def _ring(cycle: list[str]) -> list[list[float]]:
    points: list[tuple[float, float]] = []
    for u, v in zip(cycle, cycle[1:] + cycle[:1], strict=True):
        points.extend(_edge(u, v)[:-1])
    points.append(points[0])
    return [[round(LON0 + x * SCALE, 5), round(LAT0 + y * SCALE, 5)] for x, y in points]


def qingxi_counties() -> dict:
    """A GeoJSON FeatureCollection with one Polygon per county of 青溪市 (property ``code``)."""
    names = {c.code: c for c in city.COUNTIES}
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": code, "name": names[code].name, "name_en": names[code].name_en},
                "geometry": {"type": "Polygon", "coordinates": [_ring(cycle)]},
            }
            for code, cycle in sorted(COUNTIES.items())
        ],
    }


def qingxi_geojson_bytes() -> bytes:
    return json.dumps(qingxi_counties(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
