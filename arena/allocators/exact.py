"""An exact offset allocator: the smallest arena, proven, or the best found and how far it may be.

The search is MiniMalloc's (Moffitt, ASPLOS 2024), reimplemented: a depth-first search over
*canonical* packings, in which buffers are placed in non-decreasing offset order, each at the
lowest aligned offset above the conflicting buffers already placed. Every packing can be pushed
down into a canonical one with no higher peak, so searching only those is complete; the pruning
rules, each a switch in ``ExactOptions``, and why each keeps the search complete, are in
``arena.allocators._exact_search``, which holds the jitted inner loop. This module builds the
tables (sections, conflicts, obstacles), the lower bound, and drives the search:

* A *probe* answers "does a packing fit within C bytes?" with one search per static preorder,
  taking turns under a node limit that doubles each round (MiniMalloc's round robin, so one
  unlucky order cannot stall it). Searches are paused, not restarted, between turns.
* With ``problem.capacity``, the first probe asks for the capacity. Then (and always without a
  capacity) the peak is minimised in rounds of time slices: one probe a stride below the best
  peak (the stride doubles after a fit, halves after a miss), one at the bound (a fit there is
  optimal). A probe whose searches run out of candidates proves its capacity infeasible, which
  raises the bound above it. Probes are kept and resumed across rounds.
* Peaks are multiples of ``step``, the gcd of the free sizes and alignments and of the fixed
  offsets and sizes (every canonical offset is built from those), so bounds round up to it.
* The first plan is TFLM's greedy one (when aligned), so a plan exists from the start.

Fixed buffers are obstacles that free buffers must clear; they may overlap each other. Free
buffers of size zero sit at offset 0, where they share no byte with anything.
"""

from __future__ import annotations

import importlib
import logging
import math
import time
from dataclasses import dataclass, field
from functools import reduce
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from arena.allocators.problem import Buffer, Plan, PlanStatus, Problem, peak_of
from arena.allocators.tflm_greedy import tflm_greedy
from arena.errors import ArenaError

if TYPE_CHECKING:
    from arena.allocators import _exact_search as core
else:

    class _LazyCore:
        """The jitted search core, imported on first use: importing it imports numba (~0.5 s).

        ``exact`` returns before touching it when a heuristic already meets the lower bound,
        so most models are planned without numba at all.
        """

        def __getattr__(self, name: str) -> Any:
            return getattr(importlib.import_module("arena.allocators._exact_search"), name)

    core = _LazyCore()

logger = logging.getLogger(__name__)

_Int64s = npt.NDArray[np.int64]

#: The preorder keys: each letter sorts by one buffer property, largest first.
_PREORDER_KEYS = {"W": "width", "A": "area", "T": "section total", "Z": "size"}
_RANK_ROOM_PER_BUFFER = 16  # trail room for re-ranking split-off partitions, per buffer
_CHUNK_SECONDS = 0.05  # how long one call into the jitted search may run between clock checks
_NODE_LIMIT = 2**62  # "no limit", within the core's int64
_MAX_CHUNK = 2**40  # placements per call into the core, at most
_FIRST_SLICE_SECONDS = 0.05  # the minimiser's first time slice per question
_KEPT_PROBES = 4  # paused probes kept for resuming, each a few MB at most


