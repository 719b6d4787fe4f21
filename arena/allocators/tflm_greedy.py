"""A byte-exact port of TFLM's GreedyMemoryPlanner, so the tool predicts what the device does.

Reproduces ``tensorflow/lite/micro/memory_planner/greedy_memory_planner.cc`` (tflite-micro at
90b983c2), method ``CalculateOffsetsIfNeeded``, rule for rule:

* Order: buffers with a fixed (offline) offset first, in the order they were added. Then the
  others, taken in *reverse* add order and stably sorted by size, largest first. TFLM fills its
  sort array from the tail and bubble-sorts it (a stable sort), so among equal sizes the buffer
  added later is placed earlier. This tie-break decides real offsets: equal-sized activations are
  common in CNNs.
* Placement: walk the already placed buffers in offset order (equal offsets in placement order,
  because TFLM inserts a new entry after existing ones with the same offset), looking only at
  those live at a common step. The candidate offset starts at 0 and becomes the highest end seen
  so far; the buffer goes at the candidate as soon as the next time-overlapping buffer starts at
  least ``size`` bytes above it, else after the last one.
* Fixed buffers keep their offset with no overlap check: TFLM trusts the offline plan.
* The head is the maximum of ``offset + size``.

The walk is vectorised with numpy (one pass per buffer over the placed ones) so that models with
thousands of buffers plan in about a second; TFLM's own loop is quadratic too.
"""

from __future__ import annotations

import time

import numpy as np

from arena.allocators.problem import Plan, PlanStatus, Problem, peak_of


def placement_order(problem: Problem) -> list[int]:
    """The order in which TFLM's greedy planner places the buffers (indices into the problem).

    Examples
    --------
    >>> from arena.allocators.problem import Buffer
    >>> bufs = (Buffer(name="a", size=16, first=0, last=0),
    ...         Buffer(name="b", size=32, first=0, last=0),
    ...         Buffer(name="c", size=16, first=0, last=0),
    ...         Buffer(name="d", size=8, first=0, last=0, fixed_offset=64))
    >>> placement_order(Problem(buffers=bufs))   # fixed d, then largest, later-added first on ties
    [3, 1, 2, 0]
    """
    fixed = [i for i, b in enumerate(problem.buffers) if b.fixed_offset is not None]
    online = [i for i, b in enumerate(problem.buffers) if b.fixed_offset is None]
    online.reverse()
    online.sort(key=lambda i: -problem.buffers[i].size)  # list.sort is stable
    return fixed + online


def _first_fit_offset(size: int, offsets: np.ndarray, ends: np.ndarray) -> int:
    """Where TFLM's walk puts a buffer, given the time-overlapping placed ones.

    ``offsets`` and ``ends`` are already in walk order. The candidate before entry j is the
    highest end among entries 0..j-1 (or 0); the first entry whose offset leaves a gap of at least
    ``size`` above that candidate decides the place.
    """
    if offsets.size == 0:
        return 0
    candidates = np.empty_like(ends)
    candidates[0] = 0
    np.maximum.accumulate(ends[:-1], out=candidates[1:])
    np.maximum(candidates, 0, out=candidates)
    fits = np.flatnonzero(offsets - candidates >= size)
    if fits.size:
        return int(candidates[fits[0]])
    return max(int(ends.max()), 0)


def tflm_greedy(problem: Problem) -> Plan:
    """Plan the problem exactly as TFLM's GreedyMemoryPlanner would.

    Parameters
    ----------
    problem
        Buffers in TFLM's AddBuffer order (tensors, then scratch requests), sizes already aligned.

    Returns
    -------
    Plan
        Offsets parallel to the buffers, status ``heuristic`` (or ``optimal`` when the head
        happens to equal the max-load lower bound).

    References
    ----------
    tensorflow/tflite-micro, ``tensorflow/lite/micro/memory_planner/greedy_memory_planner.cc``,
    ``GreedyMemoryPlanner::CalculateOffsetsIfNeeded`` and ``ReverseSortInPlace``.

    Examples
    --------
    >>> from arena.allocators.problem import Buffer
    >>> p = Problem(buffers=(Buffer(name="in", size=16, first=0, last=1),
    ...                      Buffer(name="mid", size=32, first=1, last=2),
    ...                      Buffer(name="out", size=16, first=2, last=3)))
    >>> plan = tflm_greedy(p)   # mid first at 0; out overlaps mid only; in overlaps mid only
    >>> plan.offsets, plan.peak_bytes
    ((32, 0, 32), 48)
    """
    started = time.perf_counter()
    count = len(problem.buffers)
    offsets = [0] * count
    placed_first = np.empty(count, dtype=np.int64)
    placed_last = np.empty(count, dtype=np.int64)
    placed_offset = np.empty(count, dtype=np.int64)
    placed_end = np.empty(count, dtype=np.int64)
    placed = 0
    for index in placement_order(problem):
        buffer = problem.buffers[index]
        if buffer.fixed_offset is not None:
            offset = buffer.fixed_offset
        else:
            live = np.flatnonzero((placed_first[:placed] <= buffer.last) & (placed_last[:placed] >= buffer.first))
            walk = live[np.argsort(placed_offset[live], kind="stable")]
            offset = _first_fit_offset(buffer.size, placed_offset[walk], placed_end[walk])
        offsets[index] = offset
        placed_first[placed] = buffer.first
        placed_last[placed] = buffer.last
        placed_offset[placed] = offset
        placed_end[placed] = offset + buffer.size
        placed += 1
    peak = peak_of(problem, offsets)
    bound = problem.lower_bound_bytes()
    return Plan(
        offsets=tuple(offsets),
        peak_bytes=peak,
        allocator="tflm",
        status=PlanStatus.OPTIMAL if peak == bound else PlanStatus.HEURISTIC,
        lower_bound_bytes=bound,
        stats={"seconds": time.perf_counter() - started},
    )
