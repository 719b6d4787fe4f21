"""Renderers from a plan result to what people and machines read: text, a memory map, JSON.

Pure functions returning strings; the caller decides where they go.
"""

from __future__ import annotations

import json
from typing import Any

from arena import __version__
from arena.commands.batch import BatchRow
from arena.cost.estimate import CostEstimate
from arena.lifetimes import BufferKind
from arena.plan.pipeline import PlanResult
from arena.plan.plan_file import PLAN_SCHEMA_VERSION, buffer_rows
from arena.render.batch import batch_document
from arena.render.refs import violation_document
from arena.units import format_bytes

_MAP_SYMBOLS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _target_document(result: PlanResult) -> dict[str, Any] | None:
    if result.sizing is None:
        return None
    target = result.sizing.target
    return {
        "name": target.name,
        "core": target.core,
        "pointer_bits": target.pointer_bits,
        "sram_bytes": target.sram_bytes,
        "flash_bytes": target.flash_bytes,
        "clock_hz": target.clock_hz,
    }


def _sizing_fields(result: PlanResult) -> dict[str, Any]:
    """``arena`` fields that need a target: tail, total (the number to set) and their parts."""
    sizing = result.sizing
    if sizing is None:
        return {"tail_bytes": None, "total_bytes": None}
    return {
        "tail_bytes": sizing.tail_bytes,
        "total_bytes": sizing.total_bytes,
        "tflm_total_bytes": sizing.tflm_total_bytes,
        "transient_bytes": sizing.minimum.transient_bytes,
        "abi": sizing.abi,
        "tail_components": [{"name": c.name, "bytes": c.bytes, "count": c.count} for c in sizing.tail.components],
        "notes": list(sizing.notes),
    }


def _cost_fields(cost: CostEstimate | None) -> dict[str, Any] | None:
    if cost is None:
        return None
    return {
        "macs": cost.macs,
        "cycles": cost.cycles,
        "latency_ms": cost.latency_ms,
        "energy_uj": cost.energy_uj,
        "cycle_model": f"{cost.core}/{cost.kernels} ({cost.cycle_model_status})",
    }


def plan_document(result: PlanResult, cost: CostEstimate | None = None) -> dict[str, Any]:
    """The ``arena plan --json`` document (``cost`` totals when the target has a cycle model)."""
    model = result.model
    peak = result.peak_step
    origins = result.table.origins
    return {
        "schema_version": PLAN_SCHEMA_VERSION,
        "tool": {"name": "arena", "version": __version__},
        "model": {
            "path": model.path,
            "sha256": model.sha256,
            "bytes": model.size_bytes,
            "subgraphs": len(model.subgraphs),
            "operators": model.operator_count,
            "tensors": model.tensor_count,
        },
        "allocator": result.allocator,
        "kernels": result.table.kernels,
        "arena": {
            "head_bytes": result.plan.peak_bytes,
            "lower_bound_bytes": result.plan.lower_bound_bytes,
            "tflm_head_bytes": result.tflm_head_bytes,
            "saved_bytes": result.tflm_head_bytes - result.plan.peak_bytes,
            **_sizing_fields(result),
            "status": str(result.plan.status),
            "optimal": result.plan.is_optimal,
            "peak_step": None if peak is None else peak.step,
            "peak_op": None if peak is None else {"subgraph": peak.subgraph, "op": peak.op, "op_name": peak.op_name},
        },
        "target": _target_document(result),
        "cost": _cost_fields(cost),
        "valid": result.ok,
        "violations": [v.message for v in result.validation.violations if v not in result.offline_overlaps],
        "offline_overlaps": [v.message for v in result.offline_overlaps],
        "violation_details": [
            violation_document(origins, v) for v in result.validation.violations if v not in result.offline_overlaps
        ],
        "offline_overlap_details": [violation_document(origins, v) for v in result.offline_overlaps],
        "warnings": list(result.table.warnings),
        "buffers": [
            {**row, "subgraph_tensor": origin.tensor} for row, origin in zip(buffer_rows(result), origins, strict=True)
        ],
    }


def render_plan_json(
    result: PlanResult, cost: CostEstimate | None = None, batches: list[BatchRow] | None = None
) -> str:
    """The plan document as indented JSON text, ending in a newline (``batches`` with ``--batch``)."""
    document = plan_document(result, cost)
    if batches is not None:
        document["batches"] = batch_document(batches)
    return json.dumps(document, indent=2) + "\n"


def _gap_line(result: PlanResult) -> str:
    head = result.plan.peak_bytes
    bound = result.plan.lower_bound_bytes
    if head == bound:
        return f"{format_bytes(bound)}: this plan is optimal"
    if head < bound:
        return f"{format_bytes(bound)}: above the head because the offline plan overlaps live buffers"
    return f"{format_bytes(bound)}: this plan is {head - bound:,} B ({(head - bound) / bound:.1%}) above it"


def _target_lines(result: PlanResult) -> list[str]:
    if result.sizing is None:
        return []
    target = result.sizing.target
    return [f"target       {target.name}: {target.core}, {target.pointer_bits}-bit pointers"]


def _total_lines(result: PlanResult) -> list[str]:
    """Tail and total (the number to set as kTensorArenaSize) when planned for a target."""
    sizing = result.sizing
    if sizing is None:
        return []
    lines = [f"arena tail   {format_bytes(sizing.tail_bytes)}: TFLM's structs, kernel data and variables"]
    transient = sizing.minimum.transient_bytes
    why = f" ({transient:,} B more than head + tail: {sizing.minimum.binding_phase})" if transient else ""
    lines.append(f"arena total  {format_bytes(sizing.total_bytes)}: set kTensorArenaSize to at least this{why}")
    if result.allocator != "tflm" and sizing.tflm_total_bytes != sizing.total_bytes:
        lines.append(f"TFLM total   {format_bytes(sizing.tflm_total_bytes)} with TFLM's own plan")
    lines += [f"note         {note}" for note in sizing.notes]
    return lines


