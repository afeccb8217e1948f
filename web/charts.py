"""Charts drawn on the server as SVG: no script, no chart library, readable without colour.

The net bed-nights chart has one row per region: its name and signed figure as text, and a
bar that grows right of the zero line for regions that took in more than they sent and
left of it for regions that sent more. Direction and sign tell it, colour only repeats it.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 400  # viewBox units; the SVG scales to its box, so text stays legible on a phone
ROW = 34
LABEL_BASELINE = 14
BAR_TOP = 19
BAR_HEIGHT = 10
MARGIN = 8
AXIS_LABEL = 18


def signed(value: int) -> str:
    """Return a figure with its sign: +12, −3 (a real minus), 0."""
    if value > 0:
        return f"+{value}"
    if value < 0:
        return f"\u2212{-value}"
    return "0"


def net_bed_nights_chart(rows: Sequence[tuple[str, int | None]], *, title: str,
                         description: str, axis_label: str, hidden_label: str = "-") -> Markup:
    """Return an accessible SVG bar chart of (name, net bed-nights) rows, in the given order.

    A hidden figure (None: a suppressed small count) has no bar, only `hidden_label`.
    """
    largest = max((abs(value) for _, value in rows if value is not None), default=0) or 1
    half = (WIDTH - 2 * MARGIN) / 2
    zero = MARGIN + half
    height = AXIS_LABEL + len(rows) * ROW + MARGIN
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(description)}</desc>',
        f'<text x="{zero:.1f}" y="12" text-anchor="middle">{escape(axis_label)}</text>',
        f'<line class="axis" x1="{zero:.1f}" y1="{AXIS_LABEL}" x2="{zero:.1f}" '
        f'y2="{height - MARGIN}" stroke-width="1.5"/>',
    ]
    for index, (name, value) in enumerate(rows):
        top = AXIS_LABEL + index * ROW
        if value is None:
            parts.append(
                f'<g><text x="{MARGIN}" y="{top + LABEL_BASELINE}">{escape(name)}</text>'
                f'<text x="{WIDTH - MARGIN}" y="{top + LABEL_BASELINE}" text-anchor="end">'
                f"{escape(hidden_label)}</text></g>")
            continue
        length = half * abs(value) / largest
        x = zero if value >= 0 else zero - length
        kind = "bar-in" if value >= 0 else "bar-out"
        parts.append(
            f'<g><text x="{MARGIN}" y="{top + LABEL_BASELINE}">{escape(name)}</text>'
            f'<text x="{WIDTH - MARGIN}" y="{top + LABEL_BASELINE}" text-anchor="end">'
            f"{escape(signed(value))}</text>"
            f'<rect class="{kind}" x="{x:.1f}" y="{top + BAR_TOP}" width="{max(length, 0):.1f}" '
            f'height="{BAR_HEIGHT}"/></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value in it was escaped above
