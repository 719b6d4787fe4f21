"""One call from a model file to a checked plan: the pipeline every command starts with.

model -> lifetimes -> problem -> plan, then the independent validator. The CLI calls this and
renders the result; it holds no planning logic of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arena.allocators import DEVICE_ALLOCATOR, get_allocator, run_allocator
from arena.allocators.problem import Plan
from arena.allocators.validate import ValidationReport, Violation, ViolationKind, validate_plan
from arena.kernels import DEFAULT_KERNELS, resolve_kernels
from arena.lifetimes import LifetimeTable, StepOrigin, derive_lifetimes
from arena.model.reader import read_model
from arena.model.records import Model
from arena.plan.sizing import ArenaSizing, size_arena
from arena.targets import Target


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanResult:
    """A model, the problem TFLM would solve for it, a plan, and the plan's validation.

    ``tflm_head_bytes`` is what TFLM's own greedy planner needs for the same buffers, kept so
    every report can show what a better plan saves against the device's default. ``sizing``
    holds the tail and minimum arena when the plan was made for a target.
    """

    model: Model
    table: LifetimeTable
    plan: Plan
    allocator: str
    validation: ValidationReport
    tflm_head_bytes: int
    sizing: ArenaSizing | None = None

    @property
    def offline_overlaps(self) -> tuple[Violation, ...]:
        """Overlaps between buffers the model's own offline plan placed.

        TFLM trusts an offline plan without checking it, and offline planners (Vela) overlap
        buffers on purpose, so these are reported but do not make the plan invalid.
        """
        buffers = self.table.problem.buffers
        return tuple(
            v
            for v in self.validation.violations
            if v.kind is ViolationKind.OVERLAP and all(buffers[i].fixed_offset is not None for i in v.buffers)
        )

    @property
    def ok(self) -> bool:
        """True when the plan breaks no rule apart from overlaps the model's offline plan chose."""
        return len(self.validation.violations) == len(self.offline_overlaps)

    @property
    def peak_step(self) -> StepOrigin | None:
        """The first step at which the live bytes peak (what the lower bound is made of)."""
        return self.table.step_origin(self.table.problem.peak_step())


def plan_model(
    model: Model | str | Path,
    *,
    allocator: str = DEVICE_ALLOCATOR,
    kernels: str | None = None,
    target: Target | None = None,
    allow_unsupported: bool = False,
    time_limit_seconds: float | None = None,
) -> PlanResult:
    """Read (if given a path), derive TFLM's buffers, plan them and validate the plan.

    ``kernels`` is a library family or name (None: the target's default, else reference); a
    family resolves by the target's ISA. With a ``target`` the result also carries the tail and
    minimum arena for its pointer width.

    Raises
    ------
    ArenaError
        For an unreadable model, an unsupported op (unless ``allow_unsupported``), or an unknown
        allocator or kernel library name.
    """
    loaded = model if isinstance(model, Model) else read_model(model)
    get_allocator(allocator)  # an unknown name fails before any work
    family = kernels or (target.default_kernels if target is not None else DEFAULT_KERNELS)
    library = resolve_kernels(family, target.kernel_isa if target is not None else None)
    table = derive_lifetimes(loaded, library, allow_unsupported=allow_unsupported)
    plan = run_allocator(allocator, table.problem, time_limit_seconds=time_limit_seconds)
    tflm_head = plan.peak_bytes if allocator == "tflm" else get_allocator("tflm")(table.problem).peak_bytes
    sizing = None if target is None else size_arena(loaded, table, plan.peak_bytes, tflm_head, target)
    return PlanResult(
        model=loaded,
        table=table,
        plan=plan,
        allocator=allocator,
        validation=validate_plan(table.problem, plan),
        tflm_head_bytes=tflm_head,
        sizing=sizing,
    )