@dataclass(frozen=True, slots=True, kw_only=True)
class ExactOptions:
    """How long the exact allocator may search, and which of its pruning rules to use.

    Every rule keeps the search complete on its own and in any combination: switching one off
    only makes the search slower (the tests run all combinations; the benchmark shows what each
    buys).

    Attributes
    ----------
    time_limit_seconds
        Wall-clock limit on the search; the best plan found so far is returned then. The first
        call on a machine also compiles the search core (seconds, once; later processes load
        it from numba's cache), which is not counted.
    minimize
        With ``problem.capacity``: after a fit is found, go on lowering the peak until it is
        proven minimal or time runs out. Without a capacity the peak is always minimised.
    canonical_order
        Place buffers in non-decreasing offset order, equal offsets in preorder.
    dominance
        Never place a buffer at or above the top (floor + size) of an unplaced buffer, which
        could drop into the gap below and lower the sum of offsets.
    section_bounds
        Prune when a section (the buffers live at one step) cannot fit its unplaced bytes
        between its floor and the capacity.
    unplaced_floor
        Raise a section's floor to the lowest floor of its unplaced buffers.
    monotonic_floor
        Raise every section's floor to the offset just placed (with ``canonical_order``).
    hatless_pruning
        When a buffer with nothing unplaced over its lifetime fails, skip the node's other
        candidates: its floor is final, so it has to go first.
    decomposition
        Split the search where no unplaced buffer crosses a section boundary, solve the sides
        one after the other, and on failure jump back to the split.
    restarts
        Take turns between the static preorders with a growing node limit; without this,
        one search in the first preorder runs until it ends.
    preorders
        The static preorders, each a string of keys: W lifetime width, A area (size x width),
        T the largest section total the buffer is in, Z size; all largest first, ties by index.
    """

    time_limit_seconds: float = 10.0
    minimize: bool = True
    canonical_order: bool = True
    dominance: bool = True
    section_bounds: bool = True
    unplaced_floor: bool = True
    monotonic_floor: bool = True
    hatless_pruning: bool = True
    decomposition: bool = True
    restarts: bool = True
    preorders: tuple[str, ...] = ("WAT", "TAW", "TWA")

    def __post_init__(self) -> None:
        if not self.time_limit_seconds >= 0:
            raise ArenaError(f"time limit {self.time_limit_seconds} s is not a non-negative number")
        if not self.preorders or any(not key or set(key) - set(_PREORDER_KEYS) for key in self.preorders):
            raise ArenaError(f"preorders {self.preorders!r}: each must be letters of {''.join(_PREORDER_KEYS)}")

    @property
    def rules(self) -> int:
        """The pruning rules as the search core's bit set."""
        switches = (
            (self.canonical_order, core.CANONICAL),
            (self.dominance, core.DOMINANCE),
            (self.section_bounds, core.SECTION_BOUNDS),
            (self.unplaced_floor, core.UNPLACED_FLOOR),
            (self.monotonic_floor, core.MONOTONIC_FLOOR),
            (self.hatless_pruning, core.HATLESS),
            (self.decomposition, core.DECOMPOSE),
        )
        return sum(bit for enabled, bit in switches if enabled)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Setup:
    """The tables of one problem, built once for every search on it."""

    free: _Int64s  # problem indices of the searched buffers, in the core's numbering
    tables: core.Tables  # with placeholder preorder keys
    preorder: dict[str, _Int64s]  # per key letter: the property, per searched buffer
    totals: _Int64s  # bytes per section
    cuts: _Int64s  # buffers across each section boundary
    section_trail: int  # room the section-floor trail may need on one path
    step: int
    lower_bound: int


def _sections(firsts: _Int64s, lasts: _Int64s) -> tuple[_Int64s, _Int64s, int]:
    """Each buffer's section range: sections are the steps where some buffer dies."""
    steps = np.unique(lasts)
    lo = np.searchsorted(steps, firsts, side="left").astype(np.int64)
    hi = np.searchsorted(steps, lasts, side="right").astype(np.int64)
    return lo, hi, int(steps.size)


def _csr(rows: _Int64s, columns: _Int64s, count: int) -> tuple[_Int64s, _Int64s]:
    order = np.lexsort((columns, rows))
    pointer = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=count), out=pointer[1:])
    return pointer, columns[order].astype(np.int64)


