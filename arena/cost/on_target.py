"""Cost of one inference on a catalog target: the glue between targets and the cost model.

Looks the target's core, clock, stack and power figures up and hands them to
:mod:`arena.cost.stack_estimate`; ``arena plan``, ``validate`` and ``sweep`` only render the result.
"""

from __future__ import annotations

from arena.cost.estimate import CostEstimate
from arena.cost.stack_estimate import estimate_for_target, has_stack_model
from arena.model.records import Model
from arena.targets import Target


def has_cost_model(target: Target, kernels: str | None = None) -> bool:
    """True when the target has a clock and its core a cost model (every catalog Cortex-M core does)."""
    return has_stack_model(target)


def estimate_on_target(
    model: Model,
    target: Target,
    *,
    kernels: str | None = None,
    rate_hz: float | None = None,
    stack: str | None = None,
) -> CostEstimate:
    """Estimate one inference of ``model`` on ``target`` (see :mod:`arena.cost.stack_estimate`).

    Raises
    ------
    ArenaError
        For a target without a clock, a core without a cost model, or an unknown stack.
    """
    return estimate_for_target(model, target, stack=stack, kernels=kernels, rate_hz=rate_hz)


def cost_beside_plan(model: Model, target: Target | None, kernels: str | None = None) -> CostEstimate | None:
    """The inference cost to show next to a plan, when the target has a cost model."""
    if target is None or not has_cost_model(target, kernels):
        return None
    return estimate_on_target(model, target, kernels=kernels)
