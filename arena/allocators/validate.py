"""An independent check of a plan, straight from the definition of a valid packing.

It shares nothing with the allocators: a plan is valid when every offset is non-negative and
aligned, fixed buffers stay where they were put, the claimed peak is the real one, and no two
buffers live at a common step share a byte. Every violation is reported, not just the first, so
a broken plan can be debugged from one run.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from arena.allocators.problem import Plan, Problem


class ViolationKind(StrEnum):
    """The rule a plan breaks."""

    LENGTH = "length"
    NEGATIVE = "negative-offset"
    MISALIGNED = "misaligned"
    FIXED_MOVED = "fixed-moved"
    OVERLAP = "overlap"
    PEAK = "peak-mismatch"
    CAPACITY = "over-capacity"


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """One broken rule, naming the buffers (by index) and, for overlaps, where they collide."""

    kind: ViolationKind
    message: str
    buffers: tuple[int, ...] = ()
    steps: tuple[int, int] | None = None
    byte_range: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationReport:
    """All violations of a plan; ``ok`` when there are none."""

    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        """True when the plan breaks no rule."""
        return not self.violations


def _overlaps(problem: Problem, offsets: tuple[int, ...]) -> list[Violation]:
    """Sweep over start steps; compare each buffer with those still live when it starts."""
    order = sorted(range(len(problem.buffers)), key=lambda i: problem.buffers[i].first)
    live: list[int] = []
    found: list[Violation] = []
    for index in order:
        buffer = problem.buffers[index]
        live = [j for j in live if problem.buffers[j].last >= buffer.first]
        start, end = offsets[index], offsets[index] + buffer.size
        for other_index in live:
            other = problem.buffers[other_index]
            lo = max(start, offsets[other_index])
            hi = min(end, offsets[other_index] + other.size)
            if lo < hi:
                steps = (max(buffer.first, other.first), min(buffer.last, other.last))
                pair = tuple(sorted((other_index, index)))
                found.append(
                    Violation(
                        kind=ViolationKind.OVERLAP,
                        message=(
                            f"{problem.buffers[pair[0]].name} and {problem.buffers[pair[1]].name}"
                            f" share bytes [{lo}, {hi}) while both live at steps"
                            f" {steps[0]}..{steps[1]}"
                        ),
                        buffers=pair,
                        steps=steps,
                        byte_range=(lo, hi),
                    )
                )
        live.append(index)
    return found


def _placement(problem: Problem, plan: Plan) -> list[Violation]:
    found: list[Violation] = []
    for index, (buffer, offset) in enumerate(zip(problem.buffers, plan.offsets, strict=True)):
        if offset < 0:
            found.append(
                Violation(
                    kind=ViolationKind.NEGATIVE,
                    message=f"{buffer.name} has negative offset {offset}",
                    buffers=(index,),
                )
            )
        if offset % buffer.alignment:
            found.append(
                Violation(
                    kind=ViolationKind.MISALIGNED,
                    message=f"{buffer.name} at {offset} is not {buffer.alignment}-byte aligned",
                    buffers=(index,),
                )
            )
        if buffer.fixed_offset is not None and offset != buffer.fixed_offset:
            found.append(
                Violation(
                    kind=ViolationKind.FIXED_MOVED,
                    message=f"{buffer.name} moved from fixed offset {buffer.fixed_offset} to {offset}",
                    buffers=(index,),
                )
            )
    return found


def _peak(problem: Problem, plan: Plan) -> list[Violation]:
    real = max((o + b.size for o, b in zip(plan.offsets, problem.buffers, strict=True)), default=0)
    found: list[Violation] = []
    if real != plan.peak_bytes:
        found.append(
            Violation(
                kind=ViolationKind.PEAK,
                message=f"plan claims peak {plan.peak_bytes} B but its buffers end at {real} B",
            )
        )
    if problem.capacity is not None and real > problem.capacity:
        found.append(
            Violation(
                kind=ViolationKind.CAPACITY,
                message=f"peak {real} B exceeds capacity {problem.capacity} B",
            )
        )
    return found


def validate_plan(problem: Problem, plan: Plan) -> ValidationReport:
    """Check ``plan`` against ``problem`` and return every violation found.

    Parameters
    ----------
    problem
        The buffers with their sizes, lifetimes, alignments and fixed offsets.
    plan
        Offsets parallel to ``problem.buffers`` and the claimed peak.

    Returns
    -------
    ValidationReport
        ``ok`` is true when the plan is a valid packing with the claimed peak.

    Examples
    --------
    >>> from arena.allocators.problem import Buffer, PlanStatus
    >>> p = Problem(buffers=(Buffer(name="a", size=16, first=0, last=1),
    ...                      Buffer(name="b", size=16, first=1, last=2)))
    >>> bad = Plan(offsets=(0, 8), peak_bytes=24, allocator="hand",
    ...            status=PlanStatus.HEURISTIC, lower_bound_bytes=32)
    >>> [v.message for v in validate_plan(p, bad).violations]
    ['a and b share bytes [8, 16) while both live at steps 1..1']
    """
    if len(plan.offsets) != len(problem.buffers):
        return ValidationReport(
            violations=(
                Violation(
                    kind=ViolationKind.LENGTH,
                    message=f"plan has {len(plan.offsets)} offsets for {len(problem.buffers)} buffers",
                ),
            )
        )
    found = _placement(problem, plan) + _overlaps(problem, plan.offsets) + _peak(problem, plan)
    return ValidationReport(violations=tuple(found))
