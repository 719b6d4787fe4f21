"""``arena report MODEL``: everything the HTML report draws, as one record (rendering is elsewhere).

The report shows arena's plan beside TFLM's own for the same buffers, so both offset lists are
carried; live bytes per op step are the lower bound's ingredients (no plan can beat their max).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arena.allocators import BEST_ALLOCATOR, get_allocator
from arena.cost.estimate import CostEstimate
from arena.cost.on_target import cost_beside_plan
from arena.plan.pipeline import PlanResult, plan_model
from arena.targets import Target


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportData:
    """A plan, TFLM's offsets for the same problem, live bytes per step, budgets and the cost."""

    result: PlanResult
    tflm_offsets: tuple[int, ...]
    first_step: int
    live_bytes: tuple[int, ...]
    budgets: tuple[tuple[str, int], ...]
    cost: CostEstimate | None


def build_report(
    result: PlanResult, cost: CostEstimate | None, budgets: tuple[tuple[str, int], ...] = ()
) -> ReportData:
    """The report record of a plan already made (``--report`` on plan and check)."""
    problem = result.table.problem
    tflm = result.plan.offsets if result.allocator == "tflm" else get_allocator("tflm")(problem).offsets
    first, loads = problem.load_per_step()
    lines = list(budgets)
    if result.sizing is not None and result.sizing.target.sram_bytes is not None:
        lines.append((f"{result.sizing.target.name} SRAM", result.sizing.target.sram_bytes))
    return ReportData(
        result=result,
        tflm_offsets=tuple(tflm),
        first_step=first,
        live_bytes=tuple(int(x) for x in loads),
        budgets=tuple(lines),
        cost=cost,
    )


def report_model(
    model: str | Path,
    *,
    target: Target | None = None,
    kernels: str | None = None,
    allocator: str = BEST_ALLOCATOR,
    budgets: tuple[int, ...] = (),
) -> ReportData:
    """Plan ``model`` (sized and costed for ``target`` when given) and gather the report."""
    result = plan_model(model, allocator=allocator, kernels=kernels, target=target, allow_unsupported=True)
    cost = cost_beside_plan(result.model, target, kernels)
    return build_report(result, cost, tuple((f"budget {i + 1}", b) for i, b in enumerate(budgets)))
