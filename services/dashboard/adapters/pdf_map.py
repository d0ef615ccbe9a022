"""The map of the PDF report: the 33 regencies coloured by how full their quota is (the province
view), or the regency's kecamatan coloured by their seat holders (a regency's view), drawn from
the same paths as the page (services/dashboard/domain/geo.py), with a legend. No tile server:
the boundaries ship with Lindung.
"""

from __future__ import annotations

import re
from typing import Any

from reportlab.graphics.shapes import Drawing, Path, Rect, String
from reportlab.lib import colors

from services.dashboard.domain import geo
from services.dashboard.domain import labels as lb

# Quota filled, in steps (light to dark): shares are tenths of a percent (labels.percent_tenths).
STEPS = ((0, "#e8eef5"), (250, "#b9cde2"), (500, "#7fa6cb"), (750, "#3f77ad"), (1000, "#0b4f8a"))
NO_SEATS = "#f4f4f4"
_RING = re.compile(r"M([^Z]*)Z")


def rings_of(path: str, height: float) -> list[list[tuple[float, float]]]:
    """SVG path data ("M1 2L3 4Z...", y down) as rings in PDF coordinates (y up)."""
    out = []
    for body in _RING.findall(path):
        points = []
        for pair in body.split("L"):
            x, y = pair.split()
            points.append((float(x), height - float(y)))
        out.append(points)
    return out


def colour_of(tenths: int | None) -> str:
    """The fill of a regency whose quota is filled `tenths` per mille (None: no seats there)."""
    if tenths is None:
        return NO_SEATS
    colour = STEPS[0][1]
    for floor, fill in STEPS:
        if tenths >= floor:
            colour = fill
    return colour


def _area(drawing: Drawing, path: str, height: float, fill: str, dx: float, dy: float) -> None:
    shape = Path(fillColor=colors.HexColor(fill), strokeColor=colors.white, strokeWidth=0.4, fillMode=0)
    for ring in rings_of(path, height):
        (x0, y0), *rest = ring
        shape.moveTo(x0 + dx, y0 + dy)
        for x, y in rest:
            shape.lineTo(x + dx, y + dy)
        shape.closePath()
    drawing.add(shape)


def map_drawing(data: dict[str, Any], atlas: geo.Atlas, width: float, height: float) -> Drawing:
    """The report's map in a width × height drawing: the map on the left, the legend on the right."""
    drawing = Drawing(width, height)
    area = data["scope"]["regency"]
    title = (
        "Kuota terisi per kabupaten/kota"
        if area is None
        else f"Pemegang kuota per kecamatan di {data['scope']['name']}"
    )
    drawing.add(
        String(
            0, height - 10, title, fontSize=9, fillColor=colors.HexColor("#0b4f8a"), fontName="Helvetica-Bold"
        )
    )
    box_w, box_h = width - 150, height - 16
    drawn = atlas.regency_map(box_w, box_h) if area is None else atlas.kecamatan_map(area, box_w, box_h)
    if drawn is None:
        drawing.add(String(0, height / 2, "Peta tidak tersedia untuk wilayah ini.", fontSize=8))
        return drawing
    if area is None:
        filled = {r["code"]: lb.percent_tenths(r["assigned"], r["seats"]) for r in data["regencies"]}
        for a in drawn.areas:
            _area(drawing, a.path, drawn.height, colour_of(filled.get(a.code)), 0, 0)
        legend = [(fill, band_label(i)) for i, (_, fill) in enumerate(STEPS)] + [(NO_SEATS, "tanpa kuota")]
        _legend(drawing, width - 140, height - 30, "Kuota terisi", legend)
        return drawing
    held = {k["code"]: k["assigned"] for k in data.get("kecamatan", [])}
    most = max(held.values(), default=0)
    for a in drawn.areas:
        count = held.get(a.code, 0)
        fill = NO_SEATS if count == 0 else colour_of(count * 1000 // most)
        _area(drawing, a.path, drawn.height, fill, 0, 0)
    legend = [(NO_SEATS, "0")]
    if most:
        legend.append((STEPS[-1][1], f"{lb.number(most)} (terbanyak)"))
    _legend(drawing, width - 140, height - 30, "Pemegang kuota", legend)
    return drawing


def band_label(i: int) -> str:
    """The legend text of quota band `i`: "25,0% – <50,0%", and "100,0%" for the last."""
    low = STEPS[i][0]
    if i + 1 == len(STEPS):
        return lb.percent_of_tenths(low)
    return f"{lb.percent_of_tenths(low)} – <{lb.percent_of_tenths(STEPS[i + 1][0])}"


def _legend(drawing: Drawing, x: float, y: float, title: str, entries: list[tuple[str, str]]) -> None:
    drawing.add(String(x, y + 6, title, fontSize=8, fontName="Helvetica-Bold"))
    for fill, text in entries:
        y -= 13
        drawing.add(
            Rect(x, y, 10, 9, fillColor=colors.HexColor(fill), strokeColor=colors.grey, strokeWidth=0.3)
        )
        drawing.add(String(x + 14, y + 1.5, text, fontSize=7))
