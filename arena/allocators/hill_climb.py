"""Hill climbing over the placement order, as Arm's Vela compiler allocates Ethos-U tensors.

A placement order fully decides a lowest-fit packing, so the search moves in the space of
orders: it finds a buffer that reaches the current peak, swaps it with a random buffer placed
before it that it conflicts with (so it can claim a lower spot), repacks, and keeps the new
order when the peak does not grow. Vela's ``HillClimbAllocator`` (ethos-u-vela,
``ethosu/vela/hillclimb_allocation.py``) uses this move on the same lowest-fit packing; this is a
reimplementation from that description with a seeded generator, so runs are repeatable.
"""

from __future__ import annotations

import random
import time

from arena.allocators._placement import conflicts, heuristic_plan, place_in_order, size_order
from arena.allocators.best_fit import best_fit
from arena.allocators.problem import Plan, Problem, peak_of

#: Default budget: enough moves for model-sized problems, bounded for hundreds of buffers.
DEFAULT_ITERATIONS = 2000
DEFAULT_TIME_LIMIT_SECONDS = 2.0


def _initial_order(problem: Problem) -> list[int]:
    """Largest first, longer-lived first among equal sizes: Vela's starting point too."""
    return size_order(problem)


def hill_climb(
    problem: Problem,
    *,
    iterations: int = DEFAULT_ITERATIONS,
    time_limit_seconds: float | None = DEFAULT_TIME_LIMIT_SECONDS,
    seed: int = 0,
) -> Plan:
    """Improve a lowest-fit packing by swapping peak-reaching buffers earlier in the order.

    Stops at the max-load lower bound, after ``iterations`` moves or ``time_limit_seconds``
    (None: no time limit). The seed makes runs repeatable. The result is never worse than the
    best-fit heuristic, which it is compared with at the end.

    References
    ----------
    Arm Ltd., ethos-u-vela, ``hillclimb_allocation.py`` (HillClimbAllocator), 2021.

    Examples
    --------
    >>> from arena.allocators.problem import Buffer
    >>> p = Problem(buffers=(Buffer(name="a", size=32, first=0, last=1),
    ...                      Buffer(name="b", size=16, first=1, last=2),
    ...                      Buffer(name="c", size=32, first=2, last=3)))
    >>> hill_climb(p).peak_bytes   # a and c can share bytes; b sits beside them
    48
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    neighbours = conflicts(problem)
    bound = problem.lower_bound_bytes()
    order = _initial_order(problem)
    offsets = place_in_order(problem, order, neighbours)
    peak = peak_of(problem, offsets)
    moves = 0
    while peak > bound and moves < iterations:
        if time_limit_seconds is not None and time.perf_counter() - started > time_limit_seconds:
            break
        moves += 1
        position = {index: rank for rank, index in enumerate(order)}
        top = [i for i, b in enumerate(problem.buffers) if offsets[i] + b.size == peak and b.fixed_offset is None]
        if not top:
            break
        chosen = rng.choice(top)
        earlier = [j for j in neighbours[chosen] if position[j] < position[chosen]]
        if not earlier:
            continue
        other = rng.choice(earlier)
        trial = order.copy()
        trial[position[chosen]], trial[position[other]] = other, chosen
        trial_offsets = place_in_order(problem, trial, neighbours)
        trial_peak = peak_of(problem, trial_offsets)
        if trial_peak <= peak:
            order, offsets, peak = trial, trial_offsets, trial_peak
    baseline = best_fit(problem)
    if baseline.peak_bytes < peak:
        offsets, peak = list(baseline.offsets), baseline.peak_bytes
    return heuristic_plan(problem, offsets, "hill-climb", time.perf_counter() - started, iterations=moves)
