"""Kernel scratch pinned where TFLM's planner will put it, so a shrunk plan leaves TFLM that room.

An ``OfflineMemoryAllocation`` plan holds tensor offsets only: TFLM places the kernels' scratch
buffers (CMSIS-NN's im2col and Helium buffers) itself, greedily, at the lowest gap among the
tensors live at the scratch's step, each tensor seen whole over its whole lifetime
(micro/memory_planner/greedy_memory_planner.cc; :mod:`arena.allocators.tflm_greedy`). A plan
packed at row-piece level can leave the scratch a hole TFLM does not see, and TFLM then puts the
scratch above the plan's head: KWS levelled for the Helium build plans 16,000 B and realizes
20,464 B. Pinned where TFLM's own walk puts the scratch when no tensor is in the way (stacked
from offset 0, largest first), with the tensors packed around it by their whole lifetimes
(:func:`arena.shrink.grouped.plan_shaped`), the gap TFLM looks for is there.
"""

from __future__ import annotations

from dataclasses import replace

from arena.allocators.problem import Problem
from arena.lifetimes import BufferKind, LifetimeTable


def pin_scratch(table: LifetimeTable) -> LifetimeTable | None:
    """``table`` with every kernel scratch buffer at a fixed offset, or None when it has none.

    Examples
    --------
    >>> from arena.allocators.problem import Buffer
    >>> from arena.lifetimes import BufferOrigin
    >>> buffers = (Buffer(name="t", size=64, first=0, last=2), Buffer(name="s", size=32, first=1, last=1),
    ...            Buffer(name="u", size=16, first=1, last=1))
    >>> kinds = (BufferKind.TENSOR, BufferKind.SCRATCH, BufferKind.SCRATCH)
    >>> origins = tuple(BufferOrigin(kind=k, subgraph=0, tensor=None, global_tensor=None, op=1, name=b.name,
    ...                              raw_bytes=b.size) for k, b in zip(kinds, buffers))
    >>> table = LifetimeTable(problem=Problem(buffers=buffers), origins=origins, steps=(), kernels="cmsis-nn-dsp")
    >>> [b.fixed_offset for b in pin_scratch(table).problem.buffers]   # stacked from 0, largest first
    [None, 0, 32]
    """
    from arena.allocators import DEVICE_ALLOCATOR, run_allocator

    buffers = table.problem.buffers
    scratch = [
        i
        for i, origin in enumerate(table.origins)
        if origin.kind is BufferKind.SCRATCH and buffers[i].fixed_offset is None and buffers[i].size > 0
    ]
    if not scratch:
        return None
    placed = run_allocator(DEVICE_ALLOCATOR, Problem(buffers=tuple(buffers[i] for i in scratch)))
    pinned = list(buffers)
    for index, offset in zip(scratch, placed.offsets, strict=True):
        pinned[index] = replace(buffers[index], fixed_offset=int(offset))
    return replace(table, problem=Problem(buffers=tuple(pinned)))


__all__ = ["pin_scratch"]
