"""``arena plan``: the plan of a model's arena, sized for a target when one is named, with its cost.

The cost is shown only when the target has a calibrated cycle model, so ``arena plan`` never
fails for want of one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arena.allocators import BEST_ALLOCATOR
from arena.cost.estimate import CostEstimate
from arena.cost.on_target import cost_beside_plan
from arena.plan.pipeline import PlanResult, plan_model
from arena.targets import Target


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanReport:
    """A plan and, when the target has a cycle model, the cost of one inference beside it."""

    result: PlanResult
    cost: CostEstimate | None

    @property
    def ok(self) -> bool:
        """True when the plan passed the independent validator."""
        return self.result.ok


def plan_report(
    model: str | Path,
    *,
    allocator: str = BEST_ALLOCATOR,
    kernels: str | None = None,
    target: Target | None = None,
    allow_unsupported: bool = False,
    time_limit_seconds: float | None = None,
) -> PlanReport:
    """Plan ``model`` (for ``target`` when given) and cost it where the target allows."""
    result = plan_model(
        model,
        allocator=allocator,
        kernels=kernels,
        target=target,
        allow_unsupported=allow_unsupported,
        time_limit_seconds=time_limit_seconds,
    )
    return PlanReport(result=result, cost=cost_beside_plan(result.model, target, kernels))
