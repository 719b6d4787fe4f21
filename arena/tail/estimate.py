"""The tail and the minimum arena of a model, with the breakdown a report needs.

:func:`tail_bytes` replays TFLM's allocations (:mod:`arena.tail.events`) in an arena large
enough for everything and reports what the persistent section holds. :func:`minimum_arena_bytes`
finds the smallest arena in which every allocation check passes (:mod:`arena.tail.replay`): that
is not always head + tail, because while TFLM commits the plan it also holds, in temp space, the
scratch-request array, one ``AllocationInfo`` per tensor and scratch request and 40 bytes of
planner scratch per planned buffer, and during each op's Prepare the kernel's temp tensors.
"""

from __future__ import annotations

from dataclasses import dataclass

from arena.lifetimes import LifetimeTable
from arena.model.records import Model
from arena.tail.abi import ARENA_ALIGNMENT, GREEDY_PLANNER_BYTES_PER_BUFFER, HOST_X86_64, Abi
from arena.tail.builtin_params import BUILTIN_PARAMS
from arena.tail.events import Event, Persistent, Temp, allocation_events
from arena.tail.kernels import get_tail_kernels
from arena.tail.replay import ReplayOutcome, replay

#: An arena end far from everything: ``tail_bytes`` replays in an arena this large.
_UNBOUNDED_ARENA_BYTES = 1 << 40


