"""Greedy by size with best fit: largest buffer first, each into the tightest gap that holds it.

The "Greedy by Size" offset rule of Pisarchyk and Lee, "Efficient Memory Management for Deep
Neural Net Inference" (arXiv:2001.03288, 2020), as used by TFLite's GPU delegate: sorting by size
lets small buffers fill the holes big ones leave, and choosing the tightest hole (instead of the
first, as TFLM does) keeps large holes free for large buffers.
"""

from __future__ import annotations

import time

from arena.allocators._placement import conflicts, heuristic_plan, place_in_order, size_order
from arena.allocators.problem import Plan, Problem


def best_fit(problem: Problem) -> Plan:
    """Place buffers by decreasing size (longer lifetime first on ties) into best-fit gaps.

    References
    ----------
    Y. Pisarchyk, J. Lee. Efficient Memory Management for Deep Neural Net Inference. 2020,
    section 4 ("Greedy by Size" for offset calculation).

    Examples
    --------
    >>> from arena.allocators.problem import Buffer
    >>> p = Problem(buffers=(Buffer(name="a", size=32, first=0, last=0),
    ...                      Buffer(name="b", size=16, first=0, last=3),
    ...                      Buffer(name="c", size=48, first=1, last=1),
    ...                      Buffer(name="d", size=32, first=2, last=2)))
    >>> best_fit(p).offsets, best_fit(p).peak_bytes
    ((0, 48, 0, 0), 64)
    """
    started = time.perf_counter()
    order = size_order(problem)
    offsets = place_in_order(problem, order, conflicts(problem), rule="best")
    return heuristic_plan(problem, offsets, "best-fit", time.perf_counter() - started)
