"""Partial overlap: an op's output starts a computed number of bytes below its dying input.

vMCU (Zheng et al., "vMCU: Coordinated Memory Management and Kernel Optimization for DNN
Inference on MCUs", MLSys 2024) overlaps a layer's output with its input by the kernel's access
order. TFLM's reference int8 kernels write in raster order (tensorflow/lite/kernels/internal/
reference/integer_ops/conv.h ``ConvPerChannel`` and depthwise_conv.h ``DepthwiseConvPerChannel``:
loops batch, out_y, out_x, channel; pad.h ``PadImpl``: one pass over the output, reading the
input in order). So the output may start ``lead`` bytes below the input, where ``lead`` is the
largest amount by which the write position ever gets ahead of the first input byte still to be
read:

* CONV_2D / DEPTHWISE_CONV_2D: while output row ``y`` is written, input rows from
  ``max(0, y * stride - pad_top)`` on are still read, so
  ``lead = max_y ((y + 1) * out_row_bytes - max(0, y * stride - pad_top) * in_row_bytes)``;
* PAD: output byte ``k`` is written after reading ``count(k)`` input bytes, so
  ``lead = max_k (k + 1 - count(k))`` over the bytes written while input remains.

The relation is returned as an :class:`arena.shrink.alias.Alias` (source = the input, at the
output's offset + ``lead`` rounded up to 16). The simulator (:mod:`arena.proofs.alias_simulate`)
replays that access order row by row to check it.

CMSIS-NN (4ab83cc3, DSP build: Cortex-M4/M7/M33) takes the rule only on the paths whose loops
were read to keep the same guarantee: each writes output pixels in raster order, in groups it
has read completely before writing (``arm_convolve_s8`` with one group: im2col of two pixels,
then their outputs; ``arm_depthwise_conv_3x3_s8``, ``arm_depthwise_conv_s8_opt`` and
``arm_depthwise_conv_s8``: one pixel's window, then its outputs), so after writing output row
``y`` it reads only input rows from ``y * stride - pad_top`` on, and the row-level lead above
holds. Not taken: every 1x1 convolution (``arm_nn_mat_mult_nt_t_s8`` loops over output-channel
pairs outside the pixels, re-reading early pixels after writing them; measured unsafe), grouped
convolutions (group-outer), 1xN convolutions, and the Helium build (its depthwise loops run
channel blocks outside the pixels). PAD runs ``arm_pad_s8``: one pass over the output in order,
like the reference kernel, but it copies each input row (or pixel, when channels are padded) with
``memcpy``, which is undefined when source and destination overlap, so its lead is also at least
what keeps every copy's destination wholly below its source (``_memcpy_lead``).
"""

from __future__ import annotations

from math import prod

from arena.kernels.cmsis_nn import kernel_for_op
from arena.lifetimes import ARENA_ALIGNMENT, LifetimeTable, align_up
from arena.model.records import Model, Operator, Subgraph
from arena.shrink.alias import Alias, AliasKind
from arena.shrink.patches import _same_padding
from arena.shrink.rows import _int32s

#: The kernel libraries whose access order the lead above was derived from (CMSIS-NN on some paths).
OVERLAP_LIBRARIES = frozenset({"reference", "cmsis-nn-dsp"})
#: The CMSIS-NN DSP functions read to write in raster order after reading each group (docstring).
RASTER_CMSIS_NN_KERNELS = frozenset(
    {"arm_convolve_s8", "arm_depthwise_conv_3x3_s8", "arm_depthwise_conv_s8_opt", "arm_depthwise_conv_s8"}
)


def _raster_order(graph: Subgraph, op: Operator, kernels: str) -> bool:
    """Whether ``op`` under ``kernels`` writes in the raster order the lead assumes (docstring)."""
    if kernels == "reference" or op.op_name == "PAD":  # PAD: the lead adds the memcpy bound (required_lead)
        return True
    if kernel_for_op(graph, op, "dsp") not in RASTER_CMSIS_NN_KERNELS:
        return False
    if op.op_name == "CONV_2D":  # one group: the filter spans every input channel
        return graph.tensors[op.inputs[1]].shape[3] == graph.tensors[op.inputs[0]].shape[3]
    return True


def required_lead(model: Model, graph: Subgraph, op: Operator, kernels: str = "reference") -> int | None:
    """Bytes the output must start below the input for ``op`` to run in place, or None if not handled."""
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if len(x.shape) != 4 or len(y.shape) != 4 or x.shape[0] != 1 or x.type_code != 9 or y.type_code != 9:
        return None
    if op.op_name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        options = op.options
        if options.get("dilation_h_factor", 1) != 1 or options.get("dilation_w_factor", 1) != 1:
            return None
        kh = graph.tensors[op.inputs[1]].shape[1]
        stride = int(str(options["stride_h"]))
        top = _same_padding(x.shape[1], y.shape[1], kh, stride)[0] if options.get("padding") == 0 else 0
        in_row, out_row = prod(x.shape[2:]), prod(y.shape[2:])
        return max((r + 1) * out_row - max(0, r * stride - top) * in_row for r in range(y.shape[1]))
    if op.op_name == "PAD":
        pads = _int32s(model, graph, op.inputs[1])
        if pads is None or len(pads) != 8:
            return None
        lead = _pad_lead(x.shape, pads)
        return lead if kernels == "reference" else max(lead, _memcpy_lead(x.shape, pads))
    return None