@dataclass(frozen=True, slots=True, kw_only=True)
class TailComponent:
    """One kind of tail allocation: total bytes (alignment padding included) over ``count``."""

    name: str
    bytes: int
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TailEstimate:
    """The persistent section TFLM builds for a model, by component, in allocation order."""

    abi: str
    kernels: str
    total_bytes: int
    components: tuple[TailComponent, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MinimumArena:
    """The smallest ``arena_size`` that TFLM accepts, and what decides it.

    ``binding_phase`` names the step that fails one byte below the minimum ("head reservation" or
    "input/output tensors" when head + tail decides; "memory planning" when the commit transient
    does; "subgraph S op N (OP) prepare" when a kernel's temp tensors do).
    """

    minimum_bytes: int
    head_bytes: int
    tail_bytes: int
    binding_phase: str
    binding_failure: str

    @property
    def transient_bytes(self) -> int:
        """How much the minimum exceeds head + tail (0 when head + tail decides)."""
        return max(self.minimum_bytes - self.head_bytes - self.tail_bytes, 0)


def _events(model: Model, table: LifetimeTable, abi: Abi, kernels: str | None) -> tuple[Event, ...]:
    library = get_tail_kernels(kernels or table.kernels)
    return allocation_events(model, table, abi, library, BUILTIN_PARAMS)


def tail_bytes(model: Model, table: LifetimeTable, abi: Abi = HOST_X86_64, kernels: str | None = None) -> TailEstimate:
    """TFLM's persistent (tail) bytes for ``model``, broken down by component.

    Parameters
    ----------
    model
        The model.
    table
        Its lifetime table (:func:`arena.lifetimes.derive_lifetimes`): the scratch requests it
        lists become scratch handles; their count also sizes the scratch-request array.
    abi
        Struct layouts and build options: :data:`arena.tail.abi.HOST_X86_64` (the Python
        package, what ``print_allocations()`` reports) or :data:`arena.tail.abi.CORTEX_M`.
    kernels
        Kernel library whose Init/Prepare allocations to use; defaults to the table's.

    Returns
    -------
    TailEstimate
        ``total_bytes`` as TFLM counts it for an arena whose size is a multiple of 16 (an
        unaligned end adds its misalignment), with one component per kind of allocation.

    Notes
    -----
    The allocation order and every struct size are documented in :mod:`arena.tail.events` and
    :mod:`arena.tail.abi`; order matters because each allocation is aligned down from the last.

    Examples
    --------
    >>> from arena.lifetimes import derive_lifetimes
    >>> from arena.model.records import Model, Subgraph, Tensor
    >>> x = Tensor(index=0, name="x", shape=(4,), type_code=9, buffer=0, has_data=False,
    ...            is_variable=False)
    >>> graph = Subgraph(index=0, name="", tensors=(x,), operators=(), inputs=(0,), outputs=(0,))
    >>> model = Model(path="m", sha256="", size_bytes=0, version=3, description="",
    ...               subgraphs=(graph,), metadata=(), buffer_count=1, data=b"")
    >>> tail_bytes(model, derive_lifetimes(model)).total_bytes
    672
    """
    events = _events(model, table, abi, kernels)
    outcome = replay(events, _UNBOUNDED_ARENA_BYTES, 0)
    if not outcome.ok:  # pragma: no cover - an unbounded arena cannot run out
        raise AssertionError(outcome.failure)
    totals: dict[str, list[int]] = {}
    persistent = [e for e in events if isinstance(e, Persistent)]
    for event, used in zip(persistent, outcome.consumed, strict=True):
        entry = totals.setdefault(event.component, [0, 0])
        entry[0] += used
        entry[1] += 1
    components = tuple(TailComponent(name=n, bytes=b, count=c) for n, (b, c) in totals.items())
    return TailEstimate(
        abi=abi.name,
        kernels=get_tail_kernels(kernels or table.kernels).name,
        total_bytes=outcome.tail_bytes,
        components=components,
    )


def minimum_arena_bytes(
    model: Model, table: LifetimeTable, head_bytes: int, abi: Abi = HOST_X86_64, kernels: str | None = None
) -> MinimumArena:
    """The smallest ``arena_size`` for which TFLM's allocation of ``model`` succeeds.

    Parameters
    ----------
    model, table
        As for :func:`tail_bytes`.
    head_bytes
        The memory plan's size (``plan_model(...).plan.peak_bytes`` with the TFLM allocator).
    abi, kernels
        As for :func:`tail_bytes`.

    Returns
    -------
    MinimumArena
        The minimum, head and tail, and the phase that fails one byte below it.

    Notes
    -----
    Every check TFLM makes compares positions that only move towards the arena's end as the
    arena grows (aligning down is monotonic), so "fits" is monotonic in the size and a
    bisection finds the minimum. The arena start is assumed 16-aligned.

    The minimum is overlap-free: TFLM checks a persistent allocation only against the head, not
    against temp allocations still open (a kernel allocating per-channel arrays while its temp
    tensors are live), and when such an overlap happens to clobber nothing TFLM reads again it
    accepts a slightly smaller arena (by less than the overlapping allocations, e.g. 16 bytes
    for a per-channel FULLY_CONNECTED whose Prepare decides the minimum). Only when a kernel's
    Prepare decides the minimum can the two differ.

    Examples
    --------
    >>> from arena.lifetimes import derive_lifetimes
    >>> from arena.model.records import Model, Subgraph, Tensor
    >>> x = Tensor(index=0, name="x", shape=(4,), type_code=9, buffer=0, has_data=False,
    ...            is_variable=False)
    >>> graph = Subgraph(index=0, name="", tensors=(x,), operators=(), inputs=(0,), outputs=(0,))
    >>> model = Model(path="m", sha256="", size_bytes=0, version=3, description="",
    ...               subgraphs=(graph,), metadata=(), buffer_count=1, data=b"")
    >>> minimum_arena_bytes(model, derive_lifetimes(model), head_bytes=16).minimum_bytes
    800
    """
    events = _events(model, table, abi, kernels)
    tail = replay(events, _UNBOUNDED_ARENA_BYTES, head_bytes).tail_bytes
    low, high = 0, head_bytes + tail
    high += sum(e.size + e.alignment for e in events if isinstance(e, Temp)) + ARENA_ALIGNMENT
    high += GREEDY_PLANNER_BYTES_PER_BUFFER * len(table.problem.buffers)
    while not replay(events, high, head_bytes).ok:  # pragma: no cover - the bound above suffices
        high *= 2
    while low < high:
        middle = (low + high) // 2
        if replay(events, middle, head_bytes).ok:
            high = middle
        else:
            low = middle + 1
    below: ReplayOutcome = replay(events, high - 1, head_bytes)
    return MinimumArena(
        minimum_bytes=high,
        head_bytes=head_bytes,
        tail_bytes=tail,
        binding_phase=below.failed_phase or "",
        binding_failure=below.failure or "",
    )
