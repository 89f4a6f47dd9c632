"""Small inline SVG charts for the pages: no scripts, no network, readable without colour."""

from __future__ import annotations

from html import escape


def bars(items: list[tuple[str, float]], *, unit: str = "", width: int = 560, bar_h: int = 22) -> str:
    """Horizontal bars with their labels and values."""
    if not items:
        return ""
    top = max(v for _l, v in items) or 1
    label_w, value_w = 190, 120
    h = bar_h * len(items) + 8
    rows = []
    for i, (label, v) in enumerate(items):
        y = 4 + i * bar_h
        w = max((width - label_w - value_w) * v / top, 0)
        rows.append(f'<text x="{label_w - 6}" y="{y + bar_h * 0.7:.0f}" text-anchor="end">{escape(label)}</text>'
                    f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 6}" class="bar"/>'
                    f'<text x="{label_w + w + 6:.1f}" y="{y + bar_h * 0.7:.0f}">{v:,.2f}{escape(unit)}</text>')
    return (f'<svg class="chart" viewBox="0 0 {width} {h}" role="img" width="100%">' + "".join(rows) + "</svg>")


def lines(series: dict[str, list[tuple[str, float]]], *, width: int = 560, height: int = 220) -> str:
    """Cumulative lines over dates (x: the dates in order, y: the value), one line per series, with a legend."""
    xs = sorted({x for pts in series.values() for x, _v in pts})
    if not xs:
        return '<p class="muted">No decisions yet / 暂无确认</p>'
    top = max((v for pts in series.values() for _x, v in pts), default=1) or 1
    left, bottom, right, top_pad = 90, 30, 10, 10
    pw, ph = width - left - right, height - bottom - top_pad

    def pos(x: str, v: float) -> str:
        i = xs.index(x)
        px = left + (pw * i / (len(xs) - 1) if len(xs) > 1 else pw / 2)
        return f"{px:.1f},{top_pad + ph - ph * v / top:.1f}"

    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" width="100%">',
           f'<line x1="{left}" y1="{top_pad + ph}" x2="{left + pw}" y2="{top_pad + ph}" class="axis"/>',
           f'<text x="{left - 4}" y="{top_pad + 8}" text-anchor="end">{top:,.0f}</text>',
           f'<text x="{left - 4}" y="{top_pad + ph}" text-anchor="end">0</text>',
           f'<text x="{left}" y="{height - 8}">{escape(xs[0])}</text>',
           f'<text x="{left + pw}" y="{height - 8}" text-anchor="end">{escape(xs[-1])}</text>']
    for k, (name, pts) in enumerate(series.items()):
        out.append(f'<polyline class="line s{k}" fill="none" points="{" ".join(pos(x, v) for x, v in pts)}"/>')
        for x, v in pts:   # points too, so that a single day still shows
            cx, cy = pos(x, v).split(",")
            out.append(f'<circle class="s{k}" cx="{cx}" cy="{cy}" r="3"><title>{escape(x)}: {v:,.2f}</title></circle>')
        out.append(f'<text class="s{k}" x="{left + 8}" y="{top_pad + 16 + 14 * k}" stroke="none">{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)
