"""One record per allocator: its CLI name, function, help line, and how long it may search.

Every ``--allocator`` choice, its help text, the defaults and the tests come from this table, so
adding an allocator is one record and a default is named exactly once. Functions are named as
``module:function`` and imported on first use, so that building the CLI does not import numpy
(``arena --help`` stays fast).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from arena.errors import ArenaError

if TYPE_CHECKING:
    from arena.allocators.problem import Plan, Problem

    Allocator = Callable[[Problem], Plan]


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocatorSpec:
    """An allocator as the registry knows it.

    ``anytime`` allocators search until a time limit and take a keyword ``time_limit_seconds``;
    ``default_seconds`` is that limit when the user gives none (None: no limit of its own).
    """

    name: str
    function: str
    help: str
    anytime: bool = False
    default_seconds: float | None = None


_SPECS = (
    AllocatorSpec(
        name="tflm",
        function="arena.allocators.tflm_greedy:tflm_greedy",
        help="port of TFLM's GreedyMemoryPlanner: what the device does by default",
    ),
    AllocatorSpec(
        name="best-fit",
        function="arena.allocators.best_fit:best_fit",
        help="greedy by size, each buffer into the tightest gap (Pisarchyk & Lee 2020)",
    ),
    AllocatorSpec(
        name="breadth",
        function="arena.allocators.breadth_first:breadth_first",
        help="greedy by breadth: busiest op steps first (Pisarchyk & Lee 2020)",
    ),
    AllocatorSpec(
        name="hill-climb",
        function="arena.allocators.hill_climb:hill_climb",
        help="hill climbing over the placement order, as Arm's Vela does",
        anytime=True,
    ),
    AllocatorSpec(
        name="exact",
        function="arena.allocators.exact:exact_within",
        help="MiniMalloc-style search: proves the smallest arena, or says how far from the bound it is",
        anytime=True,
        # Every shared model proves optimal in well under a second; this bounds hostile inputs.
        default_seconds=5.0,
    ),
)

#: CLI name -> allocator record, in the order ``--help`` lists them.
ALLOCATORS: dict[str, AllocatorSpec] = {spec.name: spec for spec in _SPECS}

#: The plan TFLM itself makes on the device from an unmodified model: what commands that
#: describe the device (check, validate, cost, simulate) size by default.
DEVICE_ALLOCATOR = "tflm"
#: The best plan arena can prove: what commands that produce a plan to deploy use by default.
BEST_ALLOCATOR = "exact"


def get_allocator(name: str) -> Allocator:
    """The allocator function registered as ``name``.

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
        spec = ALLOCATORS[name]
    except KeyError:
        raise ArenaError(f"unknown allocator {name!r}; choose one of: {', '.join(ALLOCATORS)}") from None
    module_name, function_name = spec.function.split(":")
    function: Allocator = getattr(importlib.import_module(module_name), function_name)
    return function


def run_allocator(name: str, problem: Problem, *, time_limit_seconds: float | None = None) -> Plan:
    """Plan ``problem`` with the allocator named ``name``, with its time limit when it is anytime.

    Examples
    --------
    >>> from arena.allocators.problem import Buffer, Problem
    >>> p = Problem(buffers=(Buffer(name="a", size=16, first=0, last=0),))
    >>> run_allocator("hill-climb", p, time_limit_seconds=0.5).peak_bytes
    16
    """
    allocator: Any = get_allocator(name)
    spec = ALLOCATORS[name]
    seconds = time_limit_seconds if time_limit_seconds is not None else spec.default_seconds
    if spec.anytime and seconds is not None:
        return allocator(problem, time_limit_seconds=seconds)  # type: ignore[no-any-return]
    return allocator(problem)  # type: ignore[no-any-return]
