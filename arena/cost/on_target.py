"""Cost of one inference on a catalog target: the glue between targets and the cost model.

Looks the target's core, clock and power figures up and hands them to
:func:`arena.cost.estimate.estimate_cost`; the CLI and ``arena plan`` only render the result.
"""

from __future__ import annotations

from arena.cost.cycles import cycle_models
from arena.cost.estimate import CostEstimate, estimate_cost
from arena.errors import ArenaError
from arena.model.records import Model
from arena.targets import Target


def has_cost_model(target: Target, kernels: str | None = None) -> bool:
    """True when the cost model has coefficients for the target's core and kernel family."""
    family = kernels or target.default_kernels
    return target.clock_hz is not None and any(m.core == target.core and m.kernels == family for m in cycle_models())


def estimate_on_target(
    model: Model, target: Target, *, kernels: str | None = None, rate_hz: float | None = None
) -> CostEstimate:
    """Estimate one inference of ``model`` on ``target`` with a kernel family (default: target's).

    Raises
    ------
    ArenaError
        For a target without a clock, or a core and kernel family with no cycle model.
    """
    if target.clock_hz is None:
        raise ArenaError(f"target {target.name!r} has no clock in the catalog; give --clock-mhz")
    return estimate_cost(
        model,
        core=target.core,
        kernels=kernels or target.default_kernels,
        clock_hz=target.clock_hz,
        active_power_mw=target.active_power_mw,
        sleep_power_uw=target.sleep_power_uw,
        rate_hz=rate_hz,
    )


def cost_beside_plan(model: Model, target: Target | None, kernels: str | None = None) -> CostEstimate | None:
    """The inference cost to show next to a plan, when the target has a calibrated cycle model."""
    if target is None or not has_cost_model(target, kernels):
        return None
    return estimate_on_target(model, target, kernels=kernels)
