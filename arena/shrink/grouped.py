"""Plan a model whose aliased tensors share bytes: each alias group is packed as one buffer.

An alias group is a tensor with the inputs placed inside it (:mod:`arena.shrink.alias`), and their
own aliased inputs, at fixed relative offsets. Packing the group as one buffer, as large as its
members' extent and live from its first member's birth to its last member's death, is a
conservative model of what is live (it reserves a concatenation's bytes before its pieces are
written) that every allocator understands. The exact allocator packs the reduced problem; the
offsets are expanded back to every buffer of the lifetime table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from arena.allocators import BEST_ALLOCATOR, run_allocator
from arena.allocators.problem import Buffer, Problem
from arena.lifetimes import ARENA_ALIGNMENT, BufferKind, LifetimeTable, align_up
from arena.model.records import Model
from arena.shrink.alias import Alias
from arena.shrink.rows import Piece, row_pieces


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupedPlan:
    """Offsets for every buffer of the table, the aliases honoured, and the packing's status."""

    offsets: tuple[int, ...]
    peak_bytes: int
    aliases: tuple[Alias, ...]
    status: str


def _groups(table: LifetimeTable, aliases: tuple[Alias, ...]) -> tuple[dict[int, tuple[int, int]], tuple[Alias, ...]]:
    """buffer -> (root buffer, offset from the root) for every aliased buffer; the aliases kept."""
    buffer_of = {
        o.tensor: i
        for i, o in enumerate(table.origins)
        if o.kind is BufferKind.TENSOR and o.subgraph == 0 and o.tensor is not None
    }
    buffers = table.problem.buffers
    parent: dict[int, tuple[int, int]] = {}
    kept = []
    for alias in aliases:
        source, target = buffer_of.get(alias.source), buffer_of.get(alias.target)
        if source is None or target is None or alias.byte_offset % ARENA_ALIGNMENT:
            continue
        if buffers[source].fixed_offset is not None or buffers[target].fixed_offset is not None:
            continue
        parent[source] = (target, alias.byte_offset)
        kept.append(alias)
    placed: dict[int, tuple[int, int]] = {}
    for member in parent:
        root, offset, seen = member, 0, set()
        while root in parent and root not in seen:
            seen.add(root)
            root, step = parent[root]
            offset += step
        placed[member] = (root, offset)
        placed.setdefault(root, (root, 0))
    return placed, tuple(kept)


def plan_grouped(table: LifetimeTable, aliases: tuple[Alias, ...], *, time_limit_seconds: float = 20.0) -> GroupedPlan:
    """Pack ``table``'s buffers with every usable alias group as one buffer (exact allocator).

    Examples
    --------
    >>> from arena.allocators.problem import Buffer, Problem
    >>> from arena.lifetimes import BufferOrigin, LifetimeTable
    >>> buffers = (Buffer(name="a", size=16, first=0, last=1), Buffer(name="b", size=32, first=1, last=2))
    >>> origins = tuple(BufferOrigin(kind=BufferKind.TENSOR, subgraph=0, tensor=i, global_tensor=i, op=None,
    ...                              name=b.name, raw_bytes=b.size) for i, b in enumerate(buffers))
    >>> table = LifetimeTable(problem=Problem(buffers=buffers), origins=origins, steps=(), kernels="reference")
    >>> plan_grouped(table, ()).peak_bytes   # a and b are both live at step 1
    48
    """
    placed, kept = _groups(table, aliases)
    buffers = table.problem.buffers
    members: dict[int, list[int]] = {}
    for buffer, (root, _) in placed.items():
        members.setdefault(root, []).append(buffer)
    reduced: list[Buffer] = []
    slot_of: dict[int, int] = {}
    for index, own in enumerate(buffers):
        if index in placed and placed[index][0] != index:
            continue
        if index in members:
            group = members[index]
            size = max(placed[m][1] + buffers[m].size for m in group)
            live = [buffers[m] for m in group if buffers[m].first >= 0]
            own = Buffer(
                name=own.name,
                size=align_up(size),
                first=min(b.first for b in live) if live else own.first,
                last=max(b.last for b in live) if live else own.last,
                alignment=own.alignment,
            )
        slot_of[index] = len(reduced)
        reduced.append(own)
    plan = run_allocator(BEST_ALLOCATOR, Problem(buffers=tuple(reduced)), time_limit_seconds=time_limit_seconds)
    offsets = []
    for index in range(len(buffers)):
        root, offset = placed.get(index, (index, 0))
        offsets.append(plan.offsets[slot_of[root]] + offset)
    return GroupedPlan(offsets=tuple(offsets), peak_bytes=plan.peak_bytes, aliases=kept, status=str(plan.status))