def _conflicts(lo: _Int64s, hi: _Int64s, first_buffer: _Int64s) -> tuple[_Int64s, _Int64s]:
    """Which buffers live at a common step, as CSR lists, in O(n) memory.

    Two buffers meet exactly when their section ranges intersect (the later death step of the
    two is a section where both live). Buffers are numbered by first section, so those that
    meet buffer b are among the first ``first_buffer[hi[b]]`` and end after b's first section.
    """
    lists = []
    for buffer in range(lo.size):
        prefix = int(first_buffer[hi[buffer]])
        others = np.flatnonzero(hi[:prefix] > lo[buffer])
        lists.append(others[others != buffer])
    pointer = np.zeros(lo.size + 1, dtype=np.int64)
    np.cumsum([others.size for others in lists], out=pointer[1:])
    return pointer, np.concatenate([np.zeros(0, dtype=np.int64), *lists]).astype(np.int64)


def _obstacles(problem: Problem, free: _Int64s) -> tuple[_Int64s, _Int64s]:
    """Per free buffer, the byte ranges of the fixed buffers live with it, by low end."""
    fixed = [b for b in problem.buffers if b.fixed_offset is not None and b.size > 0]
    pointer = np.zeros(free.size + 1, dtype=np.int64)
    lows: list[int] = []
    highs: list[int] = []
    for row, index in enumerate(free):
        buffer = problem.buffers[int(index)]
        live = sorted(
            (f.fixed_offset, f.fixed_offset + f.size)
            for f in fixed
            if f.overlaps_in_time(buffer) and f.fixed_offset is not None
        )
        lows += [lo for lo, _ in live]
        highs += [hi for _, hi in live]
        pointer[row + 1] = len(lows)
    return pointer, np.asarray([lows, highs], dtype=np.int64).reshape(2, len(lows))


