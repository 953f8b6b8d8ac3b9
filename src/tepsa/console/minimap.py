"""A small map drawn from the shipped region points: no tiles, no third party sees the child's place.

Pure: plain points in, an SVG string out. The kab/kota's kecamatan centres
give the outline of the area; the child's point and the candidate workers
are drawn over them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class MapPoint:
    lat: float
    lon: float
    kind: str  # "area" (a kecamatan centre), "child", "worker", "unit"
    label: str = ""


STYLE = {
    "area": ("#9fb3c8", 3, ""),
    "worker": ("#0b5fa5", 5, ""),
    "unit": ("#6b21a8", 6, ""),
    "child": ("#b3261e", 8, "#fff"),
}


def render_map(points: list[MapPoint], width: int = 420, height: int = 260, title: str = "Peta") -> str:
    """Equirectangular projection fitted to the points, with a scale bar in kilometres."""
    points = [p for p in points if p.lat is not None and p.lon is not None]
    if not points:
        return ""
    lats = [p.lat for p in points]
    lons = [p.lon for p in points]
    mid_lat = (min(lats) + max(lats)) / 2
    kx = math.cos(math.radians(mid_lat))
    span_x = max((max(lons) - min(lons)) * kx, 0.02)
    span_y = max(max(lats) - min(lats), 0.02)
    pad = 22
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    cx, cy = (max(lons) + min(lons)) / 2, mid_lat

    def xy(p: MapPoint) -> tuple[float, float]:
        return width / 2 + (p.lon - cx) * kx * scale, height / 2 - (p.lat - cy) * scale

    parts = [f'<svg class="map" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    order = {"area": 0, "worker": 1, "unit": 2, "child": 3}
    for p in sorted(points, key=lambda p: order.get(p.kind, 0)):
        fill, r, stroke = STYLE.get(p.kind, STYLE["area"])
        x, y = xy(p)
        tip = f"<title>{escape(p.label)}</title>" if p.label else ""
        if p.kind == "child":
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r + 6}" fill="{fill}" opacity=".18"/>')
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}"'
                     + (f' stroke="{stroke}" stroke-width="2"' if stroke else "") + f'>{tip}</circle>')
        if p.kind in ("worker", "unit") and p.label:
            parts.append(f'<text x="{x + r + 3:.1f}" y="{y + 4:.1f}" font-size="11" fill="#1b2430">{escape(p.label)}</text>')
    # scale bar: a round number of km close to a quarter of the width
    km_per_px = 111.32 / scale
    target = km_per_px * width / 4
    bar_km = next((v for v in (1, 2, 5, 10, 20, 50, 100, 200, 500) if v >= target * 0.6), 500)
    bar_px = bar_km / km_per_px
    parts.append(f'<line x1="10" y1="{height - 10}" x2="{10 + bar_px:.1f}" y2="{height - 10}" stroke="#1b2430" stroke-width="2"/>'
                 f'<text x="10" y="{height - 14}" font-size="11" fill="#1b2430">{bar_km} km</text>')
    parts.append("</svg>")
    return "".join(parts)
