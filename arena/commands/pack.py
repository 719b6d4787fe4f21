"""``arena pack``: run any allocator on a raw problem file, no model involved.

The same allocators and validator that plan models solve MiniMalloc CSV problems, so users can
benchmark or reuse them on buffers that do not come from a .tflite file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arena._io import read_bounded
from arena.allocators import run_allocator
from arena.allocators.minimalloc_csv import parse_problem_csv
from arena.allocators.problem import Plan, Problem
from arena.allocators.validate import ValidationReport, ViolationKind, validate_plan
from arena.errors import ProblemFileError

#: Largest problem file read (a million rows of MiniMalloc CSV is about 30 MB).
MAX_PROBLEM_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class PackResult:
    """A problem read from a file, its plan and the plan's validation."""

    path: str
    problem: Problem
    plan: Plan
    allocator: str
    validation: ValidationReport

    @property
    def fits(self) -> bool:
        """True when there is no capacity or the plan's peak is within it."""
        capacity = self.problem.capacity
        return capacity is None or self.plan.peak_bytes <= capacity

    @property
    def ok(self) -> bool:
        """A valid plan within the capacity (the exit status of ``arena pack``)."""
        return self.fits and all(v.kind is ViolationKind.CAPACITY for v in self.validation.violations)


def read_problem(path: str | Path, capacity: int | None = None) -> Problem:
    """Read a MiniMalloc CSV problem file, with a one-line error if it cannot be read."""
    label = Path(path).name
    try:
        text = read_bounded(Path(path), MAX_PROBLEM_BYTES, label, ProblemFileError).decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ProblemFileError(f"{label}: cannot read problem file ({reason})") from error
    return parse_problem_csv(text, label, capacity)


def pack_file(
    path: str | Path,
    *,
    allocator: str,
    capacity: int | None = None,
    time_limit_seconds: float | None = None,
) -> PackResult:
    """Read the problem at ``path``, plan it with ``allocator`` and validate the plan."""
    problem = read_problem(path, capacity)
    plan = run_allocator(allocator, problem, time_limit_seconds=time_limit_seconds)
    return PackResult(
        path=str(path),
        problem=problem,
        plan=plan,
        allocator=allocator,
        validation=validate_plan(problem, plan),
    )
