"""Partial liveness of a tensor read only by row slices: its rows die as the last slice of each passes.

A tensor whose every reader is a ``STRIDED_SLICE`` taking whole rows (batch 1, rank 4, constant
begin/end, stride 1, all columns and channels) is read by TFLM's reference kernel
(tensorflow/lite/kernels/internal/reference/strided_slice.h) only inside the sliced rows: the
kernel walks the output's index range and reads the input at the matching positions. Once the last
slice that covers a row has run, that row's bytes are dead, and later tensors may take them. This
is how the patch rule's bands free the (often large) chain input as they go.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from arena.model.reader import buffer_bytes
from arena.model.records import Model, Operator, Subgraph


@dataclass(frozen=True, slots=True, kw_only=True)
class Piece:
    """Bytes [start, start + size) of a tensor, live over steps [first, last] (inclusive)."""

    start: int
    size: int
    first: int
    last: int


def _int32s(model: Model, graph: Subgraph, tensor: int) -> tuple[int, ...] | None:
    t = graph.tensors[tensor]
    if not t.has_data or t.type_code != 2:
        return None
    raw = bytes(buffer_bytes(model, t.buffer))
    return struct.unpack(f"<{len(raw) // 4}i", raw[: len(raw) // 4 * 4])


def slice_rows(model: Model, graph: Subgraph, op: Operator) -> tuple[int, int] | None:
    """The input rows [lo, hi) a whole-row STRIDED_SLICE reads, or None when it is not one."""
    if op.op_name != "STRIDED_SLICE" or len(op.inputs) != 4:
        return None
    x = graph.tensors[op.inputs[0]]
    if len(x.shape) != 4 or x.shape[0] != 1:
        return None
    if any(bool(op.options.get(m, 0)) for m in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                                    "shrink_axis_mask", "offset")):  # fmt: skip
        return None
    begin, end, strides = (_int32s(model, graph, t) for t in op.inputs[1:])
    if begin is None or end is None or strides is None or len(begin) != 4 or len(end) != 4:
        return None
    _, height, width, channels = x.shape
    whole = begin[0] == 0 and end[0] == 1 and begin[2] == 0 and end[2] == width and begin[3] == 0
    if not whole or end[3] != channels or tuple(strides) != (1, 1, 1, 1) or not 0 <= begin[1] < end[1] <= height:
        return None
    return begin[1], end[1]


def row_pieces(
    model: Model, tensor: int, first: int, last: int, size: int, step_of_op: dict[int, int]
) -> tuple[Piece, ...] | None:
    """Row chunks of ``tensor`` (planned ``size`` bytes over [first, last]) by death step, or None.

    None when some reader is not a whole-row slice or the tensor is a graph output.
    """
    graph = model.subgraphs[0]
    if tensor in graph.outputs:
        return None
    x = graph.tensors[tensor]
    readers = [op for op in graph.operators if tensor in op.inputs]
    if not readers or len(x.shape) != 4 or x.type_code != 9:
        return None
    height = x.shape[1]
    death = [first] * height
    for op in readers:
        rows = slice_rows(model, graph, op) if op.inputs[0] == tensor and tensor not in op.inputs[1:] else None
        if rows is None:
            return None
        for row in range(*rows):
            death[row] = max(death[row], step_of_op[op.index])
    row_bytes = x.shape[2] * x.shape[3]  # int8 (slice_rows is only used on int8 bands)
    pieces: list[Piece] = []
    start_row = 0
    for row in range(1, height + 1):
        if row == height or death[row] != death[start_row]:
            end = row * row_bytes if row < height else size  # the last chunk keeps the alignment pad
            pieces.append(Piece(start=start_row * row_bytes, size=end - start_row * row_bytes,
                                first=first, last=death[start_row]))  # fmt: skip
            start_row = row
    assert max(p.last for p in pieces) <= last
    return tuple(pieces)


__all__ = ["Piece", "row_pieces", "slice_rows"]
