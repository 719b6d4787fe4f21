"""Renderers for ``--batch``: arena against batch size, as text and as JSON rows."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from arena.commands.batch import BatchRow


def batch_document(rows: list[BatchRow]) -> list[dict[str, Any]]:
    """JSON-ready rows, one per batch size."""
    return [asdict(row) for row in rows]


def render_batch_text(rows: list[BatchRow]) -> str:
    """A table: batch, head, lower bound, TFLM's head and (for a target) head + batch-1 tail."""
    lines = [f"{'batch':>5} {'head':>12} {'lower bound':>12} {'TFLM head':>12} {'head + tail':>12}  scaled buffers"]
    for row in rows:
        total = "-" if row.total_bytes is None else f"{row.total_bytes:,}"
        lines.append(
            f"{row.batch:>5} {row.head_bytes:>12,} {row.lower_bound_bytes:>12,} {row.tflm_head_bytes:>12,}"
            f" {total:>12}  {row.scaled_buffers}"
        )
    lines.append("batch: activations scaled in the lifetime problem; scratch and tail kept at batch 1")
    return "\n".join(lines) + "\n"
