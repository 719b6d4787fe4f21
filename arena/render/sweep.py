"""Renderers for ``arena sweep``: the rows as text, CSV and JSON, with the frontier per target."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from arena.allocators import BEST_ALLOCATOR
from arena.commands.sweep import SweepRow

CSV_FIELDS = (
    "model",
    "target",
    "kernels",
    "arena_tflm_bytes",
    "arena_bytes",
    "flash_bytes",
    "macs",
    "latency_ms",
    "energy_uj",
    "accuracy",
)


def render_sweep_csv(rows: Sequence[SweepRow], budgets: Sequence[int]) -> str:
    """One CSV row per (model, target), a ``violates_<budget>`` column per budget."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_FIELDS, *(f"violates_{b}" for b in budgets), "accepted", "on_frontier", "error"])
    for row in rows:
        values: list[Any] = [getattr(row, name) for name in CSV_FIELDS]
        flags = [row.violates.get(b, "") for b in budgets]
        writer.writerow(["" if v is None else v for v in [*values, *flags, row.accepted, row.on_frontier, row.error]])
    return out.getvalue()


def sweep_document(rows: Sequence[SweepRow], budgets: Sequence[int], active_budget: int | None) -> dict[str, Any]:
    """JSON-ready dict: budgets, rows and the frontier per target."""
    return {
        "budgets_bytes": list(budgets),
        "active_budget_bytes": active_budget,
        "allocator": BEST_ALLOCATOR,
        "rows": [
            {
                **{name: getattr(r, name) for name in CSV_FIELDS},
                "violates": {str(b): v for b, v in r.violates.items()},
                "accepted": r.accepted,
                "on_frontier": r.on_frontier,
                "error": r.error,
            }
            for r in rows
        ],
        "frontier": [{"model": r.model, "target": r.target} for r in rows if r.on_frontier],
    }


def render_sweep_text(rows: Sequence[SweepRow], budgets: Sequence[int]) -> str:
    """A table of every row, then the frontier per target (or a plain note that it is empty)."""
    header = f"{'model':40} {'target':15} {'arena':>9} {'TFLM':>9} {'flash':>9} {'latency':>10}  " + " ".join(
        f"{b // 1024}K" if b % 1024 == 0 else str(b) for b in budgets
    )
    lines = [header]
    for r in rows:
        if r.error is not None:
            lines.append(f"{r.model[:40]:40} {r.target:15} error: {r.error[:80]}")
            continue
        latency = "-" if r.latency_ms is None else f"{r.latency_ms:,.1f} ms"
        flags = " ".join(("over" if r.violates[b] else "ok").rjust(len(f"{b // 1024}K")) for b in budgets)
        mark = "*" if r.on_frontier else ("+" if r.accepted else " ")
        lines.append(
            f"{r.model[:40]:40} {r.target:15} {r.arena_bytes:>9,} {r.arena_tflm_bytes:>9,} {r.flash_bytes:>9,}"
            f" {latency:>10}  {flags} {mark}"
        )
    lines.append("arena = minimum arena with arena's best plan (embed it with arena export); TFLM = with TFLM's plan")
    lines.append("+ accepted (within the active budget), * on the Pareto frontier of accepted variants")
    for target in dict.fromkeys(r.target for r in rows):
        front = [r.model for r in rows if r.target == target and r.on_frontier]
        lines.append(f"frontier on {target}: " + (", ".join(front) if front else "empty (no accepted variant)"))
    return "\n".join(lines) + "\n"
