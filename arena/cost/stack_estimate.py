"""Cost of one inference on a catalog target with a software stack: cycles, latency, energy, band.

Chooses the stack (``--stack``, else TFLM + CMSIS-NN on cores whose catalog kernels are CMSIS-NN
and TFLM + reference kernels otherwise), builds its cycle model for the target's core and board
(:mod:`arena.cost.stackmodel`), and costs the model's layers with it
(:func:`arena.cost.estimate.cost_from_counts`). Energy = latency x the board's active power,
measured where MLPerf Tiny measured the board, else the catalog's figure, else the core default.
"""

from __future__ import annotations

import dataclasses

from arena.cost.estimate import CostEstimate, cost_from_counts
from arena.cost.macs import count_model
from arena.cost.mlperf import CATALOG_BOARDS
from arena.cost.stackmodel import DEFAULT_STACK, REFERENCE_STACK, active_power, calibration, stack_ids, stack_model
from arena.errors import ArenaError
from arena.model.records import Model
from arena.targets import Target


def default_stack(target: Target, kernels: str | None = None) -> str:
    """The stack a target runs unless told otherwise: its kernel library under TFLM."""
    family = kernels or target.default_kernels
    return DEFAULT_STACK if family == "cmsis-nn" else REFERENCE_STACK


def has_stack_model(target: Target) -> bool:
    """True when the target has a clock and its core a factor in the calibration."""
    return target.clock_hz is not None and target.core in calibration()["cores"]


def estimate_for_target(
    model: Model,
    target: Target,
    *,
    stack: str | None = None,
    kernels: str | None = None,
    rate_hz: float | None = None,
) -> CostEstimate:
    """Estimate one inference of ``model`` on ``target`` with ``stack`` (default: see module docstring).

    Raises
    ------
    ArenaError
        For a target without a clock, a core without a cost model, or an unknown stack.
    """
    if target.clock_hz is None:
        raise ArenaError(f"target {target.name!r} has no clock in the catalog; give --clock-mhz")
    chosen = stack or default_stack(target, kernels)
    if chosen not in stack_ids():
        raise ArenaError(f"unknown stack {chosen!r}; available: {', '.join(stack_ids())}")
    board = CATALOG_BOARDS.get(target.name)
    built = stack_model(chosen, target.core, board=board, dsp=target.dsp or target.mve)
    power = active_power(
        chosen,
        target.core,
        board=board,
        catalog_mw=target.active_power_mw,
        catalog_source=target.power_source,
    )
    estimate = cost_from_counts(
        count_model(model),
        built.cycle_model,
        clock_hz=target.clock_hz,
        active_power_mw=power.power_mw,
        sleep_power_uw=target.sleep_power_uw,
        rate_hz=rate_hz,
        subgraph_count=len(model.subgraphs),
    )
    warnings = list(built.warnings)
    if "clock_hz" in target.overridden and board is not None:
        warnings.append(
            f"clock set to {target.clock_hz / 1e6:g} MHz: the board factor and power were measured at the"
            " catalog clock; latency scales linearly, flash wait states are not re-modelled"
        )
    return dataclasses.replace(
        estimate,
        warnings=(*estimate.warnings, *warnings),
        stack=chosen,
        stack_name=built.stack_name,
        stack_versions=built.versions,
        band=built.band,
        band_source=built.band_source,
        power_low_mw=power.low_mw,
        power_high_mw=power.high_mw,
        power_source=power.source,
    )
