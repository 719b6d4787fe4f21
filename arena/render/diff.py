"""``arena diff`` as text (a table with a verdict) and as a JSON document."""

from __future__ import annotations

from typing import Any

from arena.commands.diff import DiffReport, Metric


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    text = f"{value:,.3f}" if unit in ("ms", "uJ") else f"{int(value):,}"
    return f"{text} {unit}".strip()


def _change(metric: Metric) -> str:
    delta = metric.delta
    if delta is None:
        return "-"
    sign = "+" if delta > 0 else ""
    relative = metric.relative
    share = "" if relative is None else f" ({sign}{relative * 100:.1f}%)"
    return f"{sign}{_number(delta, metric.unit)}{share}"


def render_diff_text(report: DiffReport) -> str:
    """One row per metric: old, new, change, and the gate where one applies."""
    rows = [("metric", "old", "new", "change", "gate")]
    for m in report.metrics:
        gate = "" if m.limit is None else f"<= +{m.limit * 100:g}%: " + ("EXCEEDED" if m.exceeded else "ok")
        rows.append((m.name, _number(m.old, m.unit), _number(m.new, m.unit), _change(m), gate))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [f"old  {report.old_model}", f"new  {report.new_model}"]
    lines.append(f"with {report.allocator}" + (f" on {report.target}" if report.target else " (no target: head only)"))
    lines.append("")
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.append("")
    lines.append("verdict  " + ("ok" if report.ok else "REGRESSION: a gated metric grew past its threshold"))
    return "\n".join(lines) + "\n"


def diff_document(report: DiffReport) -> dict[str, Any]:
    """The ``arena diff --json`` document."""
    return {
        "old_model": report.old_model,
        "new_model": report.new_model,
        "target": report.target,
        "allocator": report.allocator,
        "metrics": [
            {
                "name": m.name,
                "unit": m.unit,
                "old": m.old,
                "new": m.new,
                "delta": m.delta,
                "relative": m.relative,
                "max_increase": m.limit,
                "exceeded": m.exceeded,
            }
            for m in report.metrics
        ],
        "ok": report.ok,
    }
