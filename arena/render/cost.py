"""Renderers from a cost estimate to what people and machines read: a text table, JSON.

Pure functions returning strings; the caller decides where they go.
"""

from __future__ import annotations

import json
from typing import Any

from arena import __version__
from arena.cost.estimate import CostEstimate
from arena.units import format_bytes

#: Version of the ``arena cost --json`` layout; bumped when a field changes meaning or disappears.
COST_JSON_SCHEMA_VERSION = 1


def _layer_rows(estimate: CostEstimate) -> list[dict[str, Any]]:
    return [
        {
            "subgraph": layer.subgraph_index,
            "op": layer.op_index,
            "op_name": layer.op_name,
            "kind": str(layer.kind),
            "macs": layer.macs,
            "elements": layer.elements,
            "cycles": layer.cycles,
            "time_share": layer.time_share,
        }
        for layer in estimate.layers
    ]


def cost_document(estimate: CostEstimate) -> dict[str, Any]:
    """The ``arena cost --json`` document: target, cycle model, totals and one row per layer.

    Quantities carry their unit in the key (``latency_ms``, ``energy_uj``, ``average_power_mw``);
    unknown figures are null.
    """
    return {
        "schema_version": COST_JSON_SCHEMA_VERSION,
        "tool": {"name": "arena", "version": __version__},
        "model": estimate.model_name,
        "target": {
            "core": estimate.core,
            "kernels": estimate.kernels,
            "clock_hz": estimate.clock_hz,
            "active_power_mw": estimate.active_power_mw,
            "sleep_power_uw": estimate.sleep_power_uw,
        },
        "cycle_model": {
            "name": f"{estimate.core}/{estimate.kernels}",
            "status": str(estimate.cycle_model_status),
            "basis": estimate.cycle_model_basis,
        },
        "rate_hz": estimate.rate_hz,
        "ok": estimate.ok,
        "total": {
            "macs": estimate.macs,
            "elements": estimate.elements,
            "parameters": estimate.parameters,
            "constant_bytes": estimate.constant_bytes,
            "model_bytes": estimate.model_bytes,
            "cycles": estimate.cycles,
            "latency_ms": estimate.latency_ms,
            "inferences_per_second": estimate.inferences_per_second,
            "energy_uj": estimate.energy_uj,
            "duty_cycle": estimate.duty_cycle,
            "average_power_mw": estimate.average_power_mw,
        },
        "warnings": list(estimate.warnings),
        "layers": _layer_rows(estimate),
    }


def render_cost_json(estimate: CostEstimate) -> str:
    """The cost document as indented JSON text, ending in a newline."""
    return json.dumps(cost_document(estimate), indent=2) + "\n"


def format_number(value: float) -> str:
    """Four significant digits, with thousands separators from 1,000 on."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _layer_table(estimate: CostEstimate) -> list[str]:
    several = any(layer.subgraph_index for layer in estimate.layers)
    lines = [f"{'op':>6}  {'op_name':28} {'kind':15} {'MACs':>13} {'cycles':>14} {'time':>7}"]
    for layer in estimate.layers:
        where = f"{layer.subgraph_index}:{layer.op_index}" if several else str(layer.op_index)
        lines.append(
            f"{where:>6}  {layer.op_name[:28]:28} {layer.kind:15} {layer.macs:>13,} {layer.cycles:>14,}"
            f" {layer.time_share:>7.1%}"
        )
    lines.append(f"{'':>6}  {'total':28} {'':15} {estimate.macs:>13,} {estimate.cycles:>14,} {1:>7.1%}")
    return lines


def rate_line(estimate: CostEstimate) -> str | None:
    """The duty-cycle line for ``--rate``: out of reach, busy share, average power (None without a rate)."""
    if estimate.rate_hz is None:
        return None
    label = f"at {format_number(estimate.rate_hz)}/s"
    duty = estimate.duty_cycle or 0.0
    if not estimate.ok:
        return (
            f"{label:13}out of reach: {format_number(estimate.rate_hz)} inferences would take {duty:.2f} s per second"
        )
    if estimate.average_power_mw is None:
        return f"{label:13}busy {duty:.1%} of the time; average power unknown (no active power)"
    sleep = (
        "sleep not counted"
        if estimate.sleep_power_uw is None
        else f"{format_number(estimate.sleep_power_uw)} uW asleep"
    )
    return f"{label:13}average {format_number(estimate.average_power_mw)} mW: busy {duty:.1%} of the time, {sleep}"


def render_cost_text(estimate: CostEstimate) -> str:
    """Per-layer table (op, MACs, cycles, share of time), then totals and any warnings."""
    lines = _layer_table(estimate)
    best = estimate.inferences_per_second
    lines += [
        "",
        f"model        {estimate.model_name}: {len(estimate.layers)} ops, {estimate.macs:,} MACs,"
        f" {estimate.parameters:,} parameters",
        f"flash        {format_bytes(estimate.model_bytes)} model file,"
        f" {format_bytes(estimate.constant_bytes)} of constants",
        f"cycle model  {estimate.core}/{estimate.kernels} ({estimate.cycle_model_status}:"
        f" {estimate.cycle_model_basis})",
        f"latency      {format_number(estimate.latency_ms)} ms at {format_number(estimate.clock_hz / 1e6)} MHz"
        f" ({estimate.cycles:,} cycles)" + ("" if best is None else f": at most {format_number(best)} inferences/s"),
    ]
    if estimate.energy_uj is None:
        lines.append("energy       unknown (no active power figure for this target)")
    else:
        power_mw = estimate.active_power_mw or 0.0
        lines.append(
            f"energy       {format_number(estimate.energy_uj)} uJ per inference at {format_number(power_mw)} mW"
        )
    rate = rate_line(estimate)
    if rate is not None:
        lines.append(rate)
    lines += [f"warning      {warning}" for warning in estimate.warnings]
    return "\n".join(lines) + "\n"
