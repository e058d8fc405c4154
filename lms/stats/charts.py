"""Hand-built SVG charts (no library, no network), cached per filters and data version.

Served as separate images, so the page's CSP (no inline styles) is not concerned.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from xml.sax.saxutils import escape

WIDTH = 640
_cache: OrderedDict[tuple, str] = OrderedDict()
CACHE_SIZE = 256


def cached(key: tuple, build: Callable[[], str]) -> str:
    """The chart for ``key``, building it once per data version."""
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    svg = build()
    _cache[key] = svg
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return svg


def _fmt(n: float) -> str:
    return f"{int(n):,}".replace(",", "\u202f")


def bars(title: str, items: list[tuple[str, int]]) -> str:
    """A horizontal bar chart of (label, value)."""
    row_h, left, top = 22, 230, 30
    height = top + row_h * max(len(items), 1) + 10
    peak = max((v for _, v in items), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" font-family="sans-serif" '
        f'font-size="12"><title>{escape(title)}</title>',
        f'<text x="4" y="18" font-weight="bold" font-size="14">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = top + i * row_h
        w = (WIDTH - left - 80) * value / peak
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{escape(label[:34])}</text>'
        )
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="#1f5f8b"/>'
        )
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 15}">{_fmt(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def line(
    title: str,
    points: list[tuple[str, int]],
    second: list[tuple[str, int]] | None = None,
    labels: tuple[str, str] = ("", ""),
) -> str:
    """A line chart of cumulative values by month (one or two series)."""
    height, left, right, top, bottom = 300, 80, 20, 40, 40
    peak = max([v for _, v in points] + [v for _, v in (second or [])] + [1])
    n = max(len(points), 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" font-family="sans-serif" '
        f'font-size="12"><title>{escape(title)}</title>',
        f'<text x="4" y="18" font-weight="bold" font-size="14">{escape(title)}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - right}" '
        f'y2="{height - bottom}" stroke="#555"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{_fmt(peak)}</text>',
        f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end">0</text>',
    ]

    def xy(i: int, v: int) -> str:
        x = left + (WIDTH - left - right) * i / (n - 1)
        y = height - bottom - (height - top - bottom) * v / peak
        return f"{x:.1f},{y:.1f}"

    for series, colour, name, dy in (
        (points, "#1f5f8b", labels[0], 0),
        (second or [], "#c77c02", labels[1], 14),
    ):
        if series:
            coords = " ".join(xy(i, v) for i, (_, v) in enumerate(series))
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}"/>'
            )
            parts.append(
                f'<text x="{WIDTH - right}" y="{24 + dy}" text-anchor="end" '
                f'fill="{colour}">{escape(name)}</text>'
            )
    if points:
        parts.append(f'<text x="{left}" y="{height - 20}">{escape(points[0][0])}</text>')
        parts.append(
            f'<text x="{WIDTH - right}" y="{height - 20}" text-anchor="end">'
            f"{escape(points[-1][0])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
