"""The exact allocator's search core: a resumable depth-first search over canonical packings.

This module holds only the inner loop, written in the subset of Python that numba compiles
(``cache=True``: the machine code is stored beside the module, so only the first run on a
machine pays for compiling). Building the tables, choosing capacities and turning offsets into
a plan happen in ``arena.allocators.exact``; read that module's docstring first.

The search decides one question: can the free buffers be packed with every end at or below
``capacity``? Each node places one buffer at its *floor*: the lowest aligned offset above all
placed buffers it conflicts with that also clears its obstacles (the fixed buffers). Such
packings are MiniMalloc's canonical solutions (Moffitt, ASPLOS 2024): any packing can be pushed
down until every buffer rests on a conflicting buffer, an obstacle or zero, without raising
its peak, and listing a pushed-down packing by (offset, rank) gives a path of this search.
Take a best packing with the least sum of offsets: each rule below removes only paths that
cannot be that packing's path, so every subset of the rules keeps the search complete.

* ``CANONICAL``: offsets along a path never decrease (equal offsets go in rank order).
* ``DOMINANCE``: never place a buffer at or above the top (floor + size) of an unplaced one;
  that one could then drop to its floor, below everything placed later, lowering the sum.
* ``SECTION_BOUNDS``: a section (the buffers live at one step: a clique) must fit its unplaced
  bytes between its floor (its highest placed end) and the capacity.
* ``UNPLACED_FLOOR``: a section's floor is at least the lowest floor of its unplaced buffers.
* ``MONOTONIC_FLOOR``: and, with ``CANONICAL``, at least the offset just placed.
* ``HATLESS``: when a buffer with no unplaced buffer over its lifetime has failed, its floor can
  no longer change, so a path through any later candidate would have to place it out of
  order: the node is done.
* ``DECOMPOSE``: when no unplaced buffer crosses a section boundary any more, the two sides are
  independent. They are solved one after the other, each in its own canonical order; when one
  fails, the search jumps back over the other's choices to the placement that split them.

All state lives in a few numpy arrays, so that the driver can stop the search after a budget,
read the clock and resume it where it stopped. The arrays are two-dimensional with named rows
(``state.buffers[FLOOR, b]``; a node is a row: ``state.nodes[depth, LO]``), because numba's
compile time grows with the number of arrays passed; and constants passed to jitted helpers
are wrapped in ``np.int64``, since numba compiles a helper again for each literal argument.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

# Bits of the ``rules`` argument, one per pruning rule (see the module docstring).
CANONICAL = 1
DOMINANCE = 2
SECTION_BOUNDS = 4
UNPLACED_FLOOR = 8
MONOTONIC_FLOOR = 16
HATLESS = 32
DECOMPOSE = 64

# What ``run_search`` returns.
RUNNING = 0  # a budget ran out; call again to go on
FOUND = 1  # ``state.buffers[OFFSET]`` holds a packing within the capacity
EXHAUSTED = 2  # no packing within the capacity exists

# Rows of ``Tables.buffers`` (fixed), then of ``State.buffers``, ``State.sections`` and
# ``State.nodes`` (columns of the row of node d, which places one buffer).
SIZE, ALIGN, INDEX, SECTION_LO, SECTION_HI = range(5)
OFFSET, FLOOR, RANK = range(3)
SECTION_FLOOR, TOTAL, CUTS, STAMP = range(4)
(
    LO,
    HI,
    CURRENT,
    CURRENT_RANK,
    OWNER,
    LOWEST_TOP,
    FULLEST,
    TRIED,
    TRIED_RANK,
    PLACED,
    HATLESS_NODE,
    TRAIL_MARK,
    PENDING_MARK,
) = range(13)
NODE_ROWS = 13
# Slots of ``State.counters``.
DEPTH, NODES, ATTEMPTS, BACKTRACKS, TRAIL, RANKS, RANK_ROOM, PENDING, STARTED = range(9)
COUNTERS = 9
# What a trail entry restores (its row 0): a buffer's floor or rank, or a section's floor.
_BUFFER_FLOOR, _BUFFER_RANK, _SECTION_FLOOR = range(3)

NO_OFFSET = -1
_NOT_ROOT = -2  # OWNER of a node that goes on with its parent's partition
_INFINITY = 2**62

#: Fixed tables of one problem. Buffers are the free ones, numbered 0..n-1 in order of their
#: first section; sections are the cliques of buffers live at the steps where some buffer dies,
#: in step order, and buffer b lives in sections ``SECTION_LO .. SECTION_HI - 1``. The buffers
#: whose first section is in lo..hi-1 are ``first_buffer[lo] .. first_buffer[hi] - 1``, so a
#: partition's buffers are one range of numbers. The preorder sorts by the rows of ``keys``,
#: largest first, then by INDEX (the problem's numbering); a row flagged in ``key_total`` is
#: computed when a partition opens: the most unplaced bytes in any of the buffer's sections.
#: ``conflict`` and ``member`` are CSR lists (buffers in conflict; buffers in a section), and
#: ``obstacles`` holds per buffer the byte ranges (row 0 low, row 1 high) of the fixed buffers
#: live with it, sorted by low end.
Tables = namedtuple(
    "Tables",
    "buffers keys key_total first_buffer conflict_ptr conflict member_ptr member obstacle_ptr obstacles",
)

#: The search state: per buffer OFFSET (NO_OFFSET while unplaced), FLOOR and RANK (position in
#: its partition's preorder: lower goes first among equal floors); per section its floor (the
#: highest end placed in it, or more), TOTAL unplaced bytes and CUTS (unplaced buffers across
#: the boundary after it); per node the columns above; the trail of old values to undo (rows:
#: kind, which buffer or section, old value); the queue of partitions waiting to be solved
#: (rows lo, hi, owner); and the counters. The trail has room for every floor change on a path
#: and RANK_ROOM rank changes; when those run out, partitions keep their old ranks. A node's
#: OWNER is where to go back to when it fails: its parent, or for the first node of a partition
#: the node whose placement split it off (-1 for a top-level partition).
State = namedtuple(
    "State",
    "buffers sections nodes trail pending counters",
)


@njit(cache=True, error_model="numpy")
def _round_up(value: int | np.int64, alignment: int) -> int:
    return int(-(-value // alignment) * alignment)


@njit(cache=True, error_model="numpy")
def _lift(tables: Tables, buffer: int, height: int | np.int64) -> int:
    """The lowest aligned offset >= ``height`` at which ``buffer`` clears its obstacles."""
    align = tables.buffers[ALIGN, buffer]
    size = tables.buffers[SIZE, buffer]
    offset = _round_up(height, align)
    for k in range(tables.obstacle_ptr[buffer], tables.obstacle_ptr[buffer + 1]):
        if tables.obstacles[1, k] <= offset:
            continue
        if tables.obstacles[0, k] >= offset + size:
            break  # sorted by low end: no later obstacle reaches down to this offset
        offset = _round_up(tables.obstacles[1, k], align)
    return offset


@njit(cache=True, error_model="numpy")
def _has_unplaced(state: State, lo: int, hi: int) -> bool:
    for section in range(lo, hi):
        if state.sections[TOTAL, section] > 0:
            return True
    return False


@njit(cache=True, error_model="numpy")
def _remember(state: State, kind: int, what: int, old: int) -> None:
    """Put an old value on the trail, to be written back by ``_undo``."""
    mark = state.counters[TRAIL]
    state.trail[0, mark] = kind
    state.trail[1, mark] = what
    state.trail[2, mark] = old
    state.counters[TRAIL] = mark + 1


@njit(cache=True, error_model="numpy")
def _rank_partition(tables: Tables, state: State, lo: int, hi: int) -> None:
    """Rank the unplaced buffers of sections ``lo .. hi - 1`` by the preorder, as things stand.

    MiniMalloc sorts each partition afresh when decomposition splits it off, with section
    totals counting only unplaced buffers. Old ranks go on the trail; when the trail is full
    they stay, which is safe: any ranking that stays fixed keeps the search complete.
    """
    first, last = tables.first_buffer[lo], tables.first_buffer[hi]
    rows = tables.keys.shape[0]
    keys = np.empty((rows + 1, last - first), dtype=np.int64)  # per column: keys, then -index
    buffers = np.empty(last - first, dtype=np.int64)  # the buffer of each column
    order = np.empty(last - first, dtype=np.int64)  # columns in preorder
    count = 0
    for buffer in range(first, last):
        if state.buffers[OFFSET, buffer] != NO_OFFSET:
            continue
        for row in range(rows):
            value = tables.keys[row, buffer]
            if tables.key_total[row]:
                value = 0
                for section in range(tables.buffers[SECTION_LO, buffer], tables.buffers[SECTION_HI, buffer]):
                    value = max(value, state.sections[TOTAL, section])
            keys[row, count] = value
        keys[rows, count] = -tables.buffers[INDEX, buffer]
        buffers[count] = buffer
        slot = count  # insertion sort, larger keys first: partitions that split off are small
        while slot > 0:
            row = 0
            while row < rows and keys[row, count] == keys[row, order[slot - 1]]:
                row += 1
            if keys[row, count] < keys[row, order[slot - 1]]:
                break
            order[slot] = order[slot - 1]
            slot -= 1
        order[slot] = count
        count += 1
    if state.counters[RANKS] + count > state.counters[RANK_ROOM]:
        return
    state.counters[RANKS] += count
    for position in range(count):
        buffer = buffers[order[position]]
        _remember(state, _BUFFER_RANK, buffer, state.buffers[RANK, buffer])
        state.buffers[RANK, buffer] = position


@njit(cache=True, error_model="numpy")
def _open(tables: Tables, state: State, depth: int, lo: int, hi: int, after: int | np.int64) -> None:
    """Set up node ``depth`` on the partition of sections ``lo .. hi - 1``.

    ``after`` is the buffer placed just before in the same partition, or -1 at its start.
    """
    lowest_top = _INFINITY  # the lowest floor + size of an unplaced buffer: DOMINANCE's limit
    for buffer in range(tables.first_buffer[lo], tables.first_buffer[hi]):
        if state.buffers[OFFSET, buffer] == NO_OFFSET:
            lowest_top = min(lowest_top, state.buffers[FLOOR, buffer] + tables.buffers[SIZE, buffer])
    fullest = lo  # the section with the most unplaced bytes, for ``_must_fail``
    for section in range(lo, hi):
        if state.sections[TOTAL, section] > state.sections[TOTAL, fullest]:
            fullest = section
    node = state.nodes[depth]
    node[LO], node[HI], node[LOWEST_TOP], node[FULLEST] = lo, hi, lowest_top, fullest
    node[TRIED], node[TRIED_RANK] = -1, -1
    node[CURRENT], node[CURRENT_RANK], node[OWNER] = 0, -1, _NOT_ROOT
    if after >= 0:
        node[CURRENT], node[CURRENT_RANK] = state.buffers[OFFSET, after], state.buffers[RANK, after]


@njit(cache=True, error_model="numpy")
def _must_fail(tables: Tables, state: State, depth: int, buffer: int, capacity: int, rules: int) -> bool:
    """A cheap look ahead: True when placing ``buffer`` would certainly fail ``_place``'s checks.

    With the section bounds and the monotonic floor, the node's fullest section must fit its
    unplaced bytes (less the buffer's own, if it lives there) above the buffer's offset. Most
    failed placements fail just so; this spares them the placing and undoing, and the search
    is the same.
    """
    offset, size = state.buffers[FLOOR, buffer], tables.buffers[SIZE, buffer]
    if offset + size > capacity:
        return True
    if not (rules & MONOTONIC_FLOOR and rules & CANONICAL and rules & SECTION_BOUNDS):
        return False
    fullest = state.nodes[depth, FULLEST]
    total = state.sections[TOTAL, fullest]
    if tables.buffers[SECTION_LO, buffer] <= fullest < tables.buffers[SECTION_HI, buffer]:
        total -= size
    return bool(total > 0 and offset + total > capacity)


@njit(cache=True, error_model="numpy")
def _next_candidate(tables: Tables, state: State, depth: int, rules: int) -> int:
    """Node ``depth``'s next choice in (floor, rank) order after the last one tried, or -1.

    Candidate lists are not stored: when the search comes back to a node the state is as it
    was when the node opened, so one scan finds the least key above the last one tried.
    """
    node = state.nodes[depth]
    best, best_floor, best_rank = -1, _INFINITY, 0
    for buffer in range(tables.first_buffer[node[LO]], tables.first_buffer[node[HI]]):
        if state.buffers[OFFSET, buffer] != NO_OFFSET:
            continue
        floor, rank = state.buffers[FLOOR, buffer], state.buffers[RANK, buffer]
        if floor < node[TRIED] or (floor == node[TRIED] and rank <= node[TRIED_RANK]):
            continue
        if floor > best_floor or (floor == best_floor and rank > best_rank):
            continue
        if rules & CANONICAL and (floor < node[CURRENT] or (floor == node[CURRENT] and rank < node[CURRENT_RANK])):
            continue
        if rules & DOMINANCE and floor >= node[LOWEST_TOP]:
            continue
        best, best_floor, best_rank = buffer, floor, rank
    if best >= 0:
        node[TRIED], node[TRIED_RANK] = best_floor, best_rank
    return best


@njit(cache=True, error_model="numpy")
def _is_hatless(tables: Tables, state: State, buffer: int) -> bool:
    """True when no unplaced buffer conflicts with ``buffer``."""
    for k in range(tables.conflict_ptr[buffer], tables.conflict_ptr[buffer + 1]):
        if state.buffers[OFFSET, tables.conflict[k]] == NO_OFFSET:
            return False
    return True


@njit(cache=True, error_model="numpy")
def _push_pending(state: State, lo: int, hi: int, owner: int) -> None:
    top = state.counters[PENDING]
    state.pending[0, top], state.pending[1, top], state.pending[2, top] = lo, hi, owner
    state.counters[PENDING] = top + 1


@njit(cache=True, error_model="numpy")
def _split(tables: Tables, state: State, parent: int) -> bool:
    """Queue the independent parts of ``parent``'s partition; False when it does not split."""
    placed = state.nodes[parent, PLACED]
    lo, hi = state.nodes[parent, LO], state.nodes[parent, HI]
    split = False  # only boundaries the placed buffer crossed can have dropped to zero cuts
    for boundary in range(max(lo, tables.buffers[SECTION_LO, placed]), min(hi, tables.buffers[SECTION_HI, placed]) - 1):
        split |= state.sections[CUTS, boundary] == 0
    if not split:
        return False
    end = hi
    for start in range(hi - 1, lo - 1, -1):  # right to left, so parts are solved left to right
        if start == lo or state.sections[CUTS, start - 1] == 0:
            if _has_unplaced(state, start, end):
                _push_pending(state, start, end, parent)
            end = start
    return True


@njit(cache=True, error_model="numpy")
def _enter(tables: Tables, state: State, depth: int, rules: int) -> bool:
    """Open node ``depth`` after its parent's placement; True when nothing is left to place."""
    parent = depth - 1
    if parent >= 0 and not (rules & DECOMPOSE and _split(tables, state, parent)):
        lo, hi = state.nodes[parent, LO], state.nodes[parent, HI]
        if _has_unplaced(state, lo, hi):
            _open(tables, state, depth, lo, hi, state.nodes[parent, PLACED])
            return False
    top = state.counters[PENDING] - 1
    if top < 0:
        return True
    state.counters[PENDING] = top
    lo, hi, owner = state.pending[0, top], state.pending[1, top], state.pending[2, top]
    if owner >= 0:
        _rank_partition(tables, state, lo, hi)
    _open(tables, state, depth, lo, hi, np.int64(-1))
    state.nodes[depth, OWNER] = owner
    return False


@njit(cache=True, error_model="numpy")
def _raise_floors(tables: Tables, state: State, placed: int, capacity: int, rules: int) -> bool:
    """Lift the floors of the unplaced buffers in conflict with ``placed``; False if one overflows."""
    top = state.buffers[OFFSET, placed] + tables.buffers[SIZE, placed]
    stamp = state.counters[ATTEMPTS]
    fits = True
    for k in range(tables.conflict_ptr[placed], tables.conflict_ptr[placed + 1]):
        other = tables.conflict[k]
        if state.buffers[OFFSET, other] != NO_OFFSET or top <= state.buffers[FLOOR, other]:
            continue
        _remember(state, _BUFFER_FLOOR, other, state.buffers[FLOOR, other])
        state.buffers[FLOOR, other] = _lift(tables, other, top)
        fits &= state.buffers[FLOOR, other] + tables.buffers[SIZE, other] <= capacity
        if rules & UNPLACED_FLOOR:
            for section in range(tables.buffers[SECTION_LO, other], tables.buffers[SECTION_HI, other]):
                state.sections[STAMP, section] = stamp
    return fits


@njit(cache=True, error_model="numpy")
def _set_section_floor(state: State, section: int, value: int) -> None:
    _remember(state, _SECTION_FLOOR, section, state.sections[SECTION_FLOOR, section])
    state.sections[SECTION_FLOOR, section] = value


@njit(cache=True, error_model="numpy")
def _lowest_unplaced_floor(tables: Tables, state: State, section: int) -> int:
    lowest = _INFINITY
    for k in range(tables.member_ptr[section], tables.member_ptr[section + 1]):
        member = tables.member[k]
        if state.buffers[OFFSET, member] == NO_OFFSET:
            lowest = min(lowest, state.buffers[FLOOR, member])
    return lowest


@njit(cache=True, error_model="numpy")
def _sections_fit(tables: Tables, state: State, depth: int, capacity: int, rules: int) -> bool:
    """Book node ``depth``'s placement in its sections and apply the section rules."""
    placed = state.nodes[depth, PLACED]
    offset, size = state.buffers[OFFSET, placed], tables.buffers[SIZE, placed]
    first, last = tables.buffers[SECTION_LO, placed], tables.buffers[SECTION_HI, placed]
    for section in range(first, last):
        _set_section_floor(state, section, offset + size)
        state.sections[TOTAL, section] -= size
        state.sections[CUTS, section] -= section < last - 1
    lo, hi = state.nodes[depth, LO], state.nodes[depth, HI]
    if rules & UNPLACED_FLOOR:
        for section in range(lo, hi):
            if state.sections[STAMP, section] == state.counters[ATTEMPTS]:
                lowest = _lowest_unplaced_floor(tables, state, section)
                if lowest != _INFINITY and lowest > state.sections[SECTION_FLOOR, section]:
                    _set_section_floor(state, section, lowest)
    if not rules & (SECTION_BOUNDS | MONOTONIC_FLOOR):
        return True
    monotonic = rules & MONOTONIC_FLOOR and rules & CANONICAL
    for section in range(lo, hi):
        total = state.sections[TOTAL, section]
        if total == 0:
            continue
        height = state.sections[SECTION_FLOOR, section]
        if monotonic:
            height = max(height, offset)
        if rules & SECTION_BOUNDS:
            height += total
        if height > capacity:
            return False
    return True


@njit(cache=True, error_model="numpy")
def _place(tables: Tables, state: State, depth: int, buffer: int, capacity: int, rules: int) -> bool:
    """Put ``buffer`` at its floor as node ``depth``'s choice; False when that leads nowhere."""
    node = state.nodes[depth]
    node[TRAIL_MARK] = state.counters[TRAIL]
    node[PENDING_MARK] = state.counters[PENDING]
    node[PLACED] = buffer
    state.buffers[OFFSET, buffer] = state.buffers[FLOOR, buffer]
    state.counters[ATTEMPTS] += 1  # also the stamp of the sections this placement touches
    node[HATLESS_NODE] = _is_hatless(tables, state, buffer)
    fits = _raise_floors(tables, state, buffer, capacity, rules)
    fits &= state.buffers[OFFSET, buffer] + tables.buffers[SIZE, buffer] <= capacity
    return _sections_fit(tables, state, depth, capacity, rules) and fits


@njit(cache=True, error_model="numpy")
def _undo(tables: Tables, state: State, target: int, top: int) -> None:
    """Take back the placements of nodes ``top`` down to ``target``, restoring the trails."""
    for depth in range(top, target - 1, -1):
        placed = state.nodes[depth, PLACED]
        first, last = tables.buffers[SECTION_LO, placed], tables.buffers[SECTION_HI, placed]
        state.buffers[OFFSET, placed] = NO_OFFSET
        for section in range(first, last):
            state.sections[TOTAL, section] += tables.buffers[SIZE, placed]
            state.sections[CUTS, section] += section < last - 1
    mark = state.nodes[target, TRAIL_MARK]
    for k in range(state.counters[TRAIL] - 1, mark - 1, -1):
        kind, what, old = state.trail[0, k], state.trail[1, k], state.trail[2, k]
        if kind == _BUFFER_FLOOR:
            state.buffers[FLOOR, what] = old
        elif kind == _BUFFER_RANK:
            state.buffers[RANK, what] = old
            state.counters[RANKS] -= 1
        else:
            state.sections[SECTION_FLOOR, what] = old
    state.counters[TRAIL] = mark
    state.counters[PENDING] = state.nodes[target, PENDING_MARK]


@njit(cache=True, error_model="numpy")
def _start(tables: Tables, state: State, rules: int) -> bool:
    """Set the first floors and open the root node; True when nothing is to place.

    The caller has queued the top-level partitions, set every OFFSET to NO_OFFSET and ranked
    the buffers (distinct ranks: equal keys would hide candidates from ``_next_candidate``).
    """
    for buffer in range(tables.buffers.shape[1]):
        state.buffers[FLOOR, buffer] = _lift(tables, buffer, np.int64(0))
    for section in range(state.sections.shape[1]):
        state.sections[SECTION_FLOOR, section] = 0
        if rules & UNPLACED_FLOOR:
            state.sections[SECTION_FLOOR, section] = _lowest_unplaced_floor(tables, state, section)
    state.counters[STARTED] = 1
    return _enter(tables, state, 0, rules)


@njit(cache=True, error_model="numpy")
def run_search(tables: Tables, state: State, capacity: int, rules: int, node_limit: int, attempt_budget: int) -> int:
    """Search on from where the state stands (from the start, for a new state).

    Stops after ``attempt_budget`` more placements tried, or once ``node_limit`` nodes (placements
    that passed every check) have been opened in all. Returns RUNNING (stopped: call again to go
    on, or give up), FOUND (``state.buffers[OFFSET]`` is a packing) or EXHAUSTED.
    """
    counters = state.counters
    if not counters[STARTED] and _start(tables, state, rules):
        return FOUND
    stop = counters[ATTEMPTS] + attempt_budget
    while counters[ATTEMPTS] < stop and counters[NODES] < node_limit:
        depth = counters[DEPTH]
        buffer = _next_candidate(tables, state, depth, rules)
        if buffer < 0:
            counters[BACKTRACKS] += 1
            owner = state.nodes[depth, OWNER]
            target = depth - 1 if owner == _NOT_ROOT else owner
            if target < 0:
                return EXHAUSTED
            _undo(tables, state, target, depth - 1)
            counters[DEPTH] = target
            if rules & HATLESS and state.nodes[target, HATLESS_NODE]:
                state.nodes[target, TRIED] = _INFINITY
            continue
        if _must_fail(tables, state, depth, buffer, capacity, rules):
            counters[ATTEMPTS] += 1
            if rules & HATLESS and _is_hatless(tables, state, buffer):
                state.nodes[depth, TRIED] = _INFINITY
            continue
        if not _place(tables, state, depth, buffer, capacity, rules):
            _undo(tables, state, depth, depth)
            if rules & HATLESS and state.nodes[depth, HATLESS_NODE]:
                state.nodes[depth, TRIED] = _INFINITY
            continue
        counters[NODES] += 1
        if _enter(tables, state, depth + 1, rules):
            return FOUND
        counters[DEPTH] = depth + 1
    return RUNNING
