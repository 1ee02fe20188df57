"""The geometry of the server-rendered SVG charts (templates/_line_chart.html draws them, escaped
by Jinja like every other page): no charting library, no script, and the same data as a table
beside the chart for screen readers and for copying."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 110, 16, 16, 36  # room for the axis labels


@dataclass(frozen=True)
class Point:
    at: datetime
    value: Decimal
    label: str  # the value as the page shows it ("KES 1,500.00")


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    point: Point


@dataclass(frozen=True)
class AxisLabel:
    position: float
    text: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    zero_y: float
    polyline: str
    dots: list[Dot]
    y_labels: list[AxisLabel]
    x_labels: list[AxisLabel]


def line_chart(points: Sequence[Point]) -> LineChart | None:
    """A line through `points` (oldest first); the y axis spans min to max with 0 included, so a
    balance that barely moves does not look like a swing."""
    if not points:
        return None
    values = [point.value for point in points]
    low, high = min([*values, Decimal(0)]), max([*values, Decimal(0)])
    span = (high - low) or Decimal(1)
    first = points[0].at.timestamp()
    duration = (points[-1].at.timestamp() - first) or 1.0
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y_of(value: Decimal) -> float:
        return round(TOP + plot_height * float((high - value) / span), 1)

    dots = [
        Dot(round(LEFT + plot_width * (point.at.timestamp() - first) / duration, 1), y_of(point.value), point)
        for point in points
    ]
    labels = {point.value: point.label for point in points}
    return LineChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        top=TOP,
        plot_width=plot_width,
        plot_height=plot_height,
        zero_y=y_of(Decimal(0)),
        polyline=" ".join(f"{dot.x},{dot.y}" for dot in dots),
        dots=dots,
        y_labels=[AxisLabel(y_of(value) + 4, labels.get(value, "0")) for value in sorted({low, high})],
        x_labels=[
            AxisLabel(LEFT, points[0].at.strftime("%d %b %H:%M")),
            AxisLabel(WIDTH - RIGHT, points[-1].at.strftime("%d %b %H:%M UTC")),
        ],
    )
