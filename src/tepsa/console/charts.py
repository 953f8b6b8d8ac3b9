"""Charts for the supervisors' dashboard as inline SVG: plain data in, an SVG string out.

Pure functions, no JavaScript and no libraries. Every chart carries a <title> and a
<desc> (read by screen readers), prints its numbers as text next to the marks and
escapes every label. Callers pass labels already formatted in the reader's language;
the charts themselves know no language. An empty data set gives a chart that says so
("Belum ada data") rather than an error.

Colours: the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies), grey for "other"; text on a mark is white or ink, whichever reads better.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape as _xml_escape

INK = "#1b2430"
MUTED = "#5b6573"
GRID = "#d9dee5"
TARGET = "#b3261e"
OTHER_COLOUR = "#8a939e"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#332288")
# Colours light enough that a label drawn on them must be ink rather than white.
_LIGHT = {"#E69F00", "#56B4E9", "#F0E442", "#CC79A7", "#8a939e", "#9ecae1"}
FONT = 'font-family="system-ui,-apple-system,Segoe UI,Roboto,Noto Sans,sans-serif"'
EMPTY_TEXT = "Belum ada data"

_counter = itertools.count(1)


def esc(value: object) -> str:
    """Text safe inside an SVG element or a double-quoted attribute."""
    return _xml_escape(str(value), {'"': "&quot;", "'": "&#39;"})


def _num(value: float) -> str:
    """1234 -> '1.234' would be Indonesian; numbers stay plain digits so both languages read them."""
    return f"{value:,.0f}".replace(",", "\u202f") if float(value).is_integer() else f"{value:.1f}"


def _text_colour(fill: str) -> str:
    return INK if fill in _LIGHT else "#ffffff"


def _uid(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


def _open(width: int, height: int, title: str, desc: str, prefix: str) -> tuple[str, list[str]]:
    uid = _uid(prefix)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" role="img" '
        f'aria-labelledby="{uid}t {uid}d" {FONT} font-size="12">',
        f'<title id="{uid}t">{esc(title)}</title>',
        f'<desc id="{uid}d">{esc(desc)}</desc>',
    ]
    return uid, parts


def empty_chart(title: str, empty_text: str = EMPTY_TEXT, width: int = 640, height: int = 120) -> str:
    """A chart frame that says there is nothing to show yet."""
    _, parts = _open(width, height, title, empty_text, "e")
    parts.append(f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" rx="6" fill="#f4f6f9" '
                 f'stroke="{GRID}"/>')
    parts.append(f'<text x="{width / 2:.0f}" y="{height / 2 + 5:.0f}" text-anchor="middle" fill="{MUTED}" '
                 f'font-size="15">{esc(empty_text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _truncate(label: str, max_chars: int) -> str:
    return label if len(label) <= max_chars else label[: max_chars - 1].rstrip() + "…"


# --- horizontal bars: province, channel, unit, worker ---------------------------------------

@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    value_label: str | None = None
    """Shown after the bar; defaults to the number."""
    note: str | None = None
    """Extra words after the number (e.g. 'kapasitas 10')."""


def hbar_chart(bars: Sequence[Bar], title: str, desc: str = "", *, empty_text: str = EMPTY_TEXT,
               colour: str = PALETTE[0], width: int = 640, label_width: int = 210, row: int = 26,
               max_rows: int = 40) -> str:
    """One horizontal bar per item, largest first as given, with its number printed after the bar."""
    bars = [b for b in bars if b.value is not None][:max_rows]
    if not bars or all(b.value <= 0 for b in bars):
        return empty_chart(title, empty_text, width)
    top = 8
    height = top + row * len(bars) + 8
    peak = max(b.value for b in bars) or 1
    # Room after the longest bar for its number and note (about 7 px a character at 12 px).
    tail = max(len(b.value_label or _num(b.value)) * 7.5 + (len(b.note) * 6.2 + 6 if b.note else 0) for b in bars)
    plot = max(width - label_width - min(tail + 16, width * 0.55), 60)
    summary = "; ".join(f"{b.label}: {b.value_label or _num(b.value)}" for b in bars)
    _, parts = _open(width, height, title, (desc + " " if desc else "") + summary, "h")
    for i, b in enumerate(bars):
        y = top + i * row
        w = max(plot * b.value / peak, 1.5 if b.value > 0 else 0)
        shown = _truncate(b.label, int((label_width - 12) / 7.4))
        value_text = b.value_label or _num(b.value)
        parts.append(f'<g><title>{esc(b.label)}: {esc(value_text)}</title>')
        parts.append(f'<text x="{label_width - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end" fill="{INK}">'
                     f'{esc(shown)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" rx="2" '
                     f'fill="{esc(colour)}"/>')
        note = f' <tspan fill="{MUTED}" font-weight="400" font-size="11">{esc(b.note)}</tspan>' if b.note else ""
        parts.append(f'<text x="{label_width + w + 6:.1f}" y="{y + row / 2 + 4:.1f}" fill="{INK}" '
                     f'font-weight="600">{esc(value_text)}{note}</text></g>')
    parts.append(f'<line x1="{label_width}" y1="{top}" x2="{label_width}" y2="{height - 8}" stroke="{MUTED}"/>')
    parts.append("</svg>")
    return "".join(parts)


# --- stacked bars per month per category ----------------------------------------------------

@dataclass(frozen=True)
class Series:
    key: str
    label: str
    values: Sequence[float]
    """One value per month, in the order of the months."""
    colour: str | None = None


def stacked_month_chart(months: Sequence[str], series: Sequence[Series], title: str, desc: str = "", *,
                        empty_text: str = EMPTY_TEXT, total_label: str = "Total", width: int = 720,
                        height: int = 300) -> str:
    """Stacked columns, one per month, one segment per series, with the month's total on top.

    Segments tall enough carry their number; every segment has a tooltip (<title>) with
    its series, month and number, and the legend sits under the chart.
    """
    totals = [sum(s.values[i] for s in series) for i in range(len(months))] if series else []
    if not months or not series or not any(totals):
        return empty_chart(title, empty_text, width)
    colours = [s.colour or (OTHER_COLOUR if s.key == "lainnya" else PALETTE[i % len(PALETTE)])
               for i, s in enumerate(series)]
    left, right, top = 44, 12, 22
    legend_rows = (len(series) + 1) // 2
    plot_h = height - top - 30
    full_h = height + legend_rows * 20 + 8
    plot_w = width - left - right
    peak = _nice_ceiling(max(totals))
    slot = plot_w / len(months)
    bar_w = min(64.0, slot * 0.62)
    lines = [f"{m}: {total_label} {_num(t)} (" + ", ".join(f"{s.label} {_num(s.values[i])}" for s in series
                                                          if s.values[i]) + ")" for i, (m, t) in
             enumerate(zip(months, totals, strict=True))]
    _, parts = _open(width, full_h, title, (desc + " " if desc else "") + "; ".join(lines), "s")
    for k in range(5):  # grid lines with their numbers
        v = peak * k / 4
        y = top + plot_h - plot_h * v / peak
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}" font-size="11">'
                     f'{_num(v)}</text>')
    for i, month in enumerate(months):
        x = left + slot * i + (slot - bar_w) / 2
        y = top + plot_h
        for s, colour in zip(series, colours, strict=True):
            v = s.values[i]
            if not v:
                continue
            h = plot_h * v / peak
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{esc(colour)}">'
                         f'<title>{esc(s.label)}, {esc(month)}: {_num(v)}</title></rect>')
            if h >= 14 and bar_w >= 22:
                parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y + h / 2 + 4:.1f}" text-anchor="middle" '
                             f'font-size="11" fill="{_text_colour(colour)}">{_num(v)}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 5:.1f}" text-anchor="middle" font-weight="700" '
                     f'fill="{INK}">{_num(totals[i])}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="{INK}" '
                     f'font-size="11">{esc(month)}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="{MUTED}"/>')
    col_w = (width - left) / 2
    for j, (s, colour) in enumerate(zip(series, colours, strict=True)):
        lx = left + (j % 2) * col_w
        ly = height + (j // 2) * 20
        parts.append(f'<rect x="{lx:.1f}" y="{ly - 10}" width="12" height="12" fill="{esc(colour)}"/>')
        parts.append(f'<text x="{lx + 17:.1f}" y="{ly}" fill="{INK}">{esc(_truncate(s.label, 44))} '
                     f'<tspan fill="{MUTED}">({_num(sum(s.values))})</tspan></text>')
    parts.append("</svg>")
    return "".join(parts)


def _nice_ceiling(value: float) -> float:
    """The smallest 1/2/2.5/5 x 10^n at or above ``value`` (a round top for the axis)."""
    if value <= 4:
        return 4.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 4, 5, 8, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)


# --- time from report to accepted assignment, per urgency, against its target ---------------

@dataclass(frozen=True)
class TimingRow:
    label: str
    n: int
    median: float | None
    """Seconds; None when nothing was accepted."""
    p90: float | None
    target: float | None
    """Seconds; None when the guide sets no dispatch target (rendah)."""
    median_label: str = ""
    p90_label: str = ""
    target_label: str = ""
    note: str = ""
    """E.g. 'n=12 · 75% dalam target'."""
    colour: str | None = None


@dataclass(frozen=True)
class TimingTexts:
    median: str = "Median"
    p90: str = "Persentil ke-90"
    target: str = "Target"
    no_target: str = "tanpa target penugasan"
    none_accepted: str = "belum ada yang diterima"


def timing_chart(rows: Sequence[TimingRow], title: str, desc: str = "", *, texts: TimingTexts = TimingTexts(),
                 empty_text: str = EMPTY_TEXT, width: int = 720, label_width: int = 150) -> str:
    """Per urgency: the median and the 90th percentile as bars and the target as a dashed line.

    Each urgency has its own time scale (an hour and three days do not share an axis);
    the scale ends a little beyond the larger of the 90th percentile and the target, so
    a bar past the line is a late case at a glance. All times are printed as text too.
    """
    if not rows or not any(r.n for r in rows):
        return empty_chart(title, empty_text, width)
    row_h, top = 78, 30
    height = top + row_h * len(rows) + 6
    plot = width - label_width - 150
    x0 = label_width
    _, parts = _open(width, height, title, desc + " " + "; ".join(_timing_summary(r, texts) for r in rows), "t")
    # legend
    parts.append(f'<rect x="{x0}" y="6" width="12" height="12" fill="{PALETTE[0]}"/>'
                 f'<text x="{x0 + 17}" y="16" fill="{INK}">{esc(texts.median)}</text>'
                 f'<rect x="{x0 + 110}" y="6" width="12" height="12" fill="#9ecae1"/>'
                 f'<text x="{x0 + 127}" y="16" fill="{INK}">{esc(texts.p90)}</text>'
                 f'<line x1="{x0 + 270}" y1="4" x2="{x0 + 270}" y2="20" stroke="{TARGET}" stroke-width="2.5" '
                 f'stroke-dasharray="4 3"/><text x="{x0 + 277}" y="16" fill="{INK}">{esc(texts.target)}</text>')
    for i, r in enumerate(rows):
        y = top + i * row_h
        parts.append(f'<g><title>{esc(_timing_summary(r, texts))}</title>')
        parts.append(f'<line x1="0" y1="{y}" x2="{width}" y2="{y}" stroke="{GRID}"/>')
        parts.append(f'<text x="{label_width - 10}" y="{y + 24}" text-anchor="end" font-weight="700" '
                     f'fill="{esc(r.colour or INK)}">{esc(_truncate(r.label, 16))}</text>')
        for j, line in enumerate(r.note.split(" · ")[:3] if r.note else []):
            parts.append(f'<text x="{label_width - 10}" y="{y + 40 + 14 * j}" text-anchor="end" fill="{MUTED}" '
                         f'font-size="11">{esc(_truncate(line, 24))}</text>')
        scale = max([v for v in (r.p90, r.median, r.target) if v is not None] or [0]) * 1.12 or 1
        if r.median is None:
            parts.append(f'<text x="{x0}" y="{y + 28}" fill="{MUTED}">{esc(texts.none_accepted)}</text>')
        else:
            for value, label, colour, dy in ((r.median, r.median_label, PALETTE[0], 8),
                                             (r.p90, r.p90_label, "#9ecae1", 32)):
                if value is None:
                    continue
                w = max(plot * value / scale, 1.5)
                parts.append(f'<rect x="{x0}" y="{y + dy}" width="{w:.1f}" height="20" rx="2" fill="{colour}"/>')
                late = r.target is not None and value > r.target
                parts.append(f'<text x="{x0 + w + 6:.1f}" y="{y + dy + 15}" fill="{TARGET if late else INK}" '
                             f'font-weight="{700 if late else 400}">{esc(label)}</text>')
        if r.target is not None:
            tx = x0 + plot * r.target / scale
            parts.append(f'<line x1="{tx:.1f}" y1="{y + 4}" x2="{tx:.1f}" y2="{y + row_h - 4}" stroke="{TARGET}" '
                         f'stroke-width="2.5" stroke-dasharray="4 3"/>')
            anchor = "end" if tx > x0 + plot * 0.8 else "start"
            parts.append(f'<text x="{tx + (-4 if anchor == "end" else 4):.1f}" y="{y + row_h - 10}" '
                         f'text-anchor="{anchor}" fill="{TARGET}" font-size="11">'
                         f'{esc(texts.target)} {esc(r.target_label)}</text>')
        else:
            parts.append(f'<text x="{width - 6}" y="{y + row_h - 8}" text-anchor="end" fill="{MUTED}" '
                         f'font-size="11">{esc(texts.no_target)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _timing_summary(r: TimingRow, texts: TimingTexts) -> str:
    if r.median is None:
        head = f"{r.label}: {texts.none_accepted}"
    else:
        head = f"{r.label}: {texts.median} {r.median_label}, {texts.p90} {r.p90_label}"
    tail = f", {texts.target} {r.target_label}" if r.target is not None else f", {texts.no_target}"
    return head + tail + (f" ({r.note})" if r.note else "")
