"""The geometry of the analytics page's charts, drawn as inline SVG by its template: columns over
time, horizontal bars for a ranking, and one stacked bar for a split. Pure: numbers in, rectangles
(in the SVG's own units, the view box) and axis labels out. Colours are classes in app.css, never
style attributes (the page's CSP refuses inline styles)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

# A narrow view box: on a phone the chart is drawn near its own size, so its 11-unit labels read
# as 11-pixel text (app.css caps how far a desktop enlarges it).
WIDTH = 360
PLOT_LEFT = 40  # room for the axis labels
PLOT_TOP = 8
PLOT_BOTTOM = 24  # room for the first and last period's label


@dataclass(frozen=True)
class Rect:
    """One bar: where it is, what it shows (`label`, `text`) and where it leads (`href`)."""

    x: float
    y: float
    width: float
    height: float
    label: str
    text: str
    href: str | None = None
    kind: str = ""


@dataclass(frozen=True)
class Tick:
    """A horizontal grid line at `y` with its value written beside it."""

    y: float
    text: str


@dataclass
class Chart:
    """What the template draws: the view box, the bars, the grid and the labels under the axis."""

    width: int
    height: int
    bars: list[Rect] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    x_labels: list[tuple[float, str, str]] = field(default_factory=list)  # (x, anchor, text)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10ⁿ at or above `value` (the top of an axis); 1 for nothing."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power + 1e-12:
            return step * power
    return 10 * power  # pragma: no cover


def columns(points: list[tuple[str, float | None, str, str | None]], fmt, height: int = 160) -> Chart:
    """Columns over time: `points` are (period label, value or None, value's text, link). A None
    value (nothing to divide by) leaves its place empty. `fmt` writes an axis value."""
    chart = Chart(WIDTH, height)
    top = nice_ceiling(max((v for _, v, _, _ in points if v is not None), default=0))
    plot_w, plot_h = WIDTH - PLOT_LEFT, height - PLOT_TOP - PLOT_BOTTOM
    for step in range(5):
        value = top * step / 4
        chart.ticks.append(Tick(round(PLOT_TOP + plot_h - plot_h * step / 4, 2), fmt(value)))
    if not points:
        return chart
    slot = plot_w / len(points)
    gap = min(slot * 0.2, 4)
    for index, (label, value, text, href) in enumerate(points):
        if value is None:
            continue
        bar_h = plot_h * value / top
        chart.bars.append(Rect(round(PLOT_LEFT + index * slot + gap / 2, 2), round(PLOT_TOP + plot_h - bar_h, 2),
                               round(max(slot - gap, 0.5), 2), round(bar_h, 2), label, text, href))
    chart.x_labels = [(PLOT_LEFT, "start", points[0][0])]
    if len(points) > 1:
        chart.x_labels.append((WIDTH, "end", points[-1][0]))
    return chart


def ranking(rows: list[tuple[str, float, str, str | None]], row_height: int = 34) -> Chart:
    """Horizontal bars, one per row (label, value, value's text, link), longest = the largest;
    labels sit above each bar, so long product names never squeeze the bars."""
    chart = Chart(WIDTH, max(row_height * len(rows), row_height))
    top = max((v for _, v, _, _ in rows), default=0) or 1
    bar_h = row_height * 0.35
    for index, (label, value, text, href) in enumerate(rows):
        y = index * row_height + row_height - bar_h - 2
        chart.bars.append(Rect(0, round(y, 2), round(max(WIDTH * 0.8 * value / top, 1 if value else 0), 2),
                               round(bar_h, 2), label, text, href))
    return chart


def split(parts: list[tuple[str, str, float, str, str | None]], height: int = 24) -> Chart:
    """One bar cut into its parts (kind, label, value, value's text, link) in proportion; an
    empty split draws nothing."""
    chart = Chart(WIDTH, height)
    total = sum(value for _, _, value, _, _ in parts)
    x = 0.0
    for kind, label, value, text, href in parts:
        if not total or not value:
            continue
        width = WIDTH * value / total
        chart.bars.append(Rect(round(x, 2), 0, round(width, 2), height, label, text, href, kind))
        x += width
    return chart
