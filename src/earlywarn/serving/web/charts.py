"""Charts of the office page as inline SVG, drawn on the server.

No chart library and no script: the page works offline, prints, and every mark
carries a ``<title>`` that screen readers and a hovering pointer both get.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

RAISES, LOWERS = "#c0392b", "#2e86c1"
SERIES_COLOURS = ("#c0392b", "#8e44ad", "#16a085", "#d68910")
DateText = Callable[[dt.date], str]  # a day as the chosen language writes it


@dataclass(frozen=True)
class Point:
    at: dt.datetime
    level: int  # index into the level axis
    size: int
    title: str


@dataclass(frozen=True)
class Tick:
    at: dt.datetime
    title: str


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    title: str


DASHES = ("", ' stroke-dasharray="7 4"', ' stroke-dasharray="2 3"', ' stroke-dasharray="10 3 2 3"')


def _data_table(summary: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Markup:
    """A chart's values as a table, folded under it: what a screen reader reads, and
    what a phone shows at a size one can read (the chart's text is a few pixels there)."""
    head = "".join(f'<th scope="col">{escape(name)}</th>' for name in header)
    body = "".join(
        "<tr>"
        + f'<th scope="row">{escape(row[0])}</th>'
        + "".join(f'<td class="num">{escape(cell)}</td>' for cell in row[1:])
        + "</tr>"
        for row in rows
    )
    return Markup(
        f'<details class="chart-data"><summary>{escape(summary)}</summary>'
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>'
        "</table></div></details>"
    )


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'class="chart" preserveAspectRatio="xMinYMin meet">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, content: str, anchor: str = "start", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">'
        f"{escape(content)}</text>"
    )


def timeline(
    points: Sequence[Point],
    ticks: Sequence[Tick],
    periods: Sequence[tuple[dt.date, dt.date]],
    levels: Sequence[str],
    start: dt.datetime,
    end: dt.datetime,
    as_of: dt.datetime,
    label: str,
    day_text: DateText,
    month_text: DateText,
) -> Markup:
    """Contacts by level (height) and group size (dot size), handling steps as ticks
    under the axis, sensitive periods shaded, the list's moment as a dashed line."""
    width, height, left, right, top, bottom = 820, 300, 70, 16, 14, 62
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max((end - start).total_seconds(), 86400.0)

    def x(moment: dt.datetime) -> float:
        return left + plot_w * (moment - start).total_seconds() / span

    def y(level: int) -> float:
        return top + plot_h - plot_h * (level + 0.5) / len(levels)

    body: list[str] = []
    for first, last in periods:
        x0 = x(max(dt.datetime.combine(first, dt.time()), start))
        x1 = x(min(dt.datetime.combine(last + dt.timedelta(days=1), dt.time()), end))
        if x1 > x0:
            body.append(
                f'<rect class="period" x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" '
                f'height="{plot_h}" fill="#f5cba7" opacity="0.55"><title>'
                f"{escape(day_text(first))} – {escape(day_text(last))}</title></rect>"
            )
    for index, name in enumerate(levels):
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(index):.1f}" y2="{y(index):.1f}" '
            'stroke="#ddd"/>'
        )
        body.append(_text(left - 6, y(index) + 4, name, "end"))
    axis_y = top + plot_h
    body.append(
        f'<line x1="{left}" x2="{width - right}" y1="{axis_y}" y2="{axis_y}" stroke="#555"/>'
    )
    for day, text in _axis_days(start, end, month_text):
        at = x(dt.datetime.combine(day, dt.time()))
        body.append(
            f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{axis_y}" y2="{axis_y + 4}" stroke="#555"/>'
        )
        anchor = "end" if at > width - right - 40 else "start" if at < left + 40 else "middle"
        body.append(_text(at, axis_y + 16, text, anchor, 10))
    for tick in ticks:
        at = x(tick.at)
        body.append(
            f'<line class="action" x1="{at:.1f}" x2="{at:.1f}" y1="{axis_y + 24}" '
            f'y2="{axis_y + 40}" stroke="#1e8449" stroke-width="2"><title>{escape(tick.title)}'
            "</title></line>"
        )
    for point in points:
        radius = 3 + 2.2 * math.sqrt(max(point.size, 1))
        body.append(
            f'<circle class="contact" cx="{x(point.at):.1f}" cy="{y(point.level):.1f}" '
            f'r="{radius:.1f}" fill="#c0392b" fill-opacity="0.55" stroke="#922b21">'
            f"<title>{escape(point.title)}</title></circle>"
        )
    now = x(as_of)
    body.append(
        f'<line x1="{now:.1f}" x2="{now:.1f}" y1="{top}" y2="{axis_y}" stroke="#333" '
        'stroke-dasharray="4 3"/>'
    )
    return _svg(width, height, label, body)


def _axis_days(
    start: dt.datetime, end: dt.datetime, month_text: DateText
) -> list[tuple[dt.date, str]]:
    """About six evenly spaced first-of-month days along the axis."""
    months = []
    day = dt.date(start.year, start.month, 1)
    while day <= end.date():
        if day >= start.date():
            months.append(day)
        day = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    step = max(1, math.ceil(len(months) / 6))
    chosen = months[::step]
    return [(d, month_text(d)) for d in chosen]


