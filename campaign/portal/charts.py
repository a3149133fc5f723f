"""Server-rendered SVG charts: pure functions from numbers to markup.

No scripts and no style attributes (the CSP forbids both): colours come from
classes in static/css/partner.css, sizes from SVG geometry. Every chart has
a <title> and <desc> and the page shows the same numbers in a table, so the
chart is a picture of the table, not the only place the figures live.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 190
CHART_WIDTH = 640


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    cid = escape(chart_id)
    return [
        (f'<svg class="chart" id="{cid}" role="img" aria-labelledby="{cid}-title {cid}-desc"'
         f' viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet"'
         ' xmlns="http://www.w3.org/2000/svg">'),
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
    ]


def bar_chart(chart_id: str, items: Sequence[tuple[str, int]], title: str, desc: str) -> Markup:
    """Horizontal bars, one per (label, value); labels are escaped."""
    height = max(1, len(items)) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP
    top = max((v for _, v in items), default=0) or 1
    room = CHART_WIDTH - LABEL_WIDTH - 60
    parts = _open(chart_id, CHART_WIDTH, height, title, desc)
    for i, (label, value) in enumerate(items):
        y = BAR_GAP + i * (BAR_HEIGHT + BAR_GAP)
        w = room * max(value, 0) / top
        text = escape(label if len(label) <= 28 else label[:27] + "…")
        parts.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 6}" y="{y + 16}"'
            f' text-anchor="end">{text}</text>'
            f'<rect class="chart-bar" x="{LABEL_WIDTH}" y="{y}" width="{_num(w)}"'
            f' height="{BAR_HEIGHT}"/>'
            f'<text class="chart-value" x="{_num(LABEL_WIDTH + w + 6)}" y="{y + 16}">'
            f'{int(value)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(chart_id: str, points: Sequence[tuple[str, int]], title: str, desc: str,
               width: int = CHART_WIDTH, height: int = 240) -> Markup:
    """A line over equally spaced periods (e.g. months), with dots and axis labels."""
    left, right, top_pad, bottom = 44, 40, 16, 36
    inner_w, inner_h = width - left - right, height - top_pad - bottom
    top = max((v for _, v in points), default=0) or 1
    step = inner_w / max(1, len(points) - 1)
    parts = _open(chart_id, width, height, title, desc)
    base_y = top_pad + inner_h
    parts.append(f'<line class="chart-axis" x1="{left}" y1="{base_y}" x2="{width - right}"'
                 f' y2="{base_y}"/>')
    parts.append(f'<text class="chart-value" x="{left - 6}" y="{top_pad + 4}"'
                 f' text-anchor="end">{top}</text>')
    parts.append(f'<text class="chart-value" x="{left - 6}" y="{base_y}"'
                 ' text-anchor="end">0</text>')
    coords = []
    every = max(1, -(-len(points) // 8))  # at most about eight axis labels
    for i, (label, value) in enumerate(points):
        x = left + (i * step if len(points) > 1 else inner_w / 2)
        y = base_y - inner_h * max(value, 0) / top
        coords.append(f"{_num(x)},{_num(y)}")
        parts.append(f'<circle class="chart-dot" cx="{_num(x)}" cy="{_num(y)}" r="4"/>')
        if i % every == 0 or i == len(points) - 1:
            parts.append(f'<text class="chart-label" x="{_num(x)}" y="{height - 12}"'
                         f' text-anchor="middle">{escape(label)}</text>')
    if len(coords) > 1:
        parts.insert(4, f'<polyline class="chart-line" fill="none" points="{" ".join(coords)}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
