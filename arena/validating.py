"""``arena validate``: gather what a model needs on a target, then run the deployment checks.

Unsupported ops become a failed check rather than an error, so a CI log lists every problem
of a model at once; only unreadable input is an error (exit 2).
"""

from __future__ import annotations

from pathlib import Path

from arena.costing import estimate_on_target, has_cost_model
from arena.deployment import DeploymentFacts, Limits, ValidationResult, validate_deployment
from arena.kernels import resolve_kernels
from arena.model.reader import read_model
from arena.planning import plan_model
from arena.targets import Target


def validate_model(
    model: str | Path,
    target: Target,
    limits: Limits,
    *,
    allocator: str = "tflm",
    kernels: str | None = None,
) -> ValidationResult:
    """Plan, size and cost ``model`` on ``target`` and check it against ``limits``."""
    loaded = read_model(model)
    result = plan_model(loaded, allocator=allocator, kernels=kernels, target=target, allow_unsupported=True)
    sizing = result.sizing
    assert sizing is not None, "planned for a target, so sized"
    family = kernels or target.default_kernels
    cost = None
    cost_error = None
    if has_cost_model(target, family):
        cost = estimate_on_target(loaded, target, kernels=family)
    else:
        cost_error = f"no cycle model for {target.core} with {resolve_kernels(family, target.kernel_isa)} kernels"
    facts = DeploymentFacts(
        model=loaded,
        target=target.name,
        kernels=result.table.kernels,
        arena_bytes=sizing.total_bytes,
        tflm_arena_bytes=sizing.tflm_total_bytes,
        sram_bytes=target.sram_bytes,
        flash_bytes=target.flash_bytes,
        unsupported=result.table.warnings,
        cost=cost,
        cost_error=cost_error,
    )
    return validate_deployment(facts, limits)
