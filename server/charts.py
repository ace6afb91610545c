"""Charts as SVG, drawn on the server: no script, no CDN, nothing fetched from outside."""

from __future__ import annotations

from html import escape

WIDTH = 760
ROW = 22
LEFT = 230


def _short(text: str, n: int = 34) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def bar(labels: list[str], values: list[float], title: str) -> str:
    """A horizontal bar chart, one bar per row (at most 40)."""
    pairs = list(zip(labels, values, strict=True))[:40]
    if not pairs:
        return ""
    top = max(v for _, v in pairs) or 1
    height = ROW * len(pairs) + 30
    scale = (WIDTH - LEFT - 60) / top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(pairs):
        y = 10 + i * ROW
        w = max(1.0, value * scale)
        parts.append(
            f'<text x="{LEFT - 8}" y="{y + 15}" text-anchor="end">{escape(_short(label))}</text>'
            f'<rect x="{LEFT}" y="{y + 3}" width="{w:.1f}" height="{ROW - 6}" class="bar">'
            f"<title>{escape(label)}: {value:g}</title></rect>"
            f'<text x="{LEFT + w + 6:.1f}" y="{y + 15}">{value:g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _year(value: str | None) -> float | None:
    if not value:
        return None
    try:
        year = int(value[:4])
    except ValueError:
        return None
    month = int(value[5:7]) if len(value) >= 7 and value[5:7].isdigit() else 1
    return year + (month - 1) / 12


def timeline(rows: list[tuple[str, str | None, str | None]], title: str, now: int) -> str:
    """Spans (label, start, end) on a time axis; a span without end runs to ``now``,
    a dated point without start is drawn as a dot."""
    items = [(label, _year(s), _year(e)) for label, s, e in rows]
    items = [(label, s, e) for label, s, e in items if s is not None or e is not None][:60]
    if not items:
        return ""
    years = [y for _, s, e in items for y in (s, e) if y is not None]
    lo, hi = int(min(years)), max(int(max(years)) + 1, now)
    span = max(1, hi - lo)
    plot = WIDTH - LEFT - 20
    height = ROW * len(items) + 40

    def x(year: float) -> float:
        return LEFT + (year - lo) / span * plot

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    step = max(1, span // 8)
    for year in range(lo, hi + 1, step):
        parts.append(
            f'<line x1="{x(year):.1f}" x2="{x(year):.1f}" y1="0" y2="{height - 20}" class="grid"/>'
            f'<text x="{x(year):.1f}" y="{height - 5}" text-anchor="middle">{year}</text>'
        )
    for i, (label, start, end) in enumerate(items):
        y = 5 + i * ROW
        parts.append(
            f'<text x="{LEFT - 8}" y="{y + 15}" text-anchor="end">{escape(_short(label))}</text>'
        )
        if start is not None:
            stop = end if end is not None else now
            w = max(3.0, x(stop) - x(start))
            tip = f"{label}: {int(start)}–{int(end) if end is not None else 'today'}"
            parts.append(
                f'<rect x="{x(start):.1f}" y="{y + 4}" width="{w:.1f}" height="{ROW - 8}" '
                f'class="span"><title>{escape(tip)}</title></rect>'
            )
        else:
            assert end is not None
            parts.append(
                f'<circle cx="{x(end):.1f}" cy="{y + ROW / 2}" r="5" class="point">'
                f"<title>{escape(label)}: {int(end)}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)
