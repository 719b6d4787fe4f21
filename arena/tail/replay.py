"""Replay allocation events on a model of TFLM's ``SingleArenaBufferAllocator``.

arena_allocator/single_arena_buffer_allocator.cc keeps four pointers into one buffer:
``head_`` (end of the resizable buffer, later of the plan), ``temp_`` (end of temp allocations,
>= head), ``tail_`` (start of persistent allocations, growing down) and the buffer's ends. Its
checks decide whether an arena is big enough:

* ``AllocatePersistentBuffer``: ``AlignPointerDown(tail_ - size, alignment)`` must not fall below
  ``head_``. It does not look at ``temp_``: a persistent allocation made while temp allocations
  are live can land on them, and TFLM then carries on with clobbered temp tensors. The replay
  counts that as a failure (undefined behaviour; the wheel crashes or fails later).
* ``AllocateTemp``: ``tail_ - AlignPointerUp(temp_, alignment)`` must be at least ``size``.
* ``ResizeBuffer`` (scratch-request array, head reservation): the aligned buffer start plus
  ``size`` must not pass ``tail_``.
* memory planning (micro_allocator.cc ``CommitStaticMemoryPlan``): the planner gets
  ``AlignPointerDown(tail_, 16) - AlignPointerUp(temp_, 16)`` bytes and fails in ``AddBuffer``
  when that holds fewer than 40 bytes per planned buffer (``GreedyMemoryPlanner::Init``).

Positions are byte offsets from the arena start, which is assumed 16-aligned (``new[]`` on the
host; TFLM aligns a firmware's arena up to 16 and loses the difference).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from arena.tail.abi import ARENA_ALIGNMENT, GREEDY_PLANNER_BYTES_PER_BUFFER
from arena.tail.events import Event, Persistent, PlanMemory, ReserveHead, ResetTemp, ResizeHead, Temp


def align_down(value: int, alignment: int) -> int:
    """``AlignPointerDown`` on an offset from a 16-aligned start."""
    return value - value % alignment


def align_up(value: int, alignment: int) -> int:
    """``AlignPointerUp`` on an offset from a 16-aligned start."""
    return value + (-value % alignment)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayOutcome:
    """How far a replay got: the tail used by each persistent event, and the first failure."""

    arena_bytes: int
    tail_bytes: int
    consumed: tuple[int, ...]
    failure: str | None
    failed_phase: str | None

    @property
    def ok(self) -> bool:
        """True when every allocation fitted."""
        return self.failure is None


def replay(events: Sequence[Event], arena_bytes: int, head_bytes: int) -> ReplayOutcome:
    """Run ``events`` against an arena of ``arena_bytes`` whose plan needs ``head_bytes``.

    ``consumed`` is parallel to the :class:`Persistent` events (bytes each took from the tail,
    padding included); on failure it covers those before the failing event.

    Examples
    --------
    >>> from arena.tail.events import Persistent
    >>> events = [Persistent(component="a", size=24, alignment=8, phase="x"),
    ...           Persistent(component="b", size=4, alignment=16, phase="x")]
    >>> replay(events, 1024, 0).consumed   # 1024 -> 1000, then 996 aligned down to 992
    (24, 8)
    >>> replay(events, 30, 0).failure      # 30 -> 0 (aligned down to 8): nothing left for b
    'x: b needs 4 bytes, 0 free'
    """
    head = temp = 0
    tail = arena_bytes
    consumed: list[int] = []
    for event in events:
        failure = None
        if isinstance(event, Persistent):
            new_tail = align_down(tail - event.size, event.alignment)
            if new_tail < head:
                failure = f"{event.component} needs {event.size} bytes, {max(tail - head, 0)} free"
            elif new_tail < temp:
                failure = f"{event.component} ({event.size} bytes) would overlap live temp allocations"
            else:
                consumed.append(tail - new_tail)
                tail = new_tail
        elif isinstance(event, Temp):
            start = align_up(temp, event.alignment)
            if start + event.size > tail:
                failure = f"temp allocation of {event.size} bytes, {max(tail - start, 0)} free"
            else:
                temp = start + event.size
        elif isinstance(event, ResetTemp):
            temp = head
        elif isinstance(event, ResizeHead):
            start = align_up(0, event.alignment)
            if start + event.size > tail:
                failure = f"scratch-request array of {event.size} bytes, {tail - start} free"
            else:
                head = temp = start + event.size
        elif isinstance(event, PlanMemory):
            remaining = align_down(tail, ARENA_ALIGNMENT) - align_up(temp, ARENA_ALIGNMENT)
            needed = event.buffers * GREEDY_PLANNER_BYTES_PER_BUFFER
            if remaining < needed:
                failure = f"planner scratch for {event.buffers} buffers needs {needed} bytes, {max(remaining, 0)} free"
            else:
                temp = align_up(temp, ARENA_ALIGNMENT) + remaining
        elif isinstance(event, ReserveHead):
            if head_bytes > tail:
                failure = f"the plan's {head_bytes} bytes, {tail} free"
            else:
                head = temp = head_bytes
        if failure is not None:
            return ReplayOutcome(
                arena_bytes=arena_bytes,
                tail_bytes=arena_bytes - tail,
                consumed=tuple(consumed),
                failure=f"{event.phase}: {failure}",
                failed_phase=event.phase,
            )
    return ReplayOutcome(
        arena_bytes=arena_bytes,
        tail_bytes=arena_bytes - tail,
        consumed=tuple(consumed),
        failure=None,
        failed_phase=None,
    )
