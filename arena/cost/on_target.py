"""Cost of one inference on a catalog target: the glue between targets and the cost model.

Looks the target's core, clock, stack and power figures up and hands them to
:mod:`arena.cost.stack_estimate`; ``arena plan``, ``validate`` and ``sweep`` only render the result.
:func:`instructions_on_target` does the same for the emulated instruction counts
(:mod:`arena.cost.instructions`).
"""

from __future__ import annotations

import dataclasses

from arena.cost.estimate import CostEstimate
from arena.cost.instructions import (
    InstructionEstimate,
    load_fit_for_isa,
    load_instruction_model,
    no_fit_reason,
    predict_instructions,
)
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


def instructions_on_target(
    model: Model, target: Target, kernels: str | None = None
) -> tuple[InstructionEstimate | None, str | None]:
    """Predicted instructions per op on the target's core and kernels, or None and why not.

    A fit applies when it was measured on the target's core with the target's kernel family and
    the same CMSIS-NN code paths (``isa``): a Cortex-M4 fit does not describe a Cortex-M33.

    Raises
    ------
    ArenaError
        When an op's shapes do not fit its MAC counting rule.
    """
    family = kernels or target.default_kernels
    fitted = load_instruction_model(target.core, family)
    if fitted is None and family == "cmsis-nn":
        borrowed = load_fit_for_isa(family, target.kernel_isa)
        if borrowed is not None:  # a core QEMU lacks (Cortex-M85): the same CMSIS-NN code, counted elsewhere
            estimate = predict_instructions(model, borrowed)
            note = f"; stands in for {target.core}, which runs the same {target.kernel_isa} CMSIS-NN code"
            return dataclasses.replace(estimate, basis=estimate.basis + note), None
    if fitted is None:
        return None, no_fit_reason(target.core, family)
    if family == "cmsis-nn" and fitted.isa != target.kernel_isa:
        return None, (
            f"no instruction fit for {target.core} with the {target.kernel_isa} CMSIS-NN code paths"
            f" (fitted with {fitted.isa})"
        )
    return predict_instructions(model, fitted), None
