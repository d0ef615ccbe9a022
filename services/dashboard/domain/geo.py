"""Boundaries as SVG paths: the map of the 33 regencies/cities and of one regency's kecamatan.

The boundaries (services/dashboard/data, GeoJSON in WGS84 lon/lat) are projected into a box of the
caller's size and simplified there, so a path carries no detail finer than what the box can show.
North Sumatra lies between about 1°S and 4°N: an equirectangular projection with longitude scaled
by cos(mid-latitude) keeps shapes true to a fraction of a percent, with no projection library.

Use: ``atlas.regency_map(width, height)`` and ``atlas.kecamatan_map("12.17", width, height)`` answer a
:class:`Map` whose areas are ``(code, name, path, label)``; ``path`` is SVG path data (even-odd
fill, holes included) in the box ``0 0 width height``, ``label`` a point inside the area. The page
(GET /api/geo/...) and the PDF report draw the same paths.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Point = tuple[float, float]
Ring = list[Point]
Polygon = list[Ring]  # outer ring first, then holes

# Detail below this many units of the box is not drawn (a unit is a CSS pixel on the page).
TOLERANCE = 0.5
# Islets smaller than this many square units vanish (an area always keeps its largest ring).
MIN_RING_AREA = 0.8


@dataclass(frozen=True, slots=True)
class Feature:
    """One area as the boundary file gives it (lon/lat)."""

    code: str
    name: str
    polygons: tuple[Polygon, ...]
    label_point: Point


@dataclass(frozen=True, slots=True)
class Area:
    """One area drawn in the box: its SVG path data and a point to label it at."""

    code: str
    name: str
    path: str
    label: Point


@dataclass(frozen=True, slots=True)
class Map:
    width: float
    height: float
    areas: tuple[Area, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "areas": [
                {"code": a.code, "name": a.name, "path": a.path, "label": list(a.label)} for a in self.areas
            ],
        }


def parse(text: str) -> list[Feature]:
    """The features of a GeoJSON FeatureCollection of Polygons/MultiPolygons, in code order."""
    features = []
    for f in json.loads(text)["features"]:
        geometry = f["geometry"]
        raw = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        polygons = tuple([[(float(x), float(y)) for x, y in ring] for ring in polygon] for polygon in raw)
        props = f["properties"]
        lx, ly = props["label_point"]
        features.append(Feature(props["code"], props["name"], polygons, (float(lx), float(ly))))
    return sorted(features, key=lambda f: f.code)


def projection(
    features: Sequence[Feature], width: float, height: float, pad: float = 2.0
) -> Callable[[Point], Point]:
    """lon/lat -> box coordinates: the features' extent fitted (aspect kept, centred) in the box."""
    points = [p for f in features for polygon in f.polygons for p in polygon[0]]
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    kx = math.cos(math.radians((south + north) / 2))
    span_x, span_y = max((east - west) * kx, 1e-9), max(north - south, 1e-9)
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    off_x = (width - span_x * scale) / 2
    off_y = (height - span_y * scale) / 2

    def project(p: Point) -> Point:
        return (off_x + (p[0] - west) * kx * scale, off_y + (north - p[1]) * scale)

    return project


def natural_height(features: Sequence[Feature], width: float, pad: float = 2.0) -> float:
    """The height a box of `width` needs to hold the features with no empty bands."""
    points = [p for f in features for polygon in f.polygons for p in polygon[0]]
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    kx = math.cos(math.radians((south + north) / 2))
    span_x = (max(p[0] for p in points) - min(p[0] for p in points)) * kx
    return round((width - 2 * pad) * (north - south) / span_x + 2 * pad, 1)


def simplify(ring: Sequence[Point], tolerance: float) -> Ring:
    """Douglas–Peucker: the ring's points that keep it within `tolerance` of the original."""
    if len(ring) < 4:
        return list(ring)
    keep = [False] * len(ring)
    keep[0] = keep[-1] = True
    stack = [(0, len(ring) - 1)]
    while stack:
        first, last = stack.pop()
        far, far_d = -1, tolerance
        for i in range(first + 1, last):
            d = _distance(ring[i], ring[first], ring[last])
            if d > far_d:
                far, far_d = i, d
        if far >= 0:
            keep[far] = True
            stack += [(first, far), (far, last)]
    return [p for p, k in zip(ring, keep, strict=True) if k]


def _distance(p: Point, a: Point, b: Point) -> float:
    """Distance of p from the segment a–b."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    if length2 == 0:
        return math.hypot(p[0] - a[0], p[1] - a[1])
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def ring_area(ring: Sequence[Point]) -> float:
    """Unsigned area (shoelace)."""
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring))) / 2


def path_data(rings: Iterable[Ring]) -> str:
    """SVG path data, one decimal: "M1.5 2L3 4.2L…Z" per ring."""
    parts = []
    for ring in rings:
        points = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring
        parts.append("M" + "L".join(f"{_n(x)} {_n(y)}" for x, y in points) + "Z")
    return "".join(parts)


def _n(v: float) -> str:
    text = f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


def draw(features: Sequence[Feature], width: float, height: float, tolerance: float = TOLERANCE) -> Map:
    """The features projected into a width × height box, simplified to what the box can show."""
    project = projection(features, width, height)
    areas = []
    for f in features:
        rings = []
        projected = [[project(p) for p in ring] for polygon in f.polygons for ring in polygon]
        for ring in projected:
            drawn = simplify(ring, tolerance)
            if len(drawn) >= 4:
                rings.append(drawn)
        if not rings:  # an area smaller than the tolerance is still drawn, unsimplified
            rings = [max(projected, key=ring_area)]
        largest = max(rings, key=ring_area, default=None)
        kept = [r for r in rings if r is largest or ring_area(r) >= MIN_RING_AREA]
        lx, ly = project(f.label_point)
        areas.append(Area(f.code, f.name, path_data(kept), (round(lx, 1), round(ly, 1))))
    return Map(width, height, tuple(areas))


class Atlas:
    """The boundaries the maps are drawn from (adapters/geo_data.py reads them from the package
    data); each map of a given box is drawn once and kept."""

    def __init__(self, regencies: Sequence[Feature], kecamatan: Sequence[Feature]) -> None:
        self.regencies = tuple(regencies)
        self.kecamatan = tuple(kecamatan)
        self._drawn: dict[tuple[str | None, float, float | None], Map | None] = {}

    def kecamatan_features(self, regency_code: str) -> tuple[Feature, ...]:
        """The kecamatan of one regency/city (empty for an unknown code)."""
        return tuple(f for f in self.kecamatan if f.code.startswith(regency_code + "."))

    def regency_map(self, width: float, height: float | None = None) -> Map:
        """The 33 regencies/cities in a width × height box (height None: the map's own proportions)."""
        drawn = self._map(None, self.regencies, width, height)
        assert drawn is not None  # the province always has its regencies
        return drawn

    def kecamatan_map(self, regency_code: str, width: float, height: float | None = None) -> Map | None:
        """One regency's kecamatan in a width × height box, or None for an unknown regency code."""
        return self._map(regency_code, self.kecamatan_features(regency_code), width, height)

    def _map(
        self, key: str | None, features: Sequence[Feature], width: float, height: float | None
    ) -> Map | None:
        if (key, width, height) not in self._drawn:
            self._drawn[(key, width, height)] = (
                draw(features, width, height or natural_height(features, width)) if features else None
            )
        return self._drawn[(key, width, height)]
