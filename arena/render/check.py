"""Renderers for ``arena check``: one line per budget and the verdict, or the JSON document."""

from __future__ import annotations

from typing import Any

from arena.commands.check import BudgetReport
from arena.plan.pipeline import PlanResult
from arena.units import format_bytes


def _best_fields(report: BudgetReport, result: PlanResult) -> dict[str, Any] | None:
    """Arena's best plan beside the checked one: its sizes and what it saves once embedded."""
    best = report.best
    if best is None or best.sizing is None or result.sizing is None:
        return None
    return {
        "allocator": best.allocator,
        "head_bytes": best.sizing.head_bytes,
        "tail_bytes": best.sizing.tail_bytes,
        "total_bytes": best.sizing.total_bytes,
        "saved_bytes": result.sizing.total_bytes - best.sizing.total_bytes,
        "optimal": best.plan.is_optimal,
    }


def _best_lines(report: BudgetReport, result: PlanResult) -> list[str]:
    best = _best_fields(report, result)
    if best is None:
        return []
    saved = best["saved_bytes"]
    gain = f": {saved:,} B less once embedded (arena export)" if saved > 0 else ": no smaller than this plan"
    return [f"arena's best {format_bytes(best['total_bytes'])} with {best['allocator']}{gain}"]


def render_budget_text(report: BudgetReport, result: PlanResult) -> str:
    """One line per comparison, then the verdict."""
    sizing = result.sizing
    assert sizing is not None
    lines = [
        f"{report.model} on {report.target}: arena {format_bytes(sizing.total_bytes)}"
        f" (head {sizing.head_bytes:,} + tail {sizing.tail_bytes:,}, allocator {result.allocator},"
        f" kernels {result.table.kernels})",
        f"{'check':24} {'required':>12} {'available':>12} {'excess':>10}  verdict",
    ]
    for line in report.lines:
        verdict = ("fits" if line.fits else "EXCEEDS") + (" (active)" if line.active else "")
        lines.append(
            f"{line.name:24} {line.required_bytes:>12,} {line.available_bytes:>12,} {line.excess_bytes:>10,}  {verdict}"
        )
    lines += _best_lines(report, result)
    lines += [f"note: {note}" for note in sizing.notes]
    lines.append("PASS" if report.ok else "FAIL: " + ", ".join(x.name for x in report.lines if x.active and not x.fits))
    return "\n".join(lines) + "\n"


def budget_document(report: BudgetReport, result: PlanResult) -> dict[str, Any]:
    """JSON-ready dict of the check."""
    sizing = result.sizing
    assert sizing is not None
    return {
        "model": report.model,
        "target": report.target,
        "allocator": result.allocator,
        "kernels": result.table.kernels,
        "arena": {"head_bytes": sizing.head_bytes, "tail_bytes": sizing.tail_bytes, "total_bytes": sizing.total_bytes},
        "best": _best_fields(report, result),
        "ok": report.ok,
        "checks": [
            {
                "name": line.name,
                "required_bytes": line.required_bytes,
                "available_bytes": line.available_bytes,
                "excess_bytes": line.excess_bytes,
                "fits": line.fits,
                "active": line.active,
            }
            for line in report.lines
        ],
    }
