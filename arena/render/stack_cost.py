"""Text and JSON for a stack-aware cost estimate: per layer cycles, latency, energy; totals with a band.

Pure functions from :class:`arena.commands.cost.CostReport` (the estimate and its instruction counts)
to strings (the caller prints).
Extends the ``arena cost --json`` document of :mod:`arena.render.cost` (schema 2: adds the stack,
the band, the power source and per-layer latency and energy; nothing of schema 1 changes meaning).

Instructions per layer come from the :class:`arena.commands.cost.CostReport` beside the estimate:
predicted by the per-kernel fit where one covers the target's core and kernels (else ``null`` and
a one-line reason), and measured on the emulated core with ``arena cost --measure``. They are
instruction counts of TFLM on an emulated core, never cycles, and are labelled so.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from arena.commands.cost import CostReport
from arena.cost.estimate import CostEstimate
from arena.render.cost import cost_document, format_number, rate_line
from arena.units import format_bytes

#: ``arena cost --json`` layout version written by this module.
STACK_COST_JSON_SCHEMA_VERSION = 2


def _layer_energy_uj(estimate: CostEstimate, cycles: int) -> float | None:
    if estimate.active_power_mw is None:
        return None
    return estimate.active_power_mw * cycles / estimate.clock_hz * 1000.0


def _instructions_section(report: CostReport) -> dict[str, Any]:
    predicted, measured = report.instructions, report.measured
    return {
        "what": predicted.basis if predicted is not None else None,
        "predicted": predicted.instructions if predicted is not None else None,
        "reason": report.instructions_reason,
        "pooled_ops": [
            {"subgraph": op.subgraph_index, "op": op.op_index, "op_name": op.op_name, "key": op.key}
            for op in (predicted.pooled_ops if predicted is not None else ())
        ],
        "measured": None
        if measured is None
        else {
            "emulator": f"qemu-system-arm -M {measured.machine} -icount shift=0",
            "kernels": measured.kernels,
            "op_instructions": measured.op_instructions,
            "invoke_instructions": measured.invoke_instructions,
            "ops": [{"op": tag, "instructions": count} for tag, count in measured.ops],
            "lined_up": measured.lined_up,
            "library_cached": measured.library_cached,
            "build_seconds": measured.build_seconds,
        },
    }


def stack_cost_document(report: CostReport) -> dict[str, Any]:
    """The schema-2 ``arena cost --json`` document."""
    estimate = report.estimate
    document = cost_document(estimate)
    document["schema_version"] = STACK_COST_JSON_SCHEMA_VERSION
    latency_band = estimate.latency_band_ms
    energy_band = estimate.energy_band_uj
    document["stack"] = {
        "id": estimate.stack,
        "name": estimate.stack_name,
        "measured_versions": list(estimate.stack_versions),
    }
    document["band"] = {
        "ratio": estimate.band,
        "source": estimate.band_source,
        "latency_ms": list(latency_band) if latency_band else None,
        "energy_uj": list(energy_band) if energy_band else None,
    }
    document["power"] = {
        "active_mw": estimate.active_power_mw,
        "low_mw": estimate.power_low_mw,
        "high_mw": estimate.power_high_mw,
        "source": estimate.power_source,
    }
    predicted = report.instructions
    measured = report.measured
    document["instructions"] = _instructions_section(report)
    document["total"]["instructions"] = predicted.instructions if predicted is not None else None
    if measured is not None:
        document["total"]["measured_instructions"] = measured.op_instructions
    for index, (row, layer) in enumerate(zip(document["layers"], estimate.layers, strict=True)):
        op = predicted.ops[index] if predicted is not None else None
        row["instructions"] = op.instructions if op is not None else None
        row["instructions_key"] = op.key if op is not None else None
        if measured is not None:
            row["measured_instructions"] = measured.per_layer[index]
        row["latency_ms"] = layer.cycles / estimate.clock_hz * 1000.0
        row["energy_uj"] = _layer_energy_uj(estimate, layer.cycles)
    return document


def render_stack_cost_json(report: CostReport) -> str:
    """The schema-2 document as indented JSON text, ending in a newline."""
    return json.dumps(stack_cost_document(report), indent=2) + "\n"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _layers(report: CostReport) -> list[str]:
    estimate, predicted, measured = report.estimate, report.instructions, report.measured
    several = any(layer.subgraph_index for layer in estimate.layers)
    extra = (f" {'instr':>12}" if predicted is not None else "") + (f" {'measured':>12}" if measured else "")
    lines = [
        f"{'op':>6}  {'op_name':26} {'kind':15} {'MACs':>12} {'cycles':>13} {'ms':>9} {'uJ':>9} {'time':>6}{extra}"
    ]
    for index, layer in enumerate(estimate.layers):
        where = f"{layer.subgraph_index}:{layer.op_index}" if several else str(layer.op_index)
        energy = _layer_energy_uj(estimate, layer.cycles)
        columns = f" {predicted.ops[index].instructions:>12,}" if predicted is not None else ""
        columns += f" {_count(measured.per_layer[index]):>12}" if measured is not None else ""
        lines.append(
            f"{where:>6}  {layer.op_name[:26]:26} {layer.kind:15} {layer.macs:>12,} {layer.cycles:>13,}"
            f" {layer.cycles / estimate.clock_hz * 1000.0:>9.4f} {'-' if energy is None else f'{energy:.4g}':>9}"
            f" {layer.time_share:>6.1%}{columns}"
        )
    energy_total = "-" if estimate.energy_uj is None else f"{estimate.energy_uj:.4g}"
    totals = f" {predicted.instructions:>12,}" if predicted is not None else ""
    totals += f" {measured.op_instructions:>12,}" if measured is not None else ""
    lines.append(
        f"{'':>6}  {'total':26} {'':15} {estimate.macs:>12,} {estimate.cycles:>13,} {estimate.latency_ms:>9.4f}"
        f" {energy_total:>9} {1:>6.1%}{totals}"
    )
    return lines


def _instruction_lines(report: CostReport) -> list[str]:
    """What the instruction columns are, or why there are none (one line), and the measured run."""
    predicted, measured = report.instructions, report.measured
    lines = []
    if predicted is None:
        lines.append(f"instructions not predicted: {report.instructions_reason}")
    else:
        lines.append(f"instructions {predicted.instructions:,} predicted per op (instr): {predicted.basis}")
        pooled = Counter(op.op_name for op in predicted.pooled_ops)
        if pooled:
            names = ", ".join(f"{name} x{n}" if n > 1 else name for name, n in sorted(pooled.items()))
            lines.append(f"  pooled     {names}: too few measured rows of their kind; predicted by a pooled model")
        if report.estimate.stack is not None and not report.estimate.stack.startswith("tflm"):
            lines.append(f"  note       instruction counts are TFLM's, not those of {report.estimate.stack_name}")
    if measured is not None:
        versus = ""
        if predicted is not None and measured.op_instructions:
            versus = f"; predicted {predicted.instructions / measured.op_instructions - 1:+.1%}"
        lines.append(
            f"  measured   {measured.op_instructions:,} in the ops, {measured.invoke_instructions:,} in Invoke"
            f" (TFLM with {measured.kernels} kernels on qemu-system-arm -M {measured.machine} -icount shift=0;"
            f" not cycles{versus})"
        )
        if not measured.lined_up:
            lines.append(
                f"  measured   {len(measured.ops)} invoked ops do not line up with the model's"
                f" {len(report.estimate.layers)}: per-layer counts left out (the JSON lists them in order)"
            )
    return lines


def render_stack_cost_text(report: CostReport) -> str:
    """Per-layer table, then model, stack, cycle model, latency and energy with their bands."""
    estimate = report.estimate
    lines = _layers(report)
    latency_band = estimate.latency_band_ms
    energy_band = estimate.energy_band_uj
    best = estimate.inferences_per_second
    lines += [
        "",
        f"model        {estimate.model_name}: {len(estimate.layers)} ops, {estimate.macs:,} MACs,"
        f" {estimate.parameters:,} parameters",
        f"flash        {format_bytes(estimate.model_bytes)} model file,"
        f" {format_bytes(estimate.constant_bytes)} of constants",
        f"stack        {estimate.stack_name or estimate.kernels} on {estimate.core}",
    ]
    lines += [f"  measured   {version}" for version in estimate.stack_versions]
    lines += [
        f"cycle model  {estimate.cycle_model_status}: {estimate.cycle_model_basis}",
        f"latency      {format_number(estimate.latency_ms)} ms at {format_number(estimate.clock_hz / 1e6)} MHz"
        f" ({estimate.cycles:,} cycles)" + ("" if best is None else f": at most {format_number(best)} inferences/s"),
    ]
    if latency_band is not None:
        lines.append(
            f"  band       {format_number(latency_band[0])}-{format_number(latency_band[1])} ms"
            f" (x/{estimate.band:.2f}: {estimate.band_source})"
        )
    if estimate.energy_uj is None:
        lines.append("energy       unknown (no active power figure for this target)")
    else:
        lines.append(
            f"energy       {format_number(estimate.energy_uj)} uJ per inference"
            f" at {format_number(estimate.active_power_mw or 0.0)} mW"
        )
        if energy_band is not None:
            lines.append(
                f"  band       {format_number(energy_band[0])}-{format_number(energy_band[1])} uJ"
                " (latency band x power range)"
            )
        if estimate.power_source:
            lines.append(f"  power      {estimate.power_source}")
    lines += _instruction_lines(report)
    rate = rate_line(estimate)
    if rate is not None:
        lines.append(rate)
    lines += [f"warning      {warning}" for warning in estimate.warnings]
    return "\n".join(lines) + "\n"