def _tflm_line(result: PlanResult) -> list[str]:
    """TFLM's own figure beside a better plan, and what the device needs to use the better one."""
    if result.allocator == "tflm":
        return []
    saved = result.tflm_head_bytes - result.plan.peak_bytes
    line = f"TFLM greedy  {format_bytes(result.tflm_head_bytes)}"
    if saved > 0:
        line += f": this plan saves {saved:,} B ({saved / result.tflm_head_bytes:.1%}) once embedded in the model"
    return [line]


def _cost_lines(cost: CostEstimate | None) -> list[str]:
    if cost is None:
        return []
    energy = "" if cost.energy_uj is None else f", {cost.energy_uj:,.0f} uJ"
    return [
        f"inference    {cost.macs:,} MACs, {cost.latency_ms:,.1f} ms at {cost.clock_hz / 1e6:g} MHz{energy}"
        " (arena cost for the per-layer table)"
    ]


def render_plan_text(result: PlanResult, cost: CostEstimate | None = None) -> str:
    """A short human summary: head, bound, totals for a target, buffers, the peak op, cost."""
    model = result.model
    kinds = [origin.kind for origin in result.table.origins]
    peak = result.peak_step
    lines = [
        f"model        {model.display_name}: {model.operator_count} ops, {model.tensor_count} tensors,"
        f" {len(model.subgraphs)} subgraph{'s' if len(model.subgraphs) != 1 else ''}",
        *_target_lines(result),
        f"planner      {result.allocator} (kernels: {result.table.kernels})",
        f"arena head   {format_bytes(result.plan.peak_bytes)}",
        f"lower bound  {_gap_line(result)}",
        *_tflm_line(result),
        *_total_lines(result),
        f"buffers      {len(kinds)} planned: {kinds.count(BufferKind.TENSOR)} tensors,"
        f" {kinds.count(BufferKind.SCRATCH)} scratch",
        *_cost_lines(cost),
    ]
    if peak is not None:
        where = f"op {peak.op} {peak.op_name}" if peak.op is not None else f"entering subgraph {peak.subgraph}"
        lines.append(
            f"peak         step {peak.step} (subgraph {peak.subgraph}, {where}):"
            f" {format_bytes(result.plan.lower_bound_bytes)} live"
        )
    for violation in result.offline_overlaps:
        lines.append(f"note         offline plan (trusted by TFLM): {violation.message}")
    if not result.ok:
        broken = [v for v in result.validation.violations if v not in result.offline_overlaps]
        lines.append(f"INVALID PLAN {len(broken)} violations:")
        lines.extend(f"  {v.message}" for v in broken)
    return "\n".join(lines) + "\n"


def _short(name: str, width: int = 48) -> str:
    """Converter tensor names run to hundreds of characters; keep the informative tail."""
    return name if len(name) <= width else "..." + name[-(width - 3) :]


def render_buffer_table(result: PlanResult) -> str:
    """One row per planned buffer, in TFLM's order, with lifetime and offset."""
    header = (
        f"{'#':>4} {'kind':7} {'tensor':>6} {'op':>4} {'bytes':>9} {'aligned':>9}"
        f" {'first':>5} {'last':>5} {'offset':>9}  name"
    )
    lines = [header]
    for index, row in enumerate(buffer_rows(result)):
        tensor = "-" if row["tensor"] is None else str(row["tensor"])
        op = "-" if row["op"] is None else str(row["op"])
        fixed = "*" if row["fixed"] else " "
        lines.append(
            f"{index:>4} {row['kind']:7} {tensor:>6} {op:>4} {row['bytes']:>9,} {row['aligned_bytes']:>9,}"
            f" {row['first']:>5} {row['last']:>5} {row['offset']:>8,}{fixed}  {_short(row['name'])}"
        )
    if any(row["fixed"] for row in buffer_rows(result)):
        lines.append("* offset fixed by the model's OfflineMemoryAllocation metadata")
    return "\n".join(lines) + "\n"


def render_memory_map(result: PlanResult, width: int = 64) -> str:
    """A picture of the plan: one row per step, arena offsets left to right.

    Each planned buffer is drawn with the symbol of its index (0-9, a-z, A-Z, repeating), ``.``
    is free arena, so gaps and the peak step are visible at a glance. Built as one character grid
    with a slice per buffer, so it stays linear in buffers plus grid cells.
    """
    import numpy as np

    head = result.plan.peak_bytes
    problem = result.table.problem
    if head == 0 or not problem.buffers:
        return "(empty arena)\n"
    scale = head / width
    first_step = int(problem.firsts.min())
    steps = int(problem.lasts.max()) - first_step + 1
    grid = np.full((steps, width), ord("."), dtype=np.uint8)
    for index, (buffer, offset) in enumerate(zip(problem.buffers, result.plan.offsets, strict=True)):
        if not buffer.size:
            continue
        start = int(offset / scale)
        end = max(start + 1, int((offset + buffer.size) / scale + 0.999))
        grid[buffer.first - first_step : buffer.last - first_step + 1, start : min(end, width)] = ord(
            _MAP_SYMBOLS[index % len(_MAP_SYMBOLS)]
        )
    _, loads = problem.load_per_step()
    lines = [f"memory map: {width} columns = {format_bytes(head)}, 1 column = {scale:,.0f} B"]
    for row, live in enumerate(loads.tolist()):
        lines.append(f"{first_step + row:>5} |{grid[row].tobytes().decode('ascii')}| {live:>9,} B")
    return "\n".join(lines) + "\n"
