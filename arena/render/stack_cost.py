"""Text and JSON for a stack-aware cost estimate: per layer cycles, latency, energy; totals with a band.

Pure functions from :class:`arena.cost.estimate.CostEstimate` to strings (the caller prints).
Extends the ``arena cost --json`` document of :mod:`arena.render.cost` (schema 2: adds the stack,
the band, the power source and per-layer latency and energy; nothing of schema 1 changes meaning).

Instructions per layer are not shown: counting them needs the emulated run of issue 13
(``arena cost --measure``), not built yet; the JSON carries ``instructions: null`` to say so.
"""

from __future__ import annotations

import json
from typing import Any

from arena.cost.estimate import CostEstimate
from arena.render.cost import cost_document, format_number, rate_line
from arena.units import format_bytes

#: ``arena cost --json`` layout version written by this module.
STACK_COST_JSON_SCHEMA_VERSION = 2


def _layer_energy_uj(estimate: CostEstimate, cycles: int) -> float | None:
    if estimate.active_power_mw is None:
        return None
    return estimate.active_power_mw * cycles / estimate.clock_hz * 1000.0


def stack_cost_document(estimate: CostEstimate) -> dict[str, Any]:
    """The schema-2 ``arena cost --json`` document."""
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
    document["total"]["instructions"] = None
    for row, layer in zip(document["layers"], estimate.layers, strict=True):
        row["instructions"] = None
        row["latency_ms"] = layer.cycles / estimate.clock_hz * 1000.0
        row["energy_uj"] = _layer_energy_uj(estimate, layer.cycles)
    return document


def render_stack_cost_json(estimate: CostEstimate) -> str:
    """The schema-2 document as indented JSON text, ending in a newline."""
    return json.dumps(stack_cost_document(estimate), indent=2) + "\n"


def _layers(estimate: CostEstimate) -> list[str]:
    several = any(layer.subgraph_index for layer in estimate.layers)
    lines = [f"{'op':>6}  {'op_name':26} {'kind':15} {'MACs':>12} {'cycles':>13} {'ms':>9} {'uJ':>9} {'time':>6}"]
    for layer in estimate.layers:
        where = f"{layer.subgraph_index}:{layer.op_index}" if several else str(layer.op_index)
        energy = _layer_energy_uj(estimate, layer.cycles)
        lines.append(
            f"{where:>6}  {layer.op_name[:26]:26} {layer.kind:15} {layer.macs:>12,} {layer.cycles:>13,}"
            f" {layer.cycles / estimate.clock_hz * 1000.0:>9.4f} {'-' if energy is None else f'{energy:.4g}':>9}"
            f" {layer.time_share:>6.1%}"
        )
    energy_total = "-" if estimate.energy_uj is None else f"{estimate.energy_uj:.4g}"
    lines.append(
        f"{'':>6}  {'total':26} {'':15} {estimate.macs:>12,} {estimate.cycles:>13,} {estimate.latency_ms:>9.4f}"
        f" {energy_total:>9} {1:>6.1%}"
    )
    return lines


def render_stack_cost_text(estimate: CostEstimate) -> str:
    """Per-layer table, then model, stack, cycle model, latency and energy with their bands."""
    lines = _layers(estimate)
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
    lines.append("instructions not counted: needs the emulated run of issue 13 (no --measure yet); cycles from the fit")
    rate = rate_line(estimate)
    if rate is not None:
        lines.append(rate)
    lines += [f"warning      {warning}" for warning in estimate.warnings]
    return "\n".join(lines) + "\n"
