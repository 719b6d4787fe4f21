"""The arena layout as SVG: op step across, arena offset up, one rectangle per buffer.

This is the picture MiniMalloc's and TelaMalloc's papers draw of a packing: a buffer is a box
from its first to its last step, at its offset, as tall as its size. Drawn twice side by side
(arena's plan, TFLM's greedy plan) on one byte scale, the saving is the difference in height.
Pure functions returning text; no fonts or scripts are fetched, so the SVG works offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from arena.plan.pipeline import PlanResult

_PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")


def _panel(
    result: PlanResult, offsets: Sequence[int], title: str, scale_bytes: int, x0: float, width: float, height: float
) -> list[str]:
    problem = result.table.problem
    steps = max((b.last for b in problem.buffers), default=0) + 1
    peak = max((o + b.size for o, b in zip(offsets, problem.buffers, strict=True)), default=0)
    per_step = width / max(steps, 1)
    per_byte = height / max(scale_bytes, 1)
    top = 30.0
    parts = [
        f'<g class="panel" data-title="{escape(title)}" data-peak-bytes="{peak}">',
        f'<text x="{x0:.1f}" y="18" font-size="13" font-weight="bold">{escape(title)}: {peak:,} B</text>',
        f'<rect x="{x0:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:.1f}" fill="none" stroke="#999"/>',
    ]
    for index, (offset, buffer) in enumerate(zip(offsets, problem.buffers, strict=True)):
        if buffer.size == 0:
            continue
        origin = result.table.origins[index]
        x = x0 + buffer.first * per_step
        w = (buffer.last - buffer.first + 1) * per_step
        y = top + height - (offset + buffer.size) * per_byte
        h = buffer.size * per_byte
        label = (
            f"{origin.name} ({origin.kind}, subgraph {origin.subgraph}): {buffer.size:,} B at {offset:,},"
            f" steps {buffer.first}-{buffer.last}"
        )
        parts.append(
            f'<rect class="buffer" data-buffer="{index}" data-offset="{offset}" data-bytes="{buffer.size}"'
            f' x="{x:.2f}" y="{y:.2f}" width="{max(w, 0.5):.2f}" height="{max(h, 0.5):.2f}"'
            f' fill="{_PALETTE[index % len(_PALETTE)]}" stroke="#222" stroke-width="0.4">'
            f"<title>{escape(label)}</title></rect>"
        )
    y_peak = top + height - peak * per_byte
    parts.append(
        f'<line x1="{x0:.1f}" x2="{x0 + width:.1f}" y1="{y_peak:.2f}" y2="{y_peak:.2f}"'
        ' stroke="#c00" stroke-dasharray="4 3"/>'
    )
    parts.append(f'<text x="{x0:.1f}" y="{top + height + 16:.1f}" font-size="11">op step 0 .. {steps - 1}</text>')
    parts.append("</g>")
    return parts


def render_layout_svg(result: PlanResult, tflm_offsets: Sequence[int] | None = None) -> str:
    """arena's plan and, beside it on the same byte scale, TFLM's greedy plan of the same buffers."""
    if tflm_offsets is None:
        from arena.allocators import get_allocator

        tflm_offsets = get_allocator("tflm")(result.table.problem).offsets
    problem = result.table.problem
    scale = max(
        max((o + b.size for o, b in zip(offsets, problem.buffers, strict=True)), default=0)
        for offsets in (result.plan.offsets, tflm_offsets)
    )
    width, height, gap = 420.0, 320.0, 40.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="layout" width="{2 * width + gap + 20:.0f}"'
        f' height="{height + 60:.0f}" font-family="sans-serif">',
        *_panel(result, result.plan.offsets, f"arena ({result.allocator})", scale, 10.0, width, height),
        *_panel(result, tflm_offsets, "TFLM greedy", scale, 10.0 + width + gap, width, height),
        "</svg>",
    ]
    return "\n".join(parts) + "\n"
