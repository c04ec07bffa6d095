"""Small charts drawn on the server as inline SVG: the admin runs offline, so no chart library
from a CDN. Labels and values are escaped; the result is safe to put in a template."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

BAR_COLOR = "#417690"  # the admin's own blue
ALERT_COLOR = "#ba2121"


def bar_chart_svg(rows: Sequence[tuple[str, int]], *, title: str, width: int = 520, bar_height: int = 22,
                  label_width: int = 250, highlight: Sequence[str] = ()) -> SafeString:
    """A horizontal bar chart: one bar per (label, value), the value written after the bar.
    `highlight`: labels drawn in the alert colour."""
    gap = 6
    height = max(1, len(rows)) * (bar_height + gap) + gap
    top = max((value for _, value in rows), default=0) or 1
    room = width - label_width - 50
    bars = []
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_height + gap)
        length = max(2, round(room * value / top)) if value else 0
        bars.append((
            y + bar_height * 0.7, label_width - 8, label,
            label_width, y, length, bar_height, ALERT_COLOR if label in highlight else BAR_COLOR,
            label_width + length + 6, y + bar_height * 0.7, value,
        ))
    body = format_html_join(
        "",
        '<text x="{1}" y="{0}" text-anchor="end" font-size="13">{2}</text>'
        '<rect x="{3}" y="{4}" width="{5}" height="{6}" rx="3" fill="{7}"></rect>'
        '<text x="{8}" y="{9}" font-size="13" font-weight="bold">{10}</text>',
        bars,
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" class="imperium-chart" width="{}" height="{}" viewBox="0 0 {} {}">'
        "<title>{}</title>{}</svg>",
        width, height, width, height, title, body,
    )


def column_chart_svg(columns: Sequence[tuple[str, int, int]], *, title: str, width: int = 520, height: int = 160,
                     colors: tuple[str, str] = (BAR_COLOR, "#e8a33d")) -> SafeString:
    """Stacked columns: one per (label, lower value, upper value) — e.g. per day, answered by the
    bot (lower) and escalated (upper)."""
    count = max(1, len(columns))
    plot_height = height - 40
    top = max((a + b for _, a, b in columns), default=0) or 1
    step = width / count
    column_width = step * 0.6
    parts = []
    for i, (label, lower, upper) in enumerate(columns):
        x = i * step + (step - column_width) / 2
        lower_h = plot_height * lower / top
        upper_h = plot_height * upper / top
        base = 10 + plot_height
        parts.append((
            round(x, 1), round(base - lower_h, 1), round(column_width, 1), round(lower_h, 1), colors[0],
            round(base - lower_h - upper_h, 1), round(upper_h, 1), colors[1],
            round(x + column_width / 2, 1), height - 12, label,
            round(base - lower_h - upper_h - 3, 1), lower + upper,
        ))
    body = format_html_join(
        "",
        '<rect x="{0}" y="{1}" width="{2}" height="{3}" fill="{4}"></rect>'
        '<rect x="{0}" y="{5}" width="{2}" height="{6}" fill="{7}"></rect>'
        '<text x="{8}" y="{9}" text-anchor="middle" font-size="12">{10}</text>'
        '<text x="{8}" y="{11}" text-anchor="middle" font-size="11">{12}</text>',
        parts,
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" class="imperium-chart" width="{}" height="{}" viewBox="0 0 {} {}">'
        "<title>{}</title>{}</svg>",
        width, height, width, height, title, body,
    )
