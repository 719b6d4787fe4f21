"""Renderers for ``arena simulate``: the simulation and the real-TFLM execution, as text and JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from arena import __version__
from arena.commands.simulate import SimulationReport
from arena.proofs.emulator.exported import OnTargetProof
from arena.proofs.simulator import Clobber, SimulationResult
from arena.proofs.tflm_run import ExecutionResult
from arena.render.refs import buffer_reference

#: Layout version of :func:`simulation_document`.
SIMULATION_SCHEMA_VERSION = 1


def _place(subgraph: int, op: int | None, op_name: str) -> str:
    return f"op {op} {op_name}" if op is not None else f"{op_name} subgraph {subgraph}"


def _clobber_document(result: SimulationResult, clobber: Clobber) -> dict[str, Any]:
    """A clobber with both buffers named in full (``victim``/``writer`` stay the buffer indices)."""
    return {
        **asdict(clobber),
        "byte_range": list(clobber.byte_range),
        "victim_buffer": buffer_reference(result.origins, clobber.victim),
        "writer_buffer": buffer_reference(result.origins, clobber.writer),
    }


def simulation_document(result: SimulationResult) -> dict[str, Any]:
    """A JSON-ready dict of the simulation (``arena simulate --json``)."""
    peak = result.timeline.peak
    return {
        "schema_version": SIMULATION_SCHEMA_VERSION,
        "tool": {"name": "arena", "version": __version__},
        "model": result.model,
        "allocator": result.allocator,
        "safe": result.ok,
        "head_bytes": result.head_bytes,
        "peak": None if peak is None else asdict(peak),
        "fragmentation_bytes": result.timeline.fragmentation_bytes,
        "writes": result.writes,
        "reads": result.reads,
        "clobbers": [_clobber_document(result, c) for c in result.clobbers],
        "notes": list(result.notes),
        "steps": [asdict(s) for s in result.timeline.steps],
    }


def render_simulation_json(result: SimulationResult) -> str:
    """:func:`simulation_document` as indented JSON text ending in a newline."""
    return json.dumps(simulation_document(result), indent=2) + "\n"


def render_simulation_text(result: SimulationResult) -> str:
    """A short verdict: head, peak, fragmentation, and every clobber."""
    timeline = result.timeline
    lines = [
        f"model         {result.model}",
        f"plan          {result.allocator}",
        f"arena head    {result.head_bytes:,} B",
        f"simulated     {result.writes} writes, {result.reads} checked reads",
    ]
    if timeline.peak is not None:
        peak = timeline.peak
        lines.append(
            f"peak          step {peak.step} ({_place(peak.subgraph, peak.op, peak.op_name)}):"
            f" {peak.live_bytes:,} B live, {timeline.fragmentation_bytes:,} B of the head free"
        )
    lines.extend(f"note          {note}" for note in result.notes)
    if result.ok:
        lines.append("verdict       SAFE: no live tensor is overwritten before its last reader")
    else:
        count = len(result.clobbers)
        lines.append(f"verdict       UNSAFE: {count} clobber{'s' if count != 1 else ''}")
        lines.extend(f"  {c.message}" for c in result.clobbers)
    return "\n".join(lines) + "\n"


def render_timeline_chart(result: SimulationResult, width: int = 40) -> str:
    """One bar per step: live bytes against the head, the peak step marked with ``<- peak``."""
    timeline = result.timeline
    scale = max(timeline.head_bytes, 1)
    lines = [f"live bytes per step ({width} columns = head {timeline.head_bytes:,} B)"]
    for load in timeline.steps:
        filled = round(load.live_bytes / scale * width)
        mark = "  <- peak" if load is timeline.peak else ""
        name = _place(load.subgraph, load.op, load.op_name)[:28]
        bar = "#" * filled + "." * (width - filled)
        lines.append(f"{load.step:>5} {name:<28} |{bar}| {load.live_bytes:>9,} B{mark}")
    return "\n".join(lines) + "\n"


def execution_document(result: ExecutionResult) -> dict[str, Any]:
    """A JSON-ready dict of the execution (the ``execution`` part of ``arena simulate --execute --json``)."""
    runs = (result.unmodified, result.planned, result.litert)
    return {
        "ok": result.ok,
        "outputs_identical": result.outputs_identical,
        "head_matches": result.head_matches,
        "plan_head_bytes": result.plan_head_bytes,
        "predicted_head_bytes": result.predicted_head_bytes,
        "tflm_head_bytes": result.planned.head_bytes,
        "arena_size_bytes": result.arena_size_bytes,
        "scratch_moves": [asdict(m) for m in result.scratch_moves],
        "runs": [{k: v for k, v in asdict(r).items() if k != "outputs"} for r in runs],
        "outputs": [asdict(o) for o in result.outputs],
    }


def render_execution_text(result: ExecutionResult) -> str:
    """What TFLM did with the embedded plan, and how the outputs compare."""
    planned = result.planned
    lines = [
        f"tflm run      planned model in a {result.arena_size_bytes:,} B arena:"
        + (
            f" head {planned.head_bytes:,} B (plan {result.plan_head_bytes:,} B), tail {planned.tail_bytes:,} B"
            if planned.ok and planned.head_bytes is not None
            else f" FAILED: {planned.error}"
        )
    ]
    lines.extend(
        f"scratch       {m.name} placed by TFLM at {m.tflm_offset:,}, plan says {m.planned_offset:,}"
        for m in result.scratch_moves
    )
    for run in (result.unmodified, result.litert):
        if not run.ok:
            lines.append(f"reference     {run.runtime} on the {run.model} model FAILED: {run.error}")
    compared = result.unmodified.ok and planned.ok
    for check in result.outputs:
        same = ("identical" if check.identical else "DIFFERENT") if compared else "not compared"
        diff = "n/a" if check.litert_max_abs_diff is None else f"{check.litert_max_abs_diff:g}"
        lines.append(
            f"output {check.index:<6} {check.dtype} '{check.name}': {same} to unmodified TFLM;"
            f" LiteRT max abs diff {diff}"
        )
    verdict = "PASS" if result.ok else "FAIL"
    lines.append(
        f"execution     {verdict}: outputs {'identical' if result.outputs_identical else 'differ'},"
        f" head {'matches' if result.head_matches else 'differs from'} the plan"
    )
    return "\n".join(lines) + "\n"


def on_target_document(proof: OnTargetProof) -> dict[str, Any]:
    """A JSON-ready dict of the exported files run on the emulated core (``on_target``)."""
    exported = proof.exported
    return {
        "ok": proof.ok,
        "core": proof.core,
        "machine": proof.machine,
        "kernels": proof.kernels,
        "arena_size_macro": proof.arena_size_macro,
        "arena_size_bytes": proof.arena_size_bytes,
        "allocated": exported is not None,
        "error": proof.error,
        "outputs_identical": proof.outputs_identical,
        "planned_tensors": proof.planned_tensors,
        "mismatched_offsets": [asdict(m) for m in proof.mismatched_offsets],
        "exported_minimum_arena_bytes": None if exported is None else exported.minimum_arena_bytes,
        "exported_head_bytes": None if exported is None else exported.head_bytes,
        "exported_tail_bytes": None if exported is None else exported.tail_bytes,
        "unmodified_head_bytes": proof.reference.head_bytes,
        "unmodified_minimum_arena_bytes": proof.reference.minimum_arena_bytes,
        "exported_invoke_instructions": None if exported is None else exported.invoke_instructions,
        "unmodified_invoke_instructions": proof.reference.invoke_instructions,
    }


def render_on_target_text(proof: OnTargetProof) -> str:
    """The exported firmware files on the emulated core, against the unmodified model there."""
    exported = proof.exported
    where = f"{proof.core} ({proof.machine}, {proof.kernels} kernels)"
    if exported is None:
        lines = [f"on target     exported files on {where} FAILED: {proof.error}"]
    else:
        lines = [
            f"on target     exported header + arena source + model array on {where}:",
            f"              allocates in {proof.arena_size_macro} = {proof.arena_size_bytes:,} B"
            f" (smallest it accepts: {exported.minimum_arena_bytes:,} B; unmodified model:"
            f" {proof.reference.minimum_arena_bytes:,} B)",
            f"              {proof.planned_tensors - len(proof.mismatched_offsets)} of {proof.planned_tensors}"
            " planned tensors where the header's offset table says",
            f"              outputs {'identical' if proof.outputs_identical else 'DIFFERENT'} to the unmodified"
            f" model on the same core ({exported.invoke_instructions:,} vs"
            f" {proof.reference.invoke_instructions:,} instructions)",
        ]
        lines.extend(
            f"offset        tensor {m.tensor}: plan {m.planned}, TFLM {m.measured}"
            for m in proof.mismatched_offsets[:10]
        )
    lines.append(f"on target     {'PASS' if proof.ok else 'FAIL'}")
    return "\n".join(lines) + "\n"


def render_report_text(report: SimulationReport, *, chart: bool = True) -> str:
    """Summary, optional timeline chart, then the execution comparison."""
    parts = [render_simulation_text(report.simulation)]
    if report.best_head_bytes is not None:
        saved = report.simulation.head_bytes - report.best_head_bytes
        parts[0] += (
            f"arena's best  {report.best_head_bytes:,} B head with {report.best_allocator}"
            + (f" ({saved:,} B less; simulate it with --allocator {report.best_allocator})" if saved > 0 else "")
            + "\n"
        )
    if chart:
        parts.append(render_timeline_chart(report.simulation))
    if report.execution is not None:
        parts.append(render_execution_text(report.execution))
    if report.on_target is not None:
        parts.append(render_on_target_text(report.on_target))
    return "\n".join(parts)


def render_report_json(report: SimulationReport) -> str:
    """One JSON document: the simulation, with ``execution`` when executed."""
    document = simulation_document(report.simulation)
    if report.execution is not None:
        document["execution"] = execution_document(report.execution)
    if report.on_target is not None:
        document["on_target"] = on_target_document(report.on_target)
    document["best"] = (
        None
        if report.best_head_bytes is None
        else {"allocator": report.best_allocator, "head_bytes": report.best_head_bytes}
    )
    document["ok"] = report.ok
    return json.dumps(document, indent=2) + "\n"
