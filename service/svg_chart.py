"""A small SVG chart over days: stacked bars or lines, axes, a legend; pure, no I/O.

The markup is built as an element tree and serialised by `xml.etree`, so every label is escaped.
It holds no script, no event handler, no external reference and no `style` attribute (the
pages' Content-Security-Policy forbids inline styles): colours are presentation attributes.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import date
from typing import Literal

SVG_NS = "http://www.w3.org/2000/svg"
PALETTE = ("#2e7d32", "#f9a825", "#c62828", "#424242", "#1565c0", "#6a1b9a", "#00838f")
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LEFT, _RIGHT, _TOP, _BOTTOM, _LEGEND_ROW = 52, 16, 30, 34, 20
_TEXT = {"font-family": "sans-serif", "font-size": "11", "fill": "#333333"}


class ChartDataMismatch(ValueError):
    """A series does not have one value per day, or a colour is not #rrggbb."""


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _label(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]}"


def _number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _nice_step(top: float, intervals: int) -> float:
    """The smallest 1, 2 or 5 x 10^k step with `intervals` steps reaching `top`."""
    raw = max(top, 1.0) / intervals
    power = 10 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attributes.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _checked(
    days: Sequence[date], series: Sequence[tuple[str, Sequence[float]]], colours: Sequence[str]
) -> None:
    for name, values in series:
        if len(values) != len(days):
            raise ChartDataMismatch(
                f"series {name!r} has {len(values)} values for {len(days)} days"
            )
    bad = [c for c in colours if not _COLOUR.fullmatch(c)]
    if bad:
        raise ChartDataMismatch(f"colours must be #rrggbb, got {bad}")


def chart_svg(
    days: Sequence[date],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    kind: Literal["stacked", "line"] = "stacked",
    width: int = 640,
    height: int = 260,
    colours: Sequence[str] = PALETTE,
) -> str:
    """Draw `series` (name, one value per day) over `days` as an SVG document string.

    :raises ChartDataMismatch: when a series' length differs from the days' or a colour is bad
    """
    _checked(days, series, colours)
    legend_rows = math.ceil(len(series) / 4)
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "width": str(width),
            "height": str(height + legend_rows * _LEGEND_ROW),
            "viewBox": f"0 0 {width} {height + legend_rows * _LEGEND_ROW}",
            "role": "img",
        },
    )
    _add(svg, "title", title)
    _add(svg, "text", title, x=str(_LEFT), y="18", font_weight="bold", **_TEXT)
    left, right, top, bottom = _LEFT, width - _RIGHT, _TOP, height - _BOTTOM
    if kind == "stacked":
        totals = [sum(values[i] for _, values in series) for i in range(len(days))]
        highest = max(totals, default=0.0)
    else:
        highest = max((max(v, default=0.0) for _, v in series), default=0.0)
    step = _nice_step(highest, 4)

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * value / (step * 4)

    for tick in range(5):
        y = f"{y_of(step * tick):.1f}"
        _add(svg, "line", x1=str(left), x2=str(right), y1=y, y2=y, stroke="#dddddd")
        _add(
            svg,
            "text",
            _number(step * tick),
            x=str(left - 6),
            y=y,
            text_anchor="end",
            dominant_baseline="middle",
            **_TEXT,
        )
    band = (right - left) / max(len(days), 1)
    every = max(1, math.ceil(len(days) / 8))
    for index, day in enumerate(days):
        if index % every == 0:
            x = f"{left + band * (index + 0.5):.1f}"
            _add(svg, "text", _label(day), x=x, y=str(bottom + 16), text_anchor="middle", **_TEXT)
    if not days:
        _add(
            svg,
            "text",
            "no data",
            x=str((left + right) // 2),
            y=str((top + bottom) // 2),
            text_anchor="middle",
            **_TEXT,
        )
    _add(svg, "line", x1=str(left), x2=str(right), y1=str(bottom), y2=str(bottom), stroke="#999999")
    if kind == "stacked":
        _bars(svg, days, series, colours, band, y_of)
    else:
        _lines(svg, days, series, colours, band, y_of)
    _legend(svg, series, colours, height)
    return ET.tostring(svg, encoding="unicode")


def _bars(
    svg: ET.Element,
    days: Sequence[date],
    series: Sequence[tuple[str, Sequence[float]]],
    colours: Sequence[str],
    band: float,
    y_of: Callable[[float], float],
) -> None:
    for index, day in enumerate(days):
        stacked = 0.0
        x = _LEFT + band * index + band * 0.15
        for number, (name, values) in enumerate(series):
            value = values[index]
            if value <= 0:
                continue
            y_top, y_base = y_of(stacked + value), y_of(stacked)
            stacked += value
            bar = _add(
                svg,
                "rect",
                x=f"{x:.1f}",
                y=f"{y_top:.1f}",
                width=f"{band * 0.7:.1f}",
                height=f"{y_base - y_top:.1f}",
                fill=colours[number % len(colours)],
            )
            _add(bar, "title", f"{name}, {day.isoformat()}: {_number(value)}")


def _lines(
    svg: ET.Element,
    days: Sequence[date],
    series: Sequence[tuple[str, Sequence[float]]],
    colours: Sequence[str],
    band: float,
    y_of: Callable[[float], float],
) -> None:
    for number, (name, values) in enumerate(series):
        points = " ".join(
            f"{_LEFT + band * (i + 0.5):.1f},{y_of(v):.1f}" for i, v in enumerate(values)
        )
        line = _add(
            svg,
            "polyline",
            points=points,
            fill="none",
            stroke_width="2",
            stroke=colours[number % len(colours)],
        )
        _add(line, "title", name)


def _legend(
    svg: ET.Element,
    series: Sequence[tuple[str, Sequence[float]]],
    colours: Sequence[str],
    height: int,
) -> None:
    for number, (name, _) in enumerate(series):
        row, column = divmod(number, 4)
        x, y = _LEFT + column * 140, height + row * _LEGEND_ROW
        _add(
            svg,
            "rect",
            x=str(x),
            y=str(y - 9),
            width="10",
            height="10",
            fill=colours[number % len(colours)],
        )
        _add(svg, "text", name[:24], x=str(x + 14), y=str(y), **_TEXT)
