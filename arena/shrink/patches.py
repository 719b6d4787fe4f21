"""Patch-based inference as ordinary TFLite ops: run the memory-peak stage of an image model on row bands.

MCUNetV2 (Lin et al., "MCUNetV2: Memory-Efficient Patch-based Inference for Tiny Deep Learning",
NeurIPS 2021) computes the first, activation-heavy stage of a CNN patch by patch, so the full
intermediate feature maps never exist at once. This rule does the same with stock TFLM ops only:
for a linear chain of CONV_2D / DEPTHWISE_CONV_2D ops it writes, per band of output rows,

* ``STRIDED_SLICE`` of the chain input's rows the band needs (its receptive field, the halo),
* per layer: ``PAD`` with the input zero point where the original padding reaches into the band
  (always the left/right columns of SAME padding; top/bottom rows only at the image edges), then
  the same convolution (same weights, bias, quantization, stride, activation) with VALID padding,
* and one ``CONCATENATION`` on the height axis into the chain's original output tensor.

Why the outputs are bit-identical: TFLM's int8 reference CONV_2D and DEPTHWISE_CONV_2D skip taps
outside the input (tensorflow/lite/kernels/internal/reference/integer_ops/conv.h and
depthwise_conv.h: ``is_point_inside_image``), which is the same sum as a tap on the value
``-input_offset`` = the input zero point, since ``(x + input_offset) * w`` is then 0. TFLM's PAD
fills int8 with the output zero point when no constant is given
(tensorflow/lite/micro/kernels/pad.cc), and the PAD output here has the input's quantization.
Every band output element is therefore the same sum over the same input values, in the same
channel order, as in the original; STRIDED_SLICE and CONCATENATION (equal quantization) copy bytes.
The price is recomputation in the halos, counted in MACs.

With CMSIS-NN the argument is the same: its int8 convolutions compute exact integer sums and
requantize per channel as the reference does, and a padded tap contributes 0 (the im2col paths
write ``-input_offset`` or zero the offset-added column; ``arm_depthwise_conv_3x3_s8`` and the
generic depthwise skip the tap), while TFLM's CMSIS-NN PAD (kernels/cmsis_nn/pad.cc) fills with
the same zero point. The band convolutions may take another CMSIS-NN path than the original
(shape-dependent dispatch), which changes speed, not values. The rewrite is proven per model by
running it: the wheel for the reference kernels, TFLM + CMSIS-NN on an emulated Cortex-M for
CMSIS-NN (:mod:`arena.proofs.emulator.shrink_proof`).

The rule is pure: model records in, :class:`arena.model.rewrite.GraphRewrite` out.
"""

from __future__ import annotations

from dataclasses import dataclass

from arena.model.records import Model, Operator, Subgraph
from arena.model.rewrite import GraphRewrite

#: Ops the rule can split, with their option table names.
SPLITTABLE = {"CONV_2D": "Conv2DOptions", "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions"}
#: schema.fbs ``Padding``: SAME = 0, VALID = 1.
_SAME, _VALID = 0, 1
#: schema.fbs ``TensorType`` INT32 and INT8.
_INT32, _INT8 = 2, 9


@dataclass(frozen=True, slots=True, kw_only=True)
class _Layer:
    op: Operator
    in_shape: tuple[int, int, int, int]
    out_shape: tuple[int, int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    pad_top: int
    pad_left: int
    pad_right: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchSplit:
    """One candidate: ops ``first..last`` of subgraph 0 computed in ``bands`` row bands."""

    first_op: int
    last_op: int
    bands: int
    rewrite: GraphRewrite
    #: Halo rows carried from band to band instead of recomputed (:mod:`arena.shrink.regions`).
    carried: bool = False

    @property
    def description(self) -> str:
        """One line for reports."""
        how = ", halos carried" if self.carried else ""
        return f"ops {self.first_op}..{self.last_op} in {self.bands} row bands{how}"


def _same_padding(size_in: int, size_out: int, kernel: int, stride: int) -> tuple[int, int]:
    """TFLM's SAME padding (before, after): ``ComputePaddingHeightWidth`` in kernels/padding.h."""
    total = max((size_out - 1) * stride + kernel - size_in, 0)
    return total // 2, total - total // 2


def _layer(graph: Subgraph, op: Operator, filter_shape: tuple[int, ...]) -> _Layer | None:
    options = op.options
    if op.op_name not in SPLITTABLE or len(op.inputs) < 2 or len(op.outputs) != 1:
        return None
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if len(x.shape) != 4 or len(y.shape) != 4 or x.shape[0] != 1 or x.type_code != _INT8 or y.type_code != _INT8:
        return None
    if options.get("dilation_w_factor", 1) != 1 or options.get("dilation_h_factor", 1) != 1:
        return None
    kh, kw = filter_shape[1], filter_shape[2]
    sh, sw = int(str(options["stride_h"])), int(str(options["stride_w"]))
    if options.get("padding") == _SAME:
        top, _ = _same_padding(x.shape[1], y.shape[1], kh, sh)
        left, right = _same_padding(x.shape[2], y.shape[2], kw, sw)
    else:
        top = left = right = 0
    in_shape = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    out_shape = (y.shape[0], y.shape[1], y.shape[2], y.shape[3])
    return _Layer(
        op=op, in_shape=in_shape, out_shape=out_shape, kernel=(kh, kw), stride=(sh, sw),
        pad_top=top, pad_left=left, pad_right=right,
    )  # fmt: skip


def splittable_chains(model: Model, min_ops: int = 2) -> list[tuple[int, int]]:
    """Maximal runs of subgraph 0 ops the rule can split: each op feeds only the next one.

    Returns (first op, last op) pairs, inclusive, of runs with at least ``min_ops`` ops (a single
    op split in bands is a run of one: a 1x1 convolution's bands need no halo, so it costs no MACs).
    """
    graph = model.subgraphs[0]
    readers: dict[int, int] = {}
    for op in graph.operators:
        for t in op.inputs:
            readers[t] = readers.get(t, 0) + 1
    runs: list[tuple[int, int]] = []
    start = None
    for op in graph.operators:
        ok = len(op.inputs) >= 2 and _layer(graph, op, graph.tensors[op.inputs[1]].shape) is not None
        linked = (
            start is not None
            and op.inputs[0] == graph.operators[op.index - 1].outputs[0]
            and readers.get(op.inputs[0], 0) == 1
            and op.inputs[0] not in graph.outputs
        )
        if ok and linked:
            continue
        if start is not None and op.index - start >= min_ops:
            runs.append((start, op.index - 1))
        start = op.index if ok else None
    if start is not None and len(graph.operators) - start >= min_ops:
        runs.append((start, len(graph.operators) - 1))
    return runs


def split_chain(model: Model, first_op: int, last_op: int, bands: int) -> PatchSplit | None:
    """The rewrite computing the chain ``first_op..last_op`` in ``bands`` row bands, or None if it cannot.

    Bands split the chain output's rows as evenly as possible (sizes differ by at most one). The
    band arithmetic and the ops written are :func:`arena.shrink.regions.split_region`'s: a chain is
    a region whose every op is a convolution.
    """
    from arena.shrink.regions import split_region

    graph = model.subgraphs[0]
    if not all(graph.operators[i].op_name in SPLITTABLE for i in range(first_op, last_op + 1)):
        return None
    return split_region(model, first_op, last_op, bands, residual=False)


__all__ = ["SPLITTABLE", "PatchSplit", "split_chain", "splittable_chains"]
