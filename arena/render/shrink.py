"""Render an ``arena shrink`` result as text or a JSON document (pure functions)."""

from __future__ import annotations

from typing import Any

from arena.commands.shrink import ShrinkResult
from arena.shrink.alias import AliasKind


def _percent(before: int, after: int) -> str:
    return f"{(after - before) / before:+.1%}" if before else "n/a"


def shrink_document(result: ShrinkResult) -> dict[str, Any]:
    """The result as JSON-ready data (keys carry their units)."""
    tflm = result.tflm
    return {
        "model": result.model,
        "kernels": result.kernels,
        "head_before_bytes": result.head_before_bytes,
        "tflm_head_before_bytes": result.tflm_head_before_bytes,
        "head_after_bytes": result.head_after_bytes,
        "macs_before": result.macs_before,
        "macs_after": result.macs_after,
        "budget_bytes": result.budget_bytes,
        "steps": [
            {"name": s.name, "head_bytes": s.head_bytes, "macs_added": s.macs_added, "detail": s.detail}
            for s in result.steps
        ],
        "aliases": [
            {
                "op": a.op,
                "kind": a.kind.value,
                "source_tensor": a.source,
                "target_tensor": a.target,
                "byte_offset": a.byte_offset,
            }
            for a in result.aliases
        ],  # fmt: skip
        "simulation_problems": list(result.simulation_problems),
        "tflm": None
        if tflm is None
        else {
            "runtime": tflm.runtime,
            "original_head_bytes": tflm.original_head_bytes,
            "shrunk_head_bytes": tflm.shrunk_head_bytes,
            "outputs_identical": tflm.outputs_identical,
            "head_matches": tflm.head_matches,
            "arena_size_bytes": tflm.arena_size_bytes,
            "error": tflm.error,
        },
        "proven": result.proven,
        "ok": result.ok,
    }


def render_shrink_text(result: ShrinkResult) -> str:
    """A short human report: head before and after each step, MACs added, proof."""
    lines = [
        f"{result.model} ({result.kernels} kernels)",
        f"  head before   {result.head_before_bytes:>10,} B"
        f" (exact plan; TFLM greedy {result.tflm_head_before_bytes:,} B)",
    ]
    for step in result.steps:
        lines.append(
            f"  {step.name:<13} {step.head_bytes:>10,} B  {_percent(result.head_before_bytes, step.head_bytes):>7}"
            f"  MACs +{step.macs_added:,}  {step.detail}"
        )
    lines.append(
        f"  head after    {result.head_after_bytes:>10,} B"
        f"  {_percent(result.head_before_bytes, result.head_after_bytes):>7}"
        f"  MACs {_percent(result.macs_before, result.macs_after)}"
    )
    if result.simulation_problems:
        lines.append(f"  simulator: {len(result.simulation_problems)} problems, first: {result.simulation_problems[0]}")
    else:
        lines.append("  simulator: every read found its bytes")
    tflm = result.tflm
    if tflm is None:
        lines.append("  TFLM: not run")
    elif tflm.error:
        lines.append(f"  TFLM: failed on {tflm.runtime}: {tflm.error}")
    else:
        lines.append(
            f"  TFLM: outputs {'bit-identical' if tflm.outputs_identical else 'DIFFER'},"
            f" head {tflm.shrunk_head_bytes:,} B ({'matches the plan' if tflm.head_matches else 'does NOT match'})"
            f" on {tflm.runtime}"
        )
    if any(alias.kind is AliasKind.OVERLAP for alias in result.aliases):
        other = (
            "on CMSIS-NN such a model computes different outputs; shrink with --kernels cmsis-nn for it"
            if result.kernels == "reference"
            else "the reference kernels and other CMSIS-NN builds were not checked for it"
        )
        lines.append(
            f"  note: overlap rests on the {result.kernels} kernels' access order: link exactly those kernels ({other})"
        )
    if result.budget_bytes is not None:
        lines.append(f"  budget {result.budget_bytes:,} B: {'fits' if result.fits_budget else 'does NOT fit'}")
    return "\n".join(lines) + "\n"


__all__ = ["render_shrink_text", "shrink_document"]
