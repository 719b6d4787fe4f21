"""The offset-assignment problem every allocator solves, and the plan it returns.

A problem is only sizes and lifetimes: nothing here knows about models, kernels or flatbuffers,
so raw problems (``arena pack`` on a MiniMalloc CSV) and model problems run the same allocators.
Lifetimes use TFLM's convention: inclusive op steps ``first`` and ``last``; two buffers conflict
when their step ranges intersect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from arena.errors import ProblemError


class PlanStatus(StrEnum):
    """What an allocator can claim about its plan's peak (the JSON strings)."""

    HEURISTIC = "heuristic"
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    TIMEOUT = "timeout"
    #: Proven: no packing fits the problem's capacity (the plan is the best found above it).
    INFEASIBLE = "infeasible"


@dataclass(frozen=True, slots=True, kw_only=True)
class Buffer:
    """One block to place: ``size`` bytes live from step ``first`` to step ``last`` inclusive.

    ``size`` is what the planner packs (TFLM's 16-byte aligned size). ``fixed_offset`` is set for a
    buffer whose place is decided elsewhere (TFLM's offline plan) and must not move.

    Examples
    --------
    >>> Buffer(name="t3", size=32, first=3, last=7)
    Buffer(t3: 32 B [3..7])
    >>> Buffer(name="bad", size=-1, first=0, last=0)
    Traceback (most recent call last):
    ...
    arena.errors.ProblemError: buffer 'bad': size -1 is negative
    """

    name: str
    size: int
    first: int
    last: int
    alignment: int = 1
    fixed_offset: int | None = None

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ProblemError(f"buffer {self.name!r}: size {self.size} is negative")
        if self.first > self.last:
            raise ProblemError(f"buffer {self.name!r}: first step {self.first} is after last step {self.last}")
        if self.alignment < 1 or self.alignment & (self.alignment - 1):
            raise ProblemError(f"buffer {self.name!r}: alignment {self.alignment} is not a power of two")
        if self.fixed_offset is not None and self.fixed_offset < 0:
            raise ProblemError(f"buffer {self.name!r}: fixed offset {self.fixed_offset} < 0")

    def __repr__(self) -> str:
        fixed = "" if self.fixed_offset is None else f" @{self.fixed_offset}"
        return f"Buffer({self.name}: {self.size} B [{self.first}..{self.last}]{fixed})"

    def overlaps_in_time(self, other: Buffer) -> bool:
        """True when both are live at some common step (inclusive ranges intersect)."""
        return self.first <= other.last and other.first <= self.last


def _column(values: Sequence[int]) -> npt.NDArray[np.int64]:
    array = np.asarray(values, dtype=np.int64)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """Buffers to place, optionally within ``capacity`` bytes.

    The numpy columns ``sizes``, ``firsts`` and ``lasts`` are built once, read-only, for
    allocators that vectorise.

    Examples
    --------
    >>> p = Problem(buffers=(Buffer(name="a", size=16, first=0, last=1),
    ...                      Buffer(name="b", size=32, first=1, last=2),
    ...                      Buffer(name="c", size=48, first=2, last=2)))
    >>> p.lower_bound_bytes()   # step 2 holds b and c
    80
    """

    buffers: tuple[Buffer, ...]
    capacity: int | None = None
    sizes: npt.NDArray[np.int64] = field(init=False, repr=False, compare=False)
    firsts: npt.NDArray[np.int64] = field(init=False, repr=False, compare=False)
    lasts: npt.NDArray[np.int64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.capacity is not None and self.capacity < 0:
            raise ProblemError(f"capacity {self.capacity} is negative")
        object.__setattr__(self, "sizes", _column([b.size for b in self.buffers]))
        object.__setattr__(self, "firsts", _column([b.first for b in self.buffers]))
        object.__setattr__(self, "lasts", _column([b.last for b in self.buffers]))

    def __len__(self) -> int:
        return len(self.buffers)

    def load_per_step(self) -> tuple[int, npt.NDArray[np.int64]]:
        """Bytes live at each step, as (first step, loads from that step on)."""
        if not self.buffers:
            return 0, np.zeros(0, dtype=np.int64)
        start = int(self.firsts.min())
        span = int(self.lasts.max()) - start + 1
        delta = np.zeros(span + 1, dtype=np.int64)
        np.add.at(delta, self.firsts - start, self.sizes)
        np.add.at(delta, self.lasts - start + 1, -self.sizes)
        return start, np.cumsum(delta[:-1])

    def lower_bound_bytes(self) -> int:
        """The max-load bound: no plan's peak is below the bytes live at the busiest step."""
        _, loads = self.load_per_step()
        return int(loads.max()) if loads.size else 0

    def peak_step(self) -> int | None:
        """The first step at which the live bytes reach the lower bound (None when empty)."""
        start, loads = self.load_per_step()
        return start + int(np.argmax(loads)) if loads.size else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """Offsets parallel to a problem's buffers, and what the allocator claims about them.

    A plan does not hold its problem; functions that need both take ``(problem, plan)``.
    """

    offsets: tuple[int, ...]
    peak_bytes: int
    allocator: str
    status: PlanStatus
    lower_bound_bytes: int
    stats: Mapping[str, float] = field(default_factory=dict)

    @property
    def is_optimal(self) -> bool:
        """True when the peak is proven minimal."""
        return self.status is PlanStatus.OPTIMAL


def peak_of(problem: Problem, offsets: Sequence[int]) -> int:
    """The arena size a placement needs: the highest end of any buffer (0 when empty).

    Examples
    --------
    >>> peak_of(Problem(buffers=(Buffer(name="a", size=16, first=0, last=0),)), [32])
    48
    """
    if len(offsets) != len(problem.buffers):
        raise ProblemError(f"{len(offsets)} offsets for {len(problem.buffers)} buffers")
    if not offsets:
        return 0
    return int((np.asarray(offsets, dtype=np.int64) + problem.sizes).max())
