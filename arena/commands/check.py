"""``arena check``: does the arena (and the model) fit the memory the firmware has?

A pure comparison of the sizes a plan needs on a target with the budgets the user gives: one
line per budget, the target's SRAM and flash, and a verdict on the active budget for CI.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from arena.commands.beside import best_beside
from arena.plan.pipeline import PlanResult, plan_model
from arena.targets import Target
from arena.units import format_bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetLine:
    """One comparison: ``required`` bytes against ``available``; ``active`` decides the verdict."""

    name: str
    required_bytes: int
    available_bytes: int
    active: bool

    @property
    def excess_bytes(self) -> int:
        """Bytes over the limit (0 when it fits)."""
        return max(self.required_bytes - self.available_bytes, 0)

    @property
    def fits(self) -> bool:
        """True when the requirement is within the limit."""
        return self.required_bytes <= self.available_bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetReport:
    """All comparisons for one model on one target."""

    model: str
    target: str
    lines: tuple[BudgetLine, ...]
    #: Arena's best plan for the same model and target, when the checked plan is another one.
    best: PlanResult | None = None

    @property
    def ok(self) -> bool:
        """True when every active line fits (the active budget, and flash when known)."""
        return all(line.fits for line in self.lines if line.active)


def check_budgets(result: PlanResult, budgets: list[int], active_budget: int | None = None) -> BudgetReport:
    """Compare the plan's total arena with each budget, and the model with the target's flash.

    The active budget is ``active_budget`` when given, else the first budget, else the target's
    SRAM. Flash is always active when the target has a figure.
    """
    sizing = result.sizing
    assert sizing is not None, "check_budgets needs a plan made for a target"
    active = active_budget if active_budget is not None else (budgets[0] if budgets else None)
    lines = [
        BudgetLine(
            name=f"budget {format_bytes(b)}", required_bytes=sizing.total_bytes, available_bytes=b, active=b == active
        )
        for b in dict.fromkeys([*budgets, *([] if active_budget is None else [active_budget])])
    ]
    target = sizing.target
    if target.sram_bytes is not None:
        lines.append(
            BudgetLine(
                name="target SRAM",
                required_bytes=sizing.total_bytes,
                available_bytes=target.sram_bytes,
                active=active is None,
            )
        )
    if target.flash_bytes is not None:
        lines.append(
            BudgetLine(
                name="target flash (model)",
                required_bytes=result.model.size_bytes,
                available_bytes=target.flash_bytes,
                active=True,
            )
        )
    return BudgetReport(model=result.model.display_name, target=target.name, lines=tuple(lines))


def check_model(
    model: str | Path,
    *,
    target: Target,
    budgets: list[int],
    active_budget: int | None = None,
    allocator: str,
    kernels: str | None = None,
) -> tuple[BudgetReport, PlanResult]:
    """Plan ``model`` for ``target`` with ``allocator`` and compare its arena with the budgets."""
    result = plan_model(model, allocator=allocator, kernels=kernels, target=target)
    report = check_budgets(result, budgets, active_budget)
    return replace(report, best=best_beside(result)), result
