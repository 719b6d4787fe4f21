"""Kernel scratch pinned where TFLM will place it, and tensors packed around it by whole lifetimes."""

from __future__ import annotations

from arena.allocators.problem import Buffer, Problem
from arena.lifetimes import BufferKind, BufferOrigin, LifetimeTable
from arena.shrink.grouped import _piece_arrays, _place_items
from arena.shrink.rows import Piece
from arena.shrink.scratch import pin_scratch


def _table(buffers: tuple[Buffer, ...], kinds: tuple[BufferKind, ...]) -> LifetimeTable:
    origins = tuple(
        BufferOrigin(kind=k, subgraph=0, tensor=None, global_tensor=None, op=None, name=b.name, raw_bytes=b.size)
        for k, b in zip(kinds, buffers, strict=True)
    )
    return LifetimeTable(problem=Problem(buffers=buffers), origins=origins, steps=(), kernels="cmsis-nn-mve")


def test_scratch_is_pinned_as_tflm_stacks_it_and_tensors_stay_free() -> None:
    buffers = (
        Buffer(name="t", size=64, first=0, last=4),
        Buffer(name="s1", size=48, first=2, last=2),
        Buffer(name="s2", size=16, first=2, last=2),  # same step: above the larger one
        Buffer(name="s3", size=16, first=4, last=4),  # another step: at 0 again
    )
    kinds = (BufferKind.TENSOR, BufferKind.SCRATCH, BufferKind.SCRATCH, BufferKind.SCRATCH)
    pinned = pin_scratch(_table(buffers, kinds))
    assert pinned is not None
    assert [b.fixed_offset for b in pinned.problem.buffers] == [None, 0, 48, 0]
    assert pin_scratch(_table(buffers[:1], kinds[:1])) is None


def test_a_piece_dead_before_the_scratch_step_still_keeps_off_pinned_scratch() -> None:
    # Tensor "a" lives over steps 0..6, but its only piece (rows read by slices) dies at step 2.
    # Scratch pinned at offset 0 at step 5: at piece level the two never meet, yet TFLM sees "a"
    # whole until step 6 and would not find the pinned gap, so "a" must go above the scratch.
    # Tensor "b" (whole lifetime 0..2) may sit under the scratch's bytes.
    buffers = (
        Buffer(name="scratch", size=32, first=5, last=5, fixed_offset=0),
        Buffer(name="a", size=32, first=0, last=6),
        Buffer(name="b", size=32, first=0, last=2),
    )
    items = {
        0: [(0, Piece(start=0, size=32, first=5, last=5))],
        1: [(1, Piece(start=0, size=32, first=0, last=2))],
        2: [(2, Piece(start=0, size=32, first=0, last=2))],
    }
    offsets = _place_items(_piece_arrays(items, buffers), [1, 2], fixed={0: 0}).offsets
    assert offsets[0] == 0
    assert offsets[1] == 32  # kept off the scratch by its whole lifetime
    assert offsets[2] == 0
    # Without the scratch fixed (its place left to the packing), "a" takes offset 0 as before.
    free = _place_items(_piece_arrays(items, buffers), [1, 0, 2], fixed={}).offsets
    assert free[1] == 0
