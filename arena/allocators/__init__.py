"""Allocators by CLI name: one registry, so options, help text and tests all come from here.

The registry names each allocator by ``module:function`` and imports it on first use, so that
building the CLI's ``--allocator`` choices does not import numpy (``arena --help`` stays fast).
The problem and plan types are re-exported lazily for the same reason.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from arena.errors import ArenaError

if TYPE_CHECKING:
    from arena.allocators.problem import Plan, Problem

    Allocator = Callable[[Problem], Plan]

#: CLI name -> (``module:function``, one-line description for ``--help``). Anytime allocators
#: (listed in :data:`ANYTIME`) also take a keyword ``time_limit_seconds``.
ALLOCATORS: dict[str, tuple[str, str]] = {
    "tflm": (
        "arena.allocators.tflm_greedy:tflm_greedy",
        "port of TFLM's GreedyMemoryPlanner: what the device does by default",
    ),
    "best-fit": (
        "arena.allocators.best_fit:best_fit",
        "greedy by size, each buffer into the tightest gap (Pisarchyk & Lee 2020)",
    ),
    "breadth": (
        "arena.allocators.breadth_first:breadth_first",
        "greedy by breadth: busiest op steps first (Pisarchyk & Lee 2020)",
    ),
    "hill-climb": (
        "arena.allocators.hill_climb:hill_climb",
        "hill climbing over the placement order, as Arm's Vela does",
    ),
    "exact": (
        "arena.allocators:exact_within",
        "MiniMalloc-style search: proves the smallest arena, or says how far from the bound it is",
    ),
}

DEFAULT_ALLOCATOR = "tflm"

#: Allocators that search until a time limit and accept ``time_limit_seconds``.
ANYTIME = frozenset({"hill-climb", "exact"})

#: What ``arena plan`` uses unless told otherwise: the best plan provable in a short time.
PLAN_DEFAULT_ALLOCATOR = "exact"
#: The exact allocator's time limit when none is given (models prove optimal in well under 1 s).
EXACT_DEFAULT_SECONDS = 5.0


def get_allocator(name: str) -> Allocator:
    """The allocator registered as ``name``.

    Examples
    --------
    >>> get_allocator("tflm").__name__
    'tflm_greedy'
    >>> get_allocator("bestfit")
    Traceback (most recent call last):
    ...
    arena.errors.ArenaError: unknown allocator 'bestfit'; choose one of: tflm, best-fit, breadth, hill-climb, exact
    """
    try:
        target = ALLOCATORS[name][0]
    except KeyError:
        raise ArenaError(f"unknown allocator {name!r}; choose one of: {', '.join(ALLOCATORS)}") from None
    module_name, function_name = target.split(":")
    function: Allocator = getattr(importlib.import_module(module_name), function_name)
    return function


def exact_within(problem: Problem, *, time_limit_seconds: float | None = None) -> Plan:
    """The exact allocator with a plain time limit, the registry's calling convention.

    >>> from arena.allocators.problem import Buffer, Problem
    >>> exact_within(Problem(buffers=(Buffer(name="a", size=16, first=0, last=0),))).peak_bytes
    16
    """
    from arena.allocators.exact import ExactOptions, exact

    seconds = EXACT_DEFAULT_SECONDS if time_limit_seconds is None else time_limit_seconds
    return exact(problem, ExactOptions(time_limit_seconds=seconds))


def run_allocator(name: str, problem: Problem, *, time_limit_seconds: float | None = None) -> Plan:
    """Plan ``problem`` with the allocator named ``name``, passing the time limit to anytime ones.

    Examples
    --------
    >>> from arena.allocators.problem import Buffer, Problem
    >>> p = Problem(buffers=(Buffer(name="a", size=16, first=0, last=0),))
    >>> run_allocator("hill-climb", p, time_limit_seconds=0.5).peak_bytes
    16
    """
    allocator: Any = get_allocator(name)
    if name in ANYTIME and time_limit_seconds is not None:
        return allocator(problem, time_limit_seconds=time_limit_seconds)  # type: ignore[no-any-return]
    return allocator(problem)  # type: ignore[no-any-return]


_LAZY = {
    "Buffer": "arena.allocators.problem",
    "Plan": "arena.allocators.problem",
    "PlanStatus": "arena.allocators.problem",
    "Problem": "arena.allocators.problem",
    "peak_of": "arena.allocators.problem",
    "ValidationReport": "arena.allocators.validate",
    "Violation": "arena.allocators.validate",
    "validate_plan": "arena.allocators.validate",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ALLOCATORS",
    "ANYTIME",
    "DEFAULT_ALLOCATOR",
    "PLAN_DEFAULT_ALLOCATOR",
    "exact_within",
    "get_allocator",
    "run_allocator",
    *_LAZY,
]