def contributions(bars: Sequence[Bar], label: str) -> Markup:
    """Signed horizontal bars around zero: right raises the risk, left lowers it."""
    width, row, left = 820, 26, 250
    height = 16 + row * max(len(bars), 1)
    scale = max((abs(b.value) for b in bars), default=1.0) or 1.0
    middle = left + (width - left) / 2
    half = (width - left) / 2 - 56  # room for the value beside the longest bar
    body = [f'<line x1="{middle:.1f}" x2="{middle:.1f}" y1="4" y2="{height - 4}" stroke="#555"/>']
    for index, bar in enumerate(bars):
        top = 8 + index * row
        length = half * abs(bar.value) / scale
        x0 = middle if bar.value >= 0 else middle - length
        colour = RAISES if bar.value >= 0 else LOWERS
        body.append(_text(left - 8, top + 14, bar.label, "end"))
        body.append(
            f'<rect class="contribution" x="{x0:.1f}" y="{top + 2}" width="{max(length, 1):.1f}" '
            f'height="{row - 8}" fill="{colour}"><title>{escape(bar.title)}</title></rect>'
        )
        value_x = middle + length + 4 if bar.value >= 0 else middle - length - 4
        body.append(
            _text(value_x, top + 14, f"{bar.value:+.2f}", "start" if bar.value >= 0 else "end", 10)
        )
    return _svg(width, height, label, body)


def lines(
    series: dict[str, Sequence[tuple[dt.date, float]]],
    label: str,
    value_text: str = "{:.0f}",
    day_text: DateText = dt.date.isoformat,
    maximum: float | None = None,
    words: tuple[str, str] = ("日期", "数据表"),
) -> Markup:
    """A small line chart over days, one line per series (told apart by colour and
    dashes), with a legend, and its values as a table for a screen reader or a phone
    (``words``: its first column's heading, and the fold's)."""
    width, height, left, right, top, bottom = 820, 220, 56, 16, 28, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    days = sorted({d for values in series.values() for d, _ in values})
    if not days:
        return _svg(width, 40, label, [_text(8, 24, "-")])
    ceiling = maximum or max((v for values in series.values() for _, v in values), default=1.0)
    ceiling = ceiling or 1.0
    first, last = days[0], days[-1]
    span = max((last - first).days, 1)

    def x(day: dt.date) -> float:
        return left + plot_w * ((day - first).days / span if len(days) > 1 else 0.5)

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / ceiling

    body = [
        f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#555"/>'
    ]
    for fraction in (0.5, 1.0):
        level = ceiling * fraction
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(level):.1f}" y2="{y(level):.1f}" '
            'stroke="#eee"/>'
        )
        body.append(_text(left - 6, y(level) + 4, value_text.format(level), "end", 10))
    for day, anchor in ((first, "start"), (last, "end")):
        body.append(_text(x(day), height - 10, day_text(day), anchor, 10))
    for index, (name, values) in enumerate(series.items()):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        ordered = sorted(values)
        path = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in ordered)
        dashes = DASHES[index % len(DASHES)]  # told apart without colour, in print too
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"'
                    f'{dashes}/>')  # fmt: skip
        for day, value in ordered:
            text = f"{name} {day_text(day)}: {value_text.format(value)}"
            body.append(
                f'<circle cx="{x(day):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(text)}</title></circle>"
            )
        body.append(
            f'<line x1="{left + 150 * index}" x2="{left + 150 * index + 14}" y1="12" y2="12" '
            f'stroke="{colour}" stroke-width="3"{DASHES[index % len(DASHES)]}/>'
        )
        body.append(_text(left + 150 * index + 18, 16, name))
    rows = [
        [day_text(day)] + [_value_on(values, day, value_text) for values in series.values()]
        for day in days
    ]
    table = _data_table(f"{label} · {words[1]}", [words[0], *series], rows)
    return _svg(width, height, label, body) + table


def _value_on(values: Sequence[tuple[dt.date, float]], day: dt.date, value_text: str) -> str:
    found = [v for d, v in values if d == day]
    return value_text.format(found[0]) if found else "-"


def bars(items: Sequence[Bar], label: str, words: tuple[str, str] = ("", "数据表")) -> Markup:
    """Horizontal bars of counts, largest first, and their values as a table."""
    width, row, left = 820, 24, 200
    height = 12 + row * max(len(items), 1)
    scale = max((b.value for b in items), default=1.0) or 1.0
    body = []
    for index, item in enumerate(items):
        top = 6 + index * row
        length = (width - left - 60) * item.value / scale
        body.append(_text(left - 8, top + 14, item.label, "end"))
        body.append(
            f'<rect x="{left}" y="{top + 2}" width="{max(length, 1):.1f}" height="{row - 8}" '
            f'fill="#c0392b"><title>{escape(item.title)}</title></rect>'
        )
        body.append(_text(left + length + 4, top + 14, f"{item.value:,.0f}", "start", 10))
    rows = [[item.label, f"{item.value:,.0f}"] for item in items]
    table = _data_table(f"{label} · {words[1]}", ["", label], rows)
    return _svg(width, height, label, body) + table
