"""Renderers for ``arena export``: every file's content, and the summary of what was written."""

from __future__ import annotations

from arena.commands.export import ExportBundle
from arena.plan.c_source import render_header, render_model_array, render_source


def render_export_header(bundle: ExportBundle) -> str:
    """The arena header."""
    return render_header(bundle.arena)


def render_export_source(bundle: ExportBundle, header_name: str) -> str:
    """The arena source, including ``header_name``."""
    return render_source(bundle.arena, header_name)


def render_export_model_array(bundle: ExportBundle) -> str:
    """The exported model as a C array."""
    return render_model_array(bundle.model_bytes, bundle.arena.prefix, bundle.arena.model_name)


def render_export_summary(bundle: ExportBundle, written: list[str]) -> str:
    """What was written and the numbers firmware needs, against TFLM's default plan."""
    arena = bundle.arena
    sizing = bundle.realized.sizing
    assert sizing is not None
    tflm_total = bundle.planned.sizing.tflm_total_bytes if bundle.planned.sizing else arena.total_bytes
    lines = [
        f"model        {arena.model_name} -> {'plan embedded' if bundle.embedded else 'unmodified (TFLM plans it)'}",
        f"target       {arena.target} ({arena.kernels} kernels), allocator {arena.allocator}",
        f"arena        {arena.total_bytes:,} B = head {arena.head_bytes:,} + tail {arena.tail_bytes:,}"
        + (f" + {sizing.minimum.transient_bytes:,} commit transient" if sizing.minimum.transient_bytes else ""),
    ]
    if tflm_total != arena.total_bytes:
        lines.append(f"TFLM default {tflm_total:,} B: the exported plan saves {tflm_total - arena.total_bytes:,} B")
    if arena.budget_bytes is not None:
        verdict = "fits" if bundle.fits_budget else f"EXCEEDS by {arena.total_bytes - arena.budget_bytes:,} B"
        lines.append(f"budget       {arena.budget_bytes:,} B: {verdict} (the header static-asserts it)")
    lines += [f"wrote        {path}" for path in written]
    lines += [f"note         {note}" for note in sizing.notes]
    return "\n".join(lines) + "\n"
