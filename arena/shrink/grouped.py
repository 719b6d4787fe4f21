"""Plan a model whose aliased tensors share bytes: each alias group is packed as one buffer.

An alias group is a tensor with the inputs placed inside it (:mod:`arena.shrink.alias`), and their
own aliased inputs, at fixed relative offsets. Packing the group as one buffer, as large as its
members' extent and live from its first member's birth to its last member's death, is a
conservative model of what is live (it reserves a concatenation's bytes before its pieces are
written) that every allocator understands. The exact allocator packs the reduced problem; the
offsets are expanded back to every buffer of the lifetime table.
"""

from __future__ import annotations

from dataclasses import dataclass

from arena.allocators import run_allocator
from arena.allocators.problem import Buffer, Problem
from arena.lifetimes import ARENA_ALIGNMENT, BufferKind, LifetimeTable, align_up
from arena.shrink.alias import Alias


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
    """Pack ``table``'s buffers with every usable alias group as one buffer (exact allocator)."""
    placed, kept = _groups(table, aliases)
    buffers = table.problem.buffers
    members: dict[int, list[int]] = {}
    for buffer, (root, _) in placed.items():
        members.setdefault(root, []).append(buffer)
    reduced: list[Buffer] = []
    slot_of: dict[int, int] = {}
    for index, buffer in enumerate(buffers):
        if index in placed and placed[index][0] != index:
            continue
        if index in members:
            group = members[index]
            size = max(placed[m][1] + buffers[m].size for m in group)
            live = [buffers[m] for m in group if buffers[m].first >= 0]
            buffer = Buffer(
                name=buffer.name,
                size=align_up(size),
                first=min(b.first for b in live) if live else buffer.first,
                last=max(b.last for b in live) if live else buffer.last,
                alignment=buffer.alignment,
            )
        slot_of[index] = len(reduced)
        reduced.append(buffer)
    plan = run_allocator("exact", Problem(buffers=tuple(reduced)), time_limit_seconds=time_limit_seconds)
    offsets = []
    for index in range(len(buffers)):
        root, offset = placed.get(index, (index, 0))
        offsets.append(plan.offsets[slot_of[root]] + offset)
    return GroupedPlan(offsets=tuple(offsets), peak_bytes=plan.peak_bytes, aliases=kept, status=str(plan.status))


__all__ = ["GroupedPlan", "plan_grouped"]
