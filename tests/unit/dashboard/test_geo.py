"""The map's geometry: projection into a box, simplification, and the two levels drawn."""

from __future__ import annotations

import json
import re

from libs.regions.places import kecamatan_of_regency
from libs.regions.regions import all_regions
from services.dashboard.adapters.geo_data import load_atlas
from services.dashboard.domain.geo import (
    Atlas,
    Feature,
    draw,
    parse,
    path_data,
    projection,
    ring_area,
    simplify,
)

NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def square(code: str, west: float, south: float, side: float) -> Feature:
    ring = [
        (west, south),
        (west + side, south),
        (west + side, south + side),
        (west, south + side),
        (west, south),
    ]
    return Feature(code, code, ([ring],), (west + side / 2, south + side / 2))


def coordinates(path: str) -> list[float]:
    return [float(n) for n in NUMBER.findall(path)]


def test_projection_fits_the_extent_in_the_box_keeping_north_up() -> None:
    features = [square("a", 98.0, 1.0, 1.0), square("b", 99.0, 2.0, 1.0)]
    project = projection(features, 200, 200, pad=0)
    west_north, east_south = project((98.0, 3.0)), project((100.0, 1.0))
    assert west_north[1] == 0 and east_south[1] == 200  # north at the top, the height filled
    assert 0 < west_north[0] < east_south[0] < 200  # narrower than tall once scaled by cos(lat)
    assert abs((west_north[0] + east_south[0]) / 2 - 100) < 1e-9  # centred


def test_simplify_drops_points_within_tolerance_and_keeps_corners() -> None:
    ring = [(0.0, 0.0), (5.0, 0.2), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)]
    assert simplify(ring, 0.5) == [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)]
    assert simplify(ring, 0.1) == ring


def test_path_data_closes_each_ring_once_with_one_decimal() -> None:
    assert path_data([[(0.0, 0.0), (1.25, 2.0), (3.0, 0.04), (0.0, 0.0)]]) == "M0 0L1.2 2L3 0Z"
    assert ring_area([(0.0, 0.0), (4.0, 0.0), (4.0, 3.0), (0.0, 0.0)]) == 6


def test_draw_keeps_every_area_and_tiny_islets_only_when_they_are_the_whole_area() -> None:
    islet = [(98.5, 1.5), (98.50001, 1.5), (98.50001, 1.50001), (98.5, 1.50001), (98.5, 1.5)]
    big = square("a", 98.0, 1.0, 1.0)
    with_islet = Feature("a", "a", (*big.polygons, [islet]), big.label_point)
    drawn = draw([with_islet, square("b", 99.0, 1.0, 0.001)], 300, 150)
    assert [a.code for a in drawn.areas] == ["a", "b"]
    assert drawn.areas[0].path.count("M") == 1  # the islet is gone
    assert drawn.areas[1].path.count("M") == 1  # a tiny area still draws its only ring


def test_the_regency_map_has_the_33_regencies_inside_the_box() -> None:
    drawn = load_atlas().regency_map(600, 800)
    assert sorted(a.code for a in drawn.areas) == sorted(r.kemendagri_code for r in all_regions())
    for area in drawn.areas:
        numbers = coordinates(area.path)
        xs, ys = numbers[0::2], numbers[1::2]
        assert min(xs) >= 0 and max(xs) <= 600 and min(ys) >= 0 and max(ys) <= 800, area.code
        assert 0 <= area.label[0] <= 600 and 0 <= area.label[1] <= 800
    # Simplified for the box: the page loads tens of kilobytes, not the 85 KB source.
    assert len(json.dumps(drawn.as_json())) < 60_000


def test_natural_height_follows_the_province_shape() -> None:
    drawn = load_atlas().regency_map(600)
    assert 700 < drawn.height < 1000  # North Sumatra is taller than wide once Nias is in


def test_the_kecamatan_map_of_a_regency_draws_each_of_its_kecamatan() -> None:
    for regency in ("12.17", "12.71", "12.14"):
        drawn = load_atlas().kecamatan_map(regency, 500)
        assert drawn is not None
        assert [a.code for a in drawn.areas] == sorted(k.code for k in kecamatan_of_regency(regency))
        assert all(a.path.startswith("M") and a.path.endswith("Z") for a in drawn.areas)
    assert load_atlas().kecamatan_map("12.99", 500) is None
    assert sum(len(load_atlas().kecamatan_features(r.kemendagri_code)) for r in all_regions()) == 455


def test_parse_reads_polygons_and_multipolygons() -> None:
    text = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "12.02", "name": "B", "label_point": [1, 1]},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}},
        {"type": "Feature", "properties": {"code": "12.01", "name": "A", "label_point": [1, 1]},
         "geometry": {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]],
                                                              [[[2, 2], [3, 2], [3, 3], [2, 2]]]]}},
    ]})  # fmt: skip
    features = parse(text)
    assert [f.code for f in features] == ["12.01", "12.02"]
    assert len(features[0].polygons) == 2 and len(features[1].polygons) == 1


def test_an_atlas_draws_each_box_once_and_knows_no_kecamatan_of_another_province() -> None:
    atlas = Atlas([square("12.01", 98.0, 1.0, 1.0)], [square("12.01.01", 98.0, 1.0, 0.5)])
    assert atlas.regency_map(300) is atlas.regency_map(300)
    drawn = atlas.kecamatan_map("12.01", 300, 300)
    assert drawn is not None and [a.code for a in drawn.areas] == ["12.01.01"]
    assert atlas.kecamatan_map("13.01", 300) is None
