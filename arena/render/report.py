"""The self-contained HTML report: inline CSS and SVG, no script, nothing fetched when viewed.

Key figures carry ids (``head-bytes``, ``lower-bound-bytes``, ``tflm-head-bytes``,
``tail-bytes``, ``total-bytes``) holding the plain integer, so a browser test can compare the
rendered page with ``arena plan --json``.
"""

from __future__ import annotations

from html import escape

from arena.commands.report import ReportData
from arena.render.layout import render_layout_svg

_CSS = """
body{font-family:sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f2f2f2}td.l,th.l{text-align:left}.num{font-variant-numeric:tabular-nums}
"""


def _figure(label: str, key: str, value: int | None) -> str:
    shown = "-" if value is None else f"{value:,} B"
    raw = "" if value is None else str(value)
    return (
        f'<tr><th class="l">{escape(label)}</th><td class="num">{shown} <span hidden id="{key}">{raw}</span></td></tr>'
    )


def _live_svg(data: ReportData) -> str:
    loads = data.live_bytes
    width, height = 860.0, 200.0  # drawn from y = 10: room for the top label
    total = [] if data.result.sizing is None else [data.result.sizing.total_bytes]
    # Scaled to what the model needs (plus a quarter), not to a budget ten times larger, which
    # would flatten the bars; budgets beyond the scale are drawn at its top and say so.
    needed = max([*loads, data.result.plan.peak_bytes, *total], default=1) or 1
    top_value = max(needed * 1.25, *(b for _, b in data.budgets if b <= needed * 2), 1)
    per_step = width / max(len(loads), 1)
    per_byte = height / top_value
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="live" width="{width + 20:.0f}" height="{height + 30:.0f}">'
    ]
    for i, load in enumerate(loads):
        h = load * per_byte
        parts.append(
            f'<rect class="live-step" data-step="{data.first_step + i}" data-bytes="{load}" x="{10 + i * per_step:.2f}"'
            f' y="{10 + height - h:.2f}" width="{max(per_step - 1, 0.5):.2f}" height="{h:.2f}" fill="#4e79a7">'
            f"<title>step {data.first_step + i}: {load:,} B live</title></rect>"
        )
    sizing = data.result.sizing
    lines = [("arena head", data.result.plan.peak_bytes, "#c00"), *((n, b, "#2a2") for n, b in data.budgets)]
    if sizing is not None:
        lines.insert(1, ("arena total (head + tail)", sizing.total_bytes, "#a0a"))
    for index, (name, value, colour) in enumerate(lines):
        above = value > top_value
        y = 10 + height - min(value, top_value) * per_byte
        # Alternate labels left and right so that near-equal lines (head, total) stay legible.
        x, anchor = (12, "start") if index % 2 else (8 + width, "end")
        label = f"{escape(name)} {value:,} B" + (" (above the scale)" if above else "")
        parts.append(
            f'<line class="budget" data-bytes="{value}" x1="10" x2="{10 + width:.0f}" y1="{y:.2f}" y2="{y:.2f}"'
            f' stroke="{colour}" stroke-dasharray="5 3"/><text x="{x:.0f}" y="{y - 3 if y > 22 else y + 12:.2f}"'
            f' font-size="11" text-anchor="{anchor}" fill="{colour}">{label}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def render_report_html(data: ReportData) -> str:
    """The whole report as one HTML document."""
    result = data.result
    sizing = result.sizing
    model = result.model
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>arena report: {escape(model.display_name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>arena report: {escape(model.display_name)}</h1>",
        f"<p>Planned with <b>{escape(result.allocator)}</b>"
        + (f" for <b>{escape(sizing.target.name)}</b>" if sizing is not None else " (no target: head only)")
        + f'; plan status <b id="status">{escape(result.plan.status.value)}</b>.</p>',
        "<table>",
        _figure("arena head", "head-bytes", result.plan.peak_bytes),
        _figure("lower bound", "lower-bound-bytes", result.plan.lower_bound_bytes),
        _figure("TFLM greedy head", "tflm-head-bytes", result.tflm_head_bytes),
        _figure("arena tail", "tail-bytes", None if sizing is None else sizing.tail_bytes),
        _figure("arena total (kTensorArenaSize)", "total-bytes", None if sizing is None else sizing.total_bytes),
        "</table>",
        "<h2>Memory layout: offset against op step, arena's plan beside TFLM's</h2>",
        render_layout_svg(result, data.tflm_offsets),
        "<h2>Live bytes per op step, with budgets</h2>",
        _live_svg(data),
    ]
    if sizing is not None:
        parts += [
            "<h2>Tail: TFLM's persistent section</h2>",
            '<table id="tail"><tr><th class="l">part</th><th>bytes</th><th>count</th></tr>',
        ]
        parts += [
            f'<tr><td class="l">{escape(c.name)}</td><td class="num">{c.bytes:,}</td><td>{c.count}</td></tr>'
            for c in sizing.tail.components
        ]
        parts.append("</table>")
    if data.cost is not None:
        cost = data.cost
        parts += [
            f"<h2>Per-layer cost ({escape(cost.core)}, {escape(cost.kernels)}, {cost.clock_hz / 1e6:g} MHz)</h2>",
            f'<p>latency <b id="latency-ms">{cost.latency_ms:.3f}</b> ms, MACs <b id="macs">{cost.macs}</b></p>',
            '<table id="layers"><tr><th>#</th><th class="l">op</th><th>MACs</th><th>cycles</th><th>time</th></tr>',
        ]
        parts += [
            f'<tr><td>{layer.op_index}</td><td class="l">{escape(layer.op_name)}</td>'
            f'<td class="num">{layer.macs:,}</td>'
            f'<td class="num">{layer.cycles:,}</td><td>{layer.time_share * 100:.1f}%</td></tr>'
            for layer in cost.layers
        ]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
