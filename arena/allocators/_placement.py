"""Placement primitives shared by the heuristic allocators (not by the validator or TFLM port).

Every heuristic here builds a plan one buffer at a time: it looks at the already placed buffers
that are live at a common step with the new one, and picks an offset in a gap between them.
Lowest fit takes the first gap that is large enough; best fit takes the tightest one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from arena.allocators.problem import Plan, PlanStatus, Problem, peak_of


def size_order(problem: Problem) -> list[int]:
    """Buffer indices largest first, longer-lived first among equal sizes, then by index.

    The starting order of best-fit and of the hill climber (Vela starts from it too); one
    definition so the two cannot drift apart.

    >>> from arena.allocators.problem import Buffer
    >>> size_order(Problem(buffers=(Buffer(name="a", size=16, first=0, last=0),
    ...                             Buffer(name="b", size=32, first=0, last=0),
    ...                             Buffer(name="c", size=16, first=0, last=2))))
    [1, 2, 0]
    """
    buffers = problem.buffers
    return sorted(range(len(buffers)), key=lambda i: (-buffers[i].size, buffers[i].first - buffers[i].last, i))


def conflicts(problem: Problem) -> list[list[int]]:
    """For each buffer, the indices of the other buffers live at a common step with it.

    Vectorised per buffer (O(n) numpy work each), so 10,000 buffers take well under a second.
    """
    firsts, lasts = problem.firsts, problem.lasts
    result = []
    for index in range(len(problem.buffers)):
        mask = (firsts <= lasts[index]) & (lasts >= firsts[index])
        mask[index] = False
        result.append(np.flatnonzero(mask).tolist())
    return result


def _align(value: int, alignment: int) -> int:
    return -(-value // alignment) * alignment


def free_gaps(size: int, alignment: int, occupied: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Gaps ``(start, length)`` between ``occupied`` byte ranges that hold ``size`` bytes.

    ``occupied`` are ``(offset, end)`` pairs of the conflicting placed buffers. The last gap is
    open-ended (length -1) above the highest end, so a placement always exists.

    Examples
    --------
    >>> free_gaps(16, 16, [(32, 64), (0, 16)])
    [(16, 16), (64, -1)]
    """
    gaps = []
    candidate = 0
    for offset, end in sorted(occupied):
        start = _align(candidate, alignment)
        if offset - start >= size:
            gaps.append((start, offset - start))
        candidate = max(candidate, end)
    gaps.append((_align(candidate, alignment), -1))
    return gaps


def lowest_fit(size: int, alignment: int, occupied: Iterable[tuple[int, int]]) -> int:
    """The lowest aligned offset where ``size`` bytes fit between the occupied ranges.

    >>> lowest_fit(16, 16, [(32, 64), (0, 16)]), lowest_fit(32, 16, [(32, 64), (0, 16)])
    (16, 64)
    """
    return free_gaps(size, alignment, occupied)[0][0]


def best_fit(size: int, alignment: int, occupied: Iterable[tuple[int, int]]) -> int:
    """The offset of the tightest bounded gap that holds ``size`` bytes, else above everything.

    >>> best_fit(16, 16, [(48, 64), (0, 16), (96, 112)])   # gaps: 32 B at 16, 32 B at 64
    16
    >>> best_fit(16, 16, [(32, 64), (80, 96)])              # gaps: 32 B at 0, 16 B at 64
    64
    """
    gaps = free_gaps(size, alignment, occupied)
    bounded = [gap for gap in gaps if gap[1] >= 0]
    if not bounded:
        return gaps[-1][0]
    return min(bounded, key=lambda gap: (gap[1], gap[0]))[0]


def place_in_order(
    problem: Problem,
    order: Sequence[int],
    neighbours: Sequence[Sequence[int]],
    rule: str = "lowest",
) -> list[int]:
    """Offsets from placing the buffers in ``order`` by ``rule`` ("lowest" or "best").

    Buffers with a fixed offset keep it wherever they appear in the order, and the others are
    placed around them.
    """
    choose = lowest_fit if rule == "lowest" else best_fit
    offsets = [-1] * len(problem.buffers)
    placed = [False] * len(problem.buffers)
    for index, buffer in enumerate(problem.buffers):
        if buffer.fixed_offset is not None:
            offsets[index] = buffer.fixed_offset
            placed[index] = True
    for index in order:
        buffer = problem.buffers[index]
        if buffer.fixed_offset is not None:
            continue
        occupied = [(offsets[j], offsets[j] + problem.buffers[j].size) for j in neighbours[index] if placed[j]]
        offsets[index] = choose(buffer.size, buffer.alignment, occupied)
        placed[index] = True
    return offsets


def heuristic_plan(problem: Problem, offsets: Sequence[int], allocator: str, seconds: float, **stats: float) -> Plan:
    """Wrap heuristic offsets as a plan; ``optimal`` when the peak meets the max-load bound."""
    peak = peak_of(problem, offsets)
    bound = problem.lower_bound_bytes()
    return Plan(
        offsets=tuple(int(o) for o in offsets),
        peak_bytes=peak,
        allocator=allocator,
        status=PlanStatus.OPTIMAL if peak == bound else PlanStatus.HEURISTIC,
        lower_bound_bytes=bound,
        stats={"seconds": seconds, **stats},
    )