def _pad_lead(shape: tuple[int, ...], pads: tuple[int, ...]) -> int:
    import numpy as np

    mask = np.zeros(tuple(d + pads[2 * i] + pads[2 * i + 1] for i, d in enumerate(shape)), dtype=bool)
    mask[tuple(slice(pads[2 * i], pads[2 * i] + d) for i, d in enumerate(shape))] = True
    count = np.cumsum(mask.ravel())
    total = prod(shape)
    pending = count < total
    k = np.arange(1, count.size + 1)
    return int(max(0, (k[pending] - count[pending]).max())) if pending.any() else 0


def _memcpy_lead(shape: tuple[int, ...], pads: tuple[int, ...]) -> int:
    """The smallest lead at which every ``memcpy`` of ``arm_pad_s8`` copies to a range wholly below
    its source: ``max(destination + length - source)`` over its copies, with output offsets from the
    output's start and input offsets from the input's (which sits ``lead`` bytes higher).

    Examples
    --------
    A 2x2 image padded with one row on top and a column on each side: rows are copied to output
    bytes 5-6 and 9-10 from input bytes 0-1 and 2-3, so the lead is 9 + 2 - 2 = 9 (the reference
    kernel's element-wise order needs 7).

    >>> _memcpy_lead((1, 2, 2, 1), (0, 0, 1, 0, 1, 1, 0, 0))
    9
    """
    n, h, w, c = shape
    out_h, out_w = h + pads[2] + pads[3], w + pads[4] + pads[5]
    out_c = c + pads[6] + pads[7]
    batch = pads[0] * out_h * out_w * out_c
    if pads[6] == pads[7] == 0:  # one copy per input row
        return max(batch + ((pads[2] + y) * out_w + pads[4]) * c + w * c - y * w * c for y in range(h))
    return max(
        batch + ((pads[2] + y) * out_w + pads[4] + x) * out_c + pads[6] + c - (y * w + x) * c
        for y in range(h)
        for x in range(w)
    )


def find_overlaps(
    model: Model, table: LifetimeTable, exclude_sources: frozenset[int] = frozenset(), *, chain: bool = False
) -> tuple[Alias, ...]:
    """Overlap relations for ops whose input dies there, busiest steps first.

    Without ``chain`` each tensor takes part in one relation at most (pairs that can be placed
    independently); with it, relations may chain (a tensor is the output of one and the input of
    the next), which overlaps every op of a chain at the price of a descending staircase of
    offsets. Only for :data:`OVERLAP_LIBRARIES`, and with CMSIS-NN only on the paths of
    :data:`RASTER_CMSIS_NN_KERNELS`; the input must not be a graph input or output, nor
    be read later.
    """
    if table.kernels not in OVERLAP_LIBRARIES:
        return ()
    graph = model.subgraphs[0]
    last: dict[int, int] = {}
    for op in graph.operators:
        for t in op.inputs:
            last[t] = op.index
    boundary = set(graph.inputs) | set(graph.outputs)
    load_start, load = table.problem.load_per_step()
    step_of = {s.op: s.step for s in table.steps if s.subgraph == 0 and s.op is not None}
    candidates = []
    for op in graph.operators:
        if op.op_name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "PAD") or len(op.outputs) != 1 or not op.inputs:
            continue
        x = op.inputs[0]
        tensor = graph.tensors[x]
        if tensor.has_data or x in boundary or last.get(x) != op.index or x in exclude_sources or x in op.inputs[1:]:
            continue
        if not _raster_order(graph, op, table.kernels):
            continue
        lead = required_lead(model, graph, op, table.kernels)
        if lead is None:
            continue
        weight = int(load[step_of[op.index] - load_start])
        candidates.append((weight, op.index, x, op.outputs[0], align_up(lead, ARENA_ALIGNMENT)))
    sources: set[int] = set()
    targets: set[int] = set()
    chosen = []
    for _, op_index, source, target, lead in sorted(candidates, key=lambda c: (-c[0], c[1])):
        if chain and (source in sources or target in targets):
            continue
        if not chain and ({source, target} & (sources | targets)):
            continue
        sources.add(source)
        targets.add(target)
        chosen.append(Alias(op=op_index, kind=AliasKind.OVERLAP, source=source, target=target, byte_offset=lead))
    return tuple(sorted(chosen, key=lambda a: a.op))


__all__ = ["OVERLAP_LIBRARIES", "RASTER_CMSIS_NN_KERNELS", "find_overlaps", "required_lead"]