def _lower_bound(problem: Problem, free: _Int64s, step: int) -> int:
    """The max-load bound, counting the bytes that live fixed buffers cover below each height.

    At a step where free buffers of ``load`` bytes live, the peak P must leave ``load`` bytes
    of [0, P) uncovered by the fixed buffers live there. The largest such P is reached at a step
    where some buffer starts. Fixed buffers may overlap each other, so their sizes are not
    simply added (``problem.lower_bound_bytes()`` adds them).
    """
    bound = max(
        (b.fixed_offset + b.size for b in problem.buffers if b.fixed_offset is not None), default=0
    )  # a fixed buffer counts even when empty: the peak is its highest end
    fixed = [b for b in problem.buffers if b.fixed_offset is not None and b.size > 0]
    start, loads = Problem(buffers=tuple(problem.buffers[i] for i in free.tolist())).load_per_step()
    if not loads.size:
        return -(-bound // step) * step
    moments = {b.first for b in problem.buffers} if fixed else {start + int(np.argmax(loads))}
    for moment in sorted(m for m in moments if 0 <= m - start < loads.size):
        load = int(loads[moment - start])
        covered = sorted(
            (b.fixed_offset, b.fixed_offset + b.size)
            for b in fixed
            if b.first <= moment <= b.last and b.fixed_offset is not None
        )
        height = space = 0  # walk up the covered ranges until ``load`` free bytes are passed
        for lo, hi in covered:
            if lo > height and space + lo - height >= load:
                break
            space += max(lo - height, 0)
            height = max(height, hi)
        bound = max(bound, height + load - space)
    return -(-bound // step) * step


def _setup(problem: Problem) -> _Setup:
    """Number the free buffers by first section and build the tables the core reads."""
    candidates = [i for i, b in enumerate(problem.buffers) if b.fixed_offset is None and b.size > 0]
    free = np.asarray(candidates, dtype=np.int64)
    sizes, firsts, lasts = (column[free] for column in (problem.sizes, problem.firsts, problem.lasts))
    lo, hi, count = _sections(firsts, lasts)
    order = np.lexsort((free, hi, lo))
    free, sizes, firsts, lasts, lo, hi = (a[order] for a in (free, sizes, firsts, lasts, lo, hi))
    aligns = np.asarray([problem.buffers[int(i)].alignment for i in free], dtype=np.int64)
    fixed = [b for b in problem.buffers if b.fixed_offset is not None]  # empty ones too: an end
    step = (
        reduce(
            math.gcd,
            [
                *sizes.tolist(),
                *(a for a in aligns.tolist() if a > 1),
                *(b.size for b in fixed),
                *(b.fixed_offset or 0 for b in fixed),
            ],
            0,
        )
        or 1
    )
    first_buffer = np.searchsorted(lo, np.arange(count + 1)).astype(np.int64)
    conflict_ptr, conflict = _conflicts(lo, hi, first_buffer)
    spans = hi - lo
    members = np.repeat(np.arange(free.size), spans)
    member_sections = np.repeat(lo, spans) + np.arange(members.size) - np.repeat(np.cumsum(spans) - spans, spans)
    member_ptr, member = _csr(member_sections, members, count)
    totals = np.bincount(member_sections, weights=sizes[members], minlength=count).astype(np.int64)
    cuts = np.zeros(max(count, 1), dtype=np.int64)
    np.add.at(cuts, lo, 1)
    np.add.at(cuts, np.maximum(hi - 1, 0), -1)
    cuts = np.cumsum(cuts)
    obstacle_ptr, obstacles = _obstacles(problem, free)
    tables = core.Tables(
        buffers=np.stack([sizes, aligns, free, lo, hi]).astype(np.int64),
        keys=np.zeros((1, free.size), dtype=np.int64),
        key_total=np.zeros(1, dtype=np.bool_),
        first_buffer=first_buffer,
        conflict_ptr=conflict_ptr,
        conflict=conflict,
        member_ptr=member_ptr,
        member=member,
        obstacle_ptr=obstacle_ptr,
        obstacles=obstacles,
    )
    widths = lasts - firsts + 1
    neighbour_span = np.zeros(free.size, dtype=np.int64)
    for b in range(free.size):
        others = conflict[conflict_ptr[b] : conflict_ptr[b + 1]]
        if others.size:
            neighbour_span[b] = hi[others].max() - lo[others].min()
    return _Setup(
        free=free,
        tables=tables,
        totals=totals,
        cuts=cuts,
        preorder={
            "W": widths,
            "A": widths * sizes,
            "Z": sizes,
            "T": np.asarray([totals[a:b].max() for a, b in zip(lo, hi, strict=True)], dtype=np.int64),
        },
        section_trail=int((spans + neighbour_span).sum()) + 1,
        step=step,
        lower_bound=_lower_bound(problem, free, step),
    )


def _with_preorder(setup: _Setup, preorder: str) -> core.Tables:
    """The tables with ``preorder``'s keys (T rows are recomputed as partitions split off)."""
    keys = np.stack([setup.preorder[letter] for letter in preorder]).astype(np.int64)
    key_total = np.asarray([letter == "T" for letter in preorder], dtype=np.bool_)
    return setup.tables._replace(keys=keys, key_total=key_total)


def _new_state(setup: _Setup, preorder: str, rules: int) -> core.State:
    """A fresh search: buffers ranked, top-level partitions queued (``run_search`` does the rest)."""
    tables = setup.tables
    count, sections = setup.free.size, setup.totals.size
    rank = np.empty(count, dtype=np.int64)  # keys largest first, then by problem index
    rank[np.lexsort([setup.free] + [-setup.preorder[letter] for letter in reversed(preorder)])] = np.arange(count)
    state = core.State(
        buffers=np.stack([np.full(count, core.NO_OFFSET), np.zeros(count), rank]).astype(np.int64),
        sections=np.stack([np.zeros(sections), setup.totals, setup.cuts[:sections], np.zeros(sections)]).astype(
            np.int64
        ),
        nodes=np.zeros((count + 1, core.NODE_ROWS), dtype=np.int64),
        trail=np.zeros((3, tables.conflict.size + setup.section_trail + _RANK_ROOM_PER_BUFFER * count), dtype=np.int64),
        pending=np.zeros((3, sections + 1), dtype=np.int64),
        counters=np.zeros(core.COUNTERS, dtype=np.int64),
    )
    state.counters[core.RANK_ROOM] = _RANK_ROOM_PER_BUFFER * count
    starts = [0]  # top-level partitions: where no buffer crosses a boundary, unless told not to
    if rules & core.DECOMPOSE:
        starts += [b + 1 for b in range(sections - 1) if setup.cuts[b] == 0]
    ends = starts[1:] + [sections]
    for top, (lo, hi) in enumerate(reversed(list(zip(starts, ends, strict=True)))):
        state.pending[:, top] = lo, hi, -1
    state.counters[core.PENDING] = len(starts)
    return state


class _Probe:
    """The searches that ask whether one capacity fits: one per preorder, paused between turns.

    MiniMalloc's round robin runs each preorder's search up to a node limit, starts the next,
    and doubles the limit after each round, restarting every search. A search is deterministic,
    so resuming it to the doubled limit reaches the same nodes as restarting it, without
    repeating the first half; and a probe kept between questions resumes where it stopped.
    """

    def __init__(self, setup: _Setup, capacity: int, options: ExactOptions) -> None:
        self.capacity, self.rules = capacity, options.rules
        preorders = options.preorders if options.restarts else options.preorders[:1]
        self.searches = [(_with_preorder(setup, p), _new_state(setup, p, self.rules)) for p in preorders]
        self.limit = 2 * max(setup.free.size, 16) if options.restarts else _NODE_LIMIT
        self.turn = 0
        self.chunk = 256  # placements per call into the core, tuned to about _CHUNK_SECONDS
        self.status = core.RUNNING
        self.offsets: tuple[int, ...] = ()

    def run(self, deadline: float) -> int:
        """Search on until an answer or ``deadline``: FOUND, EXHAUSTED or RUNNING."""
        while self.status == core.RUNNING and time.perf_counter() < deadline:
            tables, state = self.searches[self.turn]
            if state.counters[core.NODES] >= self.limit:
                self.turn = (self.turn + 1) % len(self.searches)
                self.limit = min(self.limit * (2 if self.turn == 0 else 1), _NODE_LIMIT)
                continue
            began = time.perf_counter()
            self.status = core.run_search(tables, state, self.capacity, self.rules, self.limit, self.chunk)
            spent = max(time.perf_counter() - began, 1e-6)
            # Capped: a run of calls that each return at once (the node limit reached) would grow
            # it fourfold per call past the core's int64.
            self.chunk = max(256, min(self.chunk * 4, int(self.chunk * _CHUNK_SECONDS / spent), _MAX_CHUNK))
            if self.status == core.FOUND:
                self.offsets = tuple(int(o) for o in state.buffers[core.OFFSET])
        return self.status

    def counts(self) -> tuple[int, int]:
        """Nodes and backtracks so far, over all its searches."""
        return (
            sum(int(state.counters[core.NODES]) for _, state in self.searches),
            sum(int(state.counters[core.BACKTRACKS]) for _, state in self.searches),
        )


def _compile() -> None:
    """Have numba compile the core (once per machine) or load it from its cache (once per process).

    Done before the clock starts, so that compiling does not eat the time limit.
    """
    tiny = _setup(Problem(buffers=(Buffer(name="warm-up", size=1, first=0, last=0),)))
    _Probe(tiny, 1, ExactOptions()).run(math.inf)


def _stacked(problem: Problem) -> tuple[int, ...]:
    """A valid plan, if a poor one: the free buffers stacked above the fixed ones."""
    top = max((b.fixed_offset + b.size for b in problem.buffers if b.fixed_offset is not None), default=0)
    offsets = []
    for buffer in problem.buffers:
        if buffer.fixed_offset is not None:
            offsets.append(buffer.fixed_offset)
        elif buffer.size == 0:
            offsets.append(0)
        else:
            offsets.append(-(-top // buffer.alignment) * buffer.alignment)
            top = offsets[-1] + buffer.size
    return tuple(offsets)


def _first_plan(problem: Problem) -> tuple[int, ...]:
    """TFLM's greedy plan when it respects every alignment (TFLM itself ignores them), else a stack."""
    offsets = tflm_greedy(problem).offsets
    if all(o % b.alignment == 0 for o, b in zip(offsets, problem.buffers, strict=True)):
        return offsets
    return _stacked(problem)


def _full_offsets(problem: Problem, setup: _Setup, found: tuple[int, ...]) -> tuple[int, ...]:
    offsets = [b.fixed_offset if b.fixed_offset is not None else 0 for b in problem.buffers]
    for index, offset in zip(setup.free.tolist(), found, strict=True):
        offsets[index] = offset
    return tuple(offsets)


@dataclass(slots=True)
class _Progress:
    """The best packing and bound so far, and the probes (by capacity) still worth resuming."""

    offsets: tuple[int, ...]
    peak: int
    lower: int
    probes: dict[int, _Probe] = field(default_factory=dict)
    nodes: int = 0  # counts of the probes let go
    backtracks: int = 0
    searches: int = 0

    def let_go(self, capacity: int) -> None:
        probe = self.probes.pop(capacity)
        nodes, backtracks = probe.counts()
        self.nodes, self.backtracks = self.nodes + nodes, self.backtracks + backtracks
        self.searches += len(probe.searches)

    def stats(self) -> dict[str, float]:
        """Search counters over every probe, and the bound."""
        kept = [probe.counts() for probe in self.probes.values()]
        return {
            "nodes": self.nodes + sum(n for n, _ in kept),
            "backtracks": self.backtracks + sum(b for _, b in kept),
            "searches": self.searches + sum(len(p.searches) for p in self.probes.values()),
            "bound_bytes": self.lower,
        }


def _ask(
    problem: Problem, setup: _Setup, progress: _Progress, capacity: int, options: ExactOptions, deadline: float
) -> int:
    """Ask whether ``capacity`` fits by ``deadline``, and fold the answer into ``progress``.

    The probe for ``capacity`` is resumed if one is kept; probes that can no longer tell
    anything new (at or above the best peak, below the bound) are let go, and the least
    recently asked beyond _KEPT_PROBES.
    """
    if capacity < progress.lower:
        return core.EXHAUSTED
    probe = progress.probes.pop(capacity, None) or _Probe(setup, capacity, options)
    progress.probes[capacity] = probe  # (re)inserted last: the dict runs from least recent
    status = probe.run(deadline)
    if status == core.FOUND:
        offsets = _full_offsets(problem, setup, probe.offsets)
        if peak_of(problem, offsets) < progress.peak:
            progress.offsets, progress.peak = offsets, peak_of(problem, offsets)
    elif status == core.EXHAUSTED:
        progress.lower = max(progress.lower, capacity + setup.step)
    for kept in list(progress.probes):
        if not progress.lower <= kept < progress.peak or len(progress.probes) > _KEPT_PROBES:
            progress.let_go(kept)
    logger.debug(
        "capacity %d: %s; best %d, bound %d",
        capacity,
        ("undecided", "fits", "infeasible")[status],
        progress.peak,
        progress.lower,
    )
    return status


def _minimize(problem: Problem, setup: _Setup, progress: _Progress, options: ExactOptions, deadline: float) -> None:
    """Lower the peak and raise the bound until they meet or time runs out.

    Each round asks below the best peak by a stride that doubles after a fit and halves after a
    miss (for two time slices: the likeliest question to pay off), then at the bound (one
    slice; a fit there is optimal). A fit lowers the peak; a search that runs out of candidates
    raises the bound above the capacity it was asked about. The slice doubles after a round
    that moved neither.
    """
    slice_seconds, stride = _FIRST_SLICE_SECONDS, 1
    while progress.peak > progress.lower and time.perf_counter() < deadline:
        before = (progress.peak, progress.lower)
        target = max(progress.peak - stride * setup.step, progress.lower)
        until = min(deadline, time.perf_counter() + 2 * slice_seconds)
        found = _ask(problem, setup, progress, target, options, until)
        stride = stride * 2 if found == core.FOUND else max(stride // 2, 1)
        if progress.lower < min(target, progress.peak):
            until = min(deadline, time.perf_counter() + slice_seconds)
            _ask(problem, setup, progress, progress.lower, options, until)
        if (progress.peak, progress.lower) == before:
            slice_seconds *= 2


#: Heuristics tried before the search, cheapest first (each a few ms on the shared models);
#: hill-climb stops at the bound or after ``_HILL_CLIMB_SECONDS`` (on mlperf_vww_96 it is the
#: only one to reach the bound, in about 1 ms).
_HEURISTICS = ("tflm", "best-fit", "breadth", "hill-climb")
_HILL_CLIMB_SECONDS = 0.05


def _step_and_bound(problem: Problem) -> tuple[np.ndarray[Any, np.dtype[np.int64]], int]:
    """The free buffers and the max-load lower bound, rounded to the search's step (no numba)."""
    free = np.asarray(
        [i for i, b in enumerate(problem.buffers) if b.fixed_offset is None and b.size > 0], dtype=np.int64
    )
    fixed = [b for b in problem.buffers if b.fixed_offset is not None]
    parts = [
        *(problem.buffers[int(i)].size for i in free),
        *(problem.buffers[int(i)].alignment for i in free if problem.buffers[int(i)].alignment > 1),
        *(b.size for b in fixed),
        *(b.fixed_offset or 0 for b in fixed),
    ]
    step = reduce(math.gcd, parts, 0) or 1
    return free, _lower_bound(problem, free, step)


def _heuristic_at_bound(problem: Problem) -> Plan | None:
    """A heuristic's plan when it already meets the lower bound (then it is optimal), else None.

    The bound is the same max-load bound the search starts from (``_lower_bound``), so a plan
    at it is proven minimal without the search and without importing numba. The plan is
    checked by the independent validator and against every alignment before it is trusted.
    With a capacity the plan must also fit it (a miss is left to the search to prove).
    """
    from arena.allocators.registry import run_allocator
    from arena.allocators.validate import validate_plan

    started = time.perf_counter()
    free, bound = _step_and_bound(problem)
    for name in _HEURISTICS:
        plan = run_allocator(name, problem, time_limit_seconds=_HILL_CLIMB_SECONDS if name == "hill-climb" else None)
        if plan.peak_bytes > bound or (problem.capacity is not None and plan.peak_bytes > problem.capacity):
            continue
        aligned = all(o % b.alignment == 0 for o, b in zip(plan.offsets, problem.buffers, strict=True))
        if not aligned or not validate_plan(problem, plan).ok:
            continue
        return Plan(
            offsets=plan.offsets,
            peak_bytes=plan.peak_bytes,
            allocator="exact",
            status=PlanStatus.OPTIMAL,
            lower_bound_bytes=bound,
            stats={
                "nodes": 0,
                "backtracks": 0,
                "searches": 0,
                "bound_bytes": bound,
                "seconds": time.perf_counter() - started,
                "infeasible": 0,
                "heuristic": float(_HEURISTICS.index(name)),
            }
            | ({} if problem.capacity is None else {"fit_seconds": time.perf_counter() - started}),
        )
    return None


def exact(problem: Problem, options: ExactOptions = ExactOptions()) -> Plan:
    """The smallest arena, proven by search, or the best found when time runs out.

    Parameters
    ----------
    problem
        Buffers to place. Fixed buffers stay where they are (they may overlap each other).
        With ``problem.capacity`` the goal is a packing within it.
    options
        Time limit, whether to minimise below the capacity, and the pruning rules.

    Returns
    -------
    Plan
        The best packing found, with ``lower_bound_bytes`` the best bound proven (the
        max-load bound net of fixed buffers, or higher where the search proved it). Status:
        ``optimal`` when the peak equals that bound; ``feasible`` when a capacity was given
        and the peak fits it but is not proven minimal; ``infeasible`` when the search proved
        that nothing fits the capacity (the plan is then the best found above it, and
        ``stats["infeasible"]`` is 1); ``timeout`` when time ran out first. ``stats`` also
        holds ``nodes``, ``backtracks``, ``searches``, ``seconds``, ``bound_bytes`` and, once
        a packing fits the capacity, ``fit_seconds``.

    Notes
    -----
    See the module docstrings of ``arena.allocators.exact`` (driver, bounds) and
    ``arena.allocators._exact_search`` (search and the completeness of each rule).

    References
    ----------
    M. D. Moffitt, "MiniMalloc: A Lightweight Memory Allocator for Hardware-Accelerated Machine
    Learning", ASPLOS 2024, https://doi.org/10.1145/3623278.3624752 (canonical solutions,
    section inference, dominance, decomposition, preorder round robin), and its source,
    github.com/google/minimalloc ``src/solver.cc``.
    M. Maas et al., "TelaMalloc: Efficient On-Chip Memory Allocation for Production Machine
    Learning Accelerators", ASPLOS 2023, https://doi.org/10.1145/3567955.3567961.

    Examples
    --------
    >>> from arena.allocators.problem import Buffer
    >>> p = Problem(buffers=(Buffer(name="a", size=32, first=0, last=1),
    ...                      Buffer(name="b", size=16, first=1, last=2),
    ...                      Buffer(name="c", size=32, first=2, last=3),
    ...                      Buffer(name="d", size=16, first=0, last=0)))
    >>> plan = exact(p)   # a and c never meet, so both fit beside b: 48 bytes
    >>> plan.peak_bytes, plan.status.value
    (48, 'optimal')
    """
    started = time.perf_counter()
    setup = _setup(problem)
    if setup.free.size:
        _compile()
    deadline = time.perf_counter() + options.time_limit_seconds
    first = _first_plan(problem)
    progress = _Progress(offsets=first, peak=peak_of(problem, first), lower=setup.lower_bound)
    capacity = problem.capacity
    if capacity is not None and setup.free.size and progress.peak > capacity:
        _ask(problem, setup, progress, capacity // setup.step * setup.step, options, deadline)
    fitted = capacity is not None and progress.peak <= capacity
    fit_seconds = time.perf_counter() - started
    if setup.free.size and (capacity is None or options.minimize):
        _minimize(problem, setup, progress, options, deadline)
    infeasible = capacity is not None and progress.lower > capacity
    if infeasible:
        status = PlanStatus.INFEASIBLE
    elif progress.peak == progress.lower:
        status = PlanStatus.OPTIMAL
    elif capacity is not None and progress.peak <= capacity:
        status = PlanStatus.FEASIBLE
    else:
        status = PlanStatus.TIMEOUT
    stats = progress.stats() | {"seconds": time.perf_counter() - started, "infeasible": int(infeasible)}
    if fitted:
        stats["fit_seconds"] = fit_seconds
    return Plan(
        offsets=progress.offsets,
        peak_bytes=progress.peak,
        allocator="exact",
        status=status,
        lower_bound_bytes=progress.lower,
        stats=stats,
    )


def exact_within(problem: Problem, *, time_limit_seconds: float | None = None) -> Plan:
    """The exact allocator with a plain time limit, the registry's calling convention.

    When TFLM's greedy plan, best-fit, breadth-first or a short hill climb meets the lower bound, that plan
    is returned as optimal (``stats["heuristic"]`` is its index in ``_HEURISTICS``) and neither
    the search nor numba is loaded; ``exact`` itself always searches, so its tests exercise the
    search. Without a limit it searches for the registry's default time for ``exact``.

    >>> from arena.allocators.problem import Buffer, Problem
    >>> exact_within(Problem(buffers=(Buffer(name="a", size=16, first=0, last=0),))).peak_bytes
    16
    """
    from arena.allocators.registry import ALLOCATORS

    quick = _heuristic_at_bound(problem)
    if quick is not None:  # optimal by the bound: no search, no numba
        return quick
    seconds = time_limit_seconds if time_limit_seconds is not None else ALLOCATORS["exact"].default_seconds
    return exact(problem, ExactOptions() if seconds is None else ExactOptions(time_limit_seconds=seconds))