def _items(
    model: Model, table: LifetimeTable, placed: dict[int, tuple[int, int]]
) -> dict[int, list[tuple[int, Piece]]]:
    """Root buffer -> its members' pieces (member buffer, piece at the offset from the root)."""
    step_of_op = {s.op: s.step for s in table.steps if s.subgraph == 0 and s.op is not None}
    items: dict[int, list[tuple[int, Piece]]] = {}
    for index, (buffer, origin) in enumerate(zip(table.problem.buffers, table.origins, strict=True)):
        root, rel = placed.get(index, (index, 0))
        pieces = None
        if (
            origin.kind is BufferKind.TENSOR
            and origin.subgraph == 0
            and origin.tensor is not None
            and buffer.first >= 0
        ):
            pieces = row_pieces(model, origin.tensor, buffer.first, buffer.last, buffer.size, step_of_op)
        if pieces is None:
            pieces = (Piece(start=0, size=buffer.size, first=buffer.first, last=buffer.last),)
        items.setdefault(root, []).extend(
            (index, Piece(start=p.start + rel, size=p.size, first=p.first, last=p.last)) for p in pieces
        )
    return items


def step_needs(model: Model, table: LifetimeTable, aliases: tuple[Alias, ...]) -> list[int]:
    """Per step, the bytes live at it, counting the shared bytes of an alias group once.

    No placement can use fewer bytes at a step, so, unlike any one packing's tops, this says where
    the model itself needs memory: the steps a rewrite has to change to lower the head.
    """
    placed, _ = _groups(table, aliases)
    steps = max((b.last for b in table.problem.buffers), default=-1) + 1
    needs = [0] * steps
    for pieces in _items(model, table, placed).values():
        live = [p for _, p in pieces if p.first >= 0]
        if not live:
            continue
        for step in range(min(p.first for p in live), max(p.last for p in live) + 1):
            spans = sorted((p.start, p.start + p.size) for p in live if p.first <= step <= p.last)
            covered, reach = 0, None
            for lo, hi in spans:
                if reach is None or lo > reach:
                    covered += hi - lo
                    reach = hi
                elif hi > reach:
                    covered += hi - reach
                    reach = hi
            needs[step] += covered
    return needs


def _piece_arrays(items: dict[int, list[tuple[int, Piece]]], buffers: tuple[Buffer, ...]) -> dict[int, Any]:
    """Root -> its pieces as an int64 array of rows (start, size, first step, last step, and the
    first and last step of the whole buffer the piece belongs to)."""
    import numpy as np

    return {
        root: np.array(
            [(p.start, p.size, p.first, p.last, buffers[m].first, buffers[m].last) for m, p in pieces], dtype=np.int64
        ).reshape(-1, 6)
        for root, pieces in items.items()
    }


@dataclass(slots=True)
class _Packing:
    """A first-fit packing, kept so a packing of an order with the same first items can resume it."""

    offsets: dict[int, int]
    #: Placed pieces, one column each: start, end, first step, last step, fixed (0/1).
    placed: Any
    #: counts[k]: the columns filled after the fixed items and the first k items of the order.
    counts: list[int]


def _place_items(
    items: dict[int, Any], order: list[int], fixed: dict[int, int], resume: tuple[_Packing, int] | None = None
) -> _Packing:
    """First fit of each item (its pieces at fixed relative offsets, :func:`_piece_arrays`) at the
    lowest 16-aligned offset.

    Against a ``fixed`` item a piece counts as live over its whole buffer's lifetime: a fixed
    buffer is kernel scratch pinned where TFLM will place it (:mod:`arena.shrink.scratch`), and
    TFLM looks for that gap among whole tensors, not among the row pieces still live.
    ``resume`` (a packing, k): that packing's order has the same first k items as ``order``, so
    their places are taken from it (first fit gives them the same places again)."""
    import numpy as np

    if resume is None:
        total = sum(len(pieces) for pieces in items.values())
        placed = np.zeros((5, total), dtype=np.int64)
        count, offsets, counts, start = 0, {}, [], 0
    else:
        base, start = resume
        placed, count, counts = base.placed.copy(), base.counts[start], base.counts[: start + 1]
        offsets = {root: base.offsets[root] for root in (*fixed, *order[:start])}

    def put(root: int, at: int) -> None:
        nonlocal count
        offsets[root] = at
        mine = items[root]
        k = len(mine)
        placed[0, count : count + k] = at + mine[:, 0]
        placed[1, count : count + k] = at + mine[:, 0] + mine[:, 1]
        placed[2:4, count : count + k] = mine[:, 2:4].T
        placed[4, count : count + k] = int(root in fixed)
        count += k

    if resume is None:
        for root, at in fixed.items():
            put(root, at)
        counts.append(count)
    for root in order[start:]:
        _place_one(items, root, offsets, placed[:, :count], put)
        counts.append(count)
    return _Packing(offsets=offsets, placed=placed, counts=counts)


