"""Arena's best plan beside TFLM's: what commands that describe the device show next to it.

Commands that describe the device with the unmodified model (check, validate, simulate) size
TFLM's own plan by default; the one default rule (``arena/cli/options.py``) asks them to show
what arena's best plan would need too, so a user sees what ``arena export`` would save.
"""

from __future__ import annotations

from arena.allocators import BEST_ALLOCATOR
from arena.plan.pipeline import PlanResult, plan_model


def best_beside(result: PlanResult, *, allow_unsupported: bool = False) -> PlanResult | None:
    """The same model, kernels and target planned with ``BEST_ALLOCATOR``; None if it already was."""
    if result.allocator == BEST_ALLOCATOR:
        return None
    return plan_model(
        result.model,
        allocator=BEST_ALLOCATOR,
        kernels=result.table.kernels,
        target=None if result.sizing is None else result.sizing.target,
        allow_unsupported=allow_unsupported or bool(result.table.warnings),
    )


def total_or_head(result: PlanResult) -> int:
    """The whole arena when sized for a target, else the head."""
    return result.plan.peak_bytes if result.sizing is None else result.sizing.total_bytes
