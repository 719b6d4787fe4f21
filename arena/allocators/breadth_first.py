"""Greedy by breadth: serve the busiest op steps first, each step's buffers largest first.

The "Greedy by Breadth" rule of Pisarchyk and Lee (arXiv:2001.03288, 2020): the op steps with
the most bytes live decide the peak, so their buffers are placed first, while the arena is still
empty around them; each goes into the best-fit gap among the buffers already placed.
"""

from __future__ import annotations

import time

import numpy as np

from arena.allocators._placement import conflicts, heuristic_plan, place_in_order
from arena.allocators.problem import Plan, Problem


def breadth_order(problem: Problem) -> list[int]:
    """Buffer indices grouped by op step, busiest step first, largest buffer first within one."""
    # The live set only changes where a buffer starts, so those steps are the only ones whose
    # breadth matters (a problem's step range can be a million wide, its starts a few hundred).
    start, loads = problem.load_per_step()
    starts = np.unique(problem.firsts)
    steps = starts[np.argsort(-loads[starts - start], kind="stable")]
    seen: set[int] = set()
    order: list[int] = []
    for step in steps.tolist():
        live = np.flatnonzero((problem.firsts <= step) & (problem.lasts >= step)).tolist()
        live.sort(key=lambda i: (-problem.buffers[i].size, i))
        for index in live:
            if index not in seen:
                seen.add(index)
                order.append(index)
    return order


def breadth_first(problem: Problem) -> Plan:
    """Place buffers in breadth order (see :func:`breadth_order`) into best-fit gaps.

    References
    ----------
    Y. Pisarchyk, J. Lee. Efficient Memory Management for Deep Neural Net Inference. 2020,
    section 4 ("Greedy by Breadth").

    Examples
    --------
    >>> from arena.allocators.problem import Buffer
    >>> p = Problem(buffers=(Buffer(name="a", size=16, first=0, last=1),
    ...                      Buffer(name="b", size=32, first=1, last=2),
    ...                      Buffer(name="c", size=16, first=2, last=3)))
    >>> breadth_first(p).peak_bytes   # step 1 and 2 both hold 48 B
    48
    """
    started = time.perf_counter()
    offsets = place_in_order(problem, breadth_order(problem), conflicts(problem), rule="best")
    return heuristic_plan(problem, offsets, "breadth", time.perf_counter() - started)
