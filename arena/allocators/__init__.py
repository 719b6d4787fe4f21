"""Allocators by CLI name: one registry, so options, help text and tests all come from here."""

from __future__ import annotations

from collections.abc import Callable

from arena.allocators.problem import Buffer, Plan, PlanStatus, Problem, peak_of
from arena.allocators.tflm_greedy import tflm_greedy
from arena.allocators.validate import ValidationReport, Violation, validate_plan
from arena.errors import ArenaError

Allocator = Callable[[Problem], Plan]

#: CLI name -> (function, one-line description for ``--help``).
ALLOCATORS: dict[str, tuple[Allocator, str]] = {
    "tflm": (tflm_greedy, "port of TFLM's GreedyMemoryPlanner: what the device does by default"),
}

DEFAULT_ALLOCATOR = "tflm"


def get_allocator(name: str) -> Allocator:
    """The allocator registered as ``name``.

    Examples
    --------
    >>> get_allocator("bestfit")
    Traceback (most recent call last):
    ...
    arena.errors.ArenaError: unknown allocator 'bestfit'; choose one of: tflm
    """
    try:
        return ALLOCATORS[name][0]
    except KeyError:
        raise ArenaError(
            f"unknown allocator {name!r}; choose one of: {', '.join(ALLOCATORS)}"
        ) from None


__all__ = [
    "ALLOCATORS",
    "DEFAULT_ALLOCATOR",
    "Allocator",
    "Buffer",
    "Plan",
    "PlanStatus",
    "Problem",
    "ValidationReport",
    "Violation",
    "get_allocator",
    "peak_of",
    "tflm_greedy",
    "validate_plan",
]
