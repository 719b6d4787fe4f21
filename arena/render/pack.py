"""Renderers for ``arena pack`` results: text summary and JSON document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from arena import __version__
from arena.commands.pack import PackResult
from arena.units import format_bytes

JSON_SCHEMA_VERSION = 1


def pack_document(result: PackResult) -> dict[str, Any]:
    """The ``arena pack --json`` document."""
    plan = result.plan
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "arena", "version": __version__},
        "problem": {
            "path": result.path,
            "buffers": len(result.problem),
            "capacity_bytes": result.problem.capacity,
        },
        "allocator": result.allocator,
        "peak_bytes": plan.peak_bytes,
        "lower_bound_bytes": plan.lower_bound_bytes,
        "status": str(plan.status),
        "optimal": plan.is_optimal,
        "fits": result.fits,
        "valid": result.ok or not result.fits,
        "violations": [v.message for v in result.validation.violations],
        "stats": dict(plan.stats),
        "offsets": list(plan.offsets),
    }


def render_pack_json(result: PackResult) -> str:
    """The pack document as indented JSON, ending in a newline."""
    return json.dumps(pack_document(result), indent=2) + "\n"


def render_pack_text(result: PackResult) -> str:
    """A short summary: peak, bound, status, capacity verdict and time."""
    plan = result.plan
    gap = plan.peak_bytes - plan.lower_bound_bytes
    lines = [
        f"problem      {Path(result.path).name}: {len(result.problem)} buffers",
        f"allocator    {result.allocator} ({plan.status})",
        f"peak         {format_bytes(plan.peak_bytes)}",
        f"lower bound  {format_bytes(plan.lower_bound_bytes)}"
        + ("" if gap == 0 else f" (peak is {gap:,} B, {gap / max(plan.lower_bound_bytes, 1):.1%} above)"),
        f"time         {plan.stats.get('seconds', 0.0):.3f} s",
    ]
    capacity = result.problem.capacity
    if capacity is not None:
        verdict = "fits" if result.fits else f"DOES NOT FIT ({plan.peak_bytes - capacity:,} B over)"
        lines.append(f"capacity     {format_bytes(capacity)}: {verdict}")
    broken = [v for v in result.validation.violations if str(v.kind) != "over-capacity"]
    if broken:
        lines.append(f"INVALID PLAN {len(broken)} violations:")
        lines.extend(f"  {v.message}" for v in broken)
    return "\n".join(lines) + "\n"