def _place_one(
    items: dict[int, Any], root: int, offsets: dict[int, int], placed: Any, put: Callable[[int, int], None]
) -> None:
    """Put item ``root`` (unless placed already) at the lowest offset where it clashes with no placed piece."""
    import numpy as np

    if root in offsets:
        return
    starts, ends, firsts, lasts, pinned = placed
    mine = items[root]
    own = (firsts[None, :] <= mine[:, 3:4]) & (mine[:, 2:3] <= lasts[None, :])
    whole = (firsts[None, :] <= mine[:, 5:6]) & (mine[:, 4:5] <= lasts[None, :])
    piece, other = np.nonzero(np.where(pinned[None, :] == 1, whole, own))
    r, z, a, b = mine[piece, 0], mine[piece, 1], starts[other], ends[other]
    if not r.size:
        put(root, 0)
        return
    candidates = np.unique(np.concatenate([[0], np.maximum(b - r, 0)]))
    candidates = np.unique((candidates + ARENA_ALIGNMENT - 1) // ARENA_ALIGNMENT * ARENA_ALIGNMENT)
    for chunk in range(0, len(candidates), 256):
        c = candidates[chunk : chunk + 256, None]
        clash = ((c + r) < b) & (a < (c + r + z))
        free = np.flatnonzero(~clash.any(axis=1))
        if free.size:
            put(root, int(c[free[0], 0]))
            return


def _plan_shapes(
    model: Model, table: LifetimeTable, placed: dict[int, tuple[int, int]], polish: int = 0
) -> tuple[tuple[int, ...], int]:
    """Offsets from first-fit packing of pieces (several orders, the best kept) and their head.

    ``polish`` moves of one item to another place in the best order follow, each kept when the
    head does not grow (seeded: the same plan every run). First fit leaves holes a different
    order fills; a few hundred moves close part of the gap to the steps' need.
    """
    import random

    items = _items(model, table, placed)
    buffers = table.problem.buffers
    fixed = {root: int(o) for root in items if (o := buffers[root].fixed_offset) is not None}

    def extent(root: int) -> int:
        return max(p.start + p.size for _, p in items[root])

    def area(root: int) -> int:
        return sum(p.size * (p.last - p.first + 1) for _, p in items[root])

    arrays = _piece_arrays(items, buffers)
    tops = {root: int((pieces[:, 0] + pieces[:, 1]).max(initial=0)) for root, pieces in arrays.items()}

    def pack(order: list[int], resume: tuple[_Packing, int] | None = None) -> tuple[_Packing, int]:
        packing = _place_items(arrays, order, fixed, resume)
        return packing, max((packing.offsets[root] + top for root, top in tops.items()), default=0)

    orders = [
        sorted(items, key=lambda r: (-extent(r), r)),
        sorted(items, key=lambda r: (-area(r), r)),
        sorted(items, key=lambda r: (min(p.first for _, p in items[r]), -extent(r), r)),
        sorted(items, key=lambda r: (-max(p.last for _, p in items[r]), -extent(r), r)),
    ]
    packed = [(pack(order), order) for order in orders]
    (packing, head), order = min(packed, key=lambda c: c[0][1])
    rng = random.Random(0)
    for _ in range(polish if len(order) > 2 else 0):
        moved = order[:]
        insert_at, pop_at = rng.randrange(len(moved)), rng.randrange(len(moved))
        moved.insert(insert_at, moved.pop(pop_at))
        # The items before the first moved position keep their places: pack from there on.
        trial, trial_head = pack(moved, (packing, min(insert_at, pop_at)))
        if trial_head <= head:
            packing, head, order = trial, trial_head, moved
    roots = packing.offsets
    offsets = tuple(roots[placed.get(i, (i, 0))[0]] + placed.get(i, (i, 0))[1] for i in range(len(buffers)))
    return offsets, head


def plan_shaped(
    model: Model,
    table: LifetimeTable,
    aliases: tuple[Alias, ...],
    *,
    time_limit_seconds: float = 20.0,
    exact: bool = True,
    polish: int = 0,
) -> GroupedPlan:
    """The better of :func:`plan_grouped` and first-fit packing of alias groups and row pieces.

    Row pieces (:mod:`arena.shrink.rows`) let later tensors take the rows of a sliced tensor that
    no slice reads any more, and concatenation pieces keep their own lifetimes inside their
    target: the packing works on exact live byte ranges, not on rectangles per tensor. Without
    ``exact`` only the first-fit packing runs (fast enough to rank many candidate rewrites).
    ``polish``: moves tried on the first-fit order (:func:`_plan_shapes`).
    """
    placed, kept = _groups(table, aliases)
    offsets, head = _plan_shapes(model, table, placed, polish)
    if not exact:
        return GroupedPlan(offsets=offsets, peak_bytes=head, aliases=kept, status="heuristic")
    rectangles = plan_grouped(table, aliases, time_limit_seconds=time_limit_seconds)
    if head < rectangles.peak_bytes:
        return GroupedPlan(offsets=offsets, peak_bytes=head, aliases=kept, status="heuristic")
    return rectangles


__all__ = ["GroupedPlan", "plan_grouped", "plan_shaped", "step_needs"]
