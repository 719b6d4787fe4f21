"""MAC and element counts per op kind (arena.cost.macs), against hand-worked small cases.

Every expected number is worked out in the comment beside it from the shapes, never printed by
the code under test. The shared-model test checks the published MLPerf Tiny MAC totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from arena.cost.macs import OpKind, count_model, count_op, op_kind
from arena.errors import ArenaError
from arena.model import read_model
from arena.model.records import Subgraph, Tensor
from conftest import make_model, operator, tensor

I32 = 2


def count(
    op_name: str,
    shapes: list[tuple[int, ...]],
    inputs: tuple[int, ...],
    outputs: tuple[int, ...],
    options: Mapping[str, object] | None = None,
    types: dict[int, int] | None = None,
) -> tuple[int, int]:
    """(macs, elements) of one op over tensors 0..n-1 with the given shapes."""
    tensors = tuple(tensor(i, shape, type_code=(types or {}).get(i, 9)) for i, shape in enumerate(shapes))
    op = operator(0, op_name, inputs, outputs, dict(options) if options else None)
    graph = Subgraph(index=0, name="main", tensors=tensors, operators=(op,), inputs=(), outputs=())
    result = count_op(make_model(graph), graph, op)
    return result.macs, result.elements


# ---------------------------------------------------------------------------------- matrix ops


def test_conv_valid() -> None:
    # 5x5x3 input, 4 filters of 3x3x3, VALID stride 1 -> 3x3x4 = 36 outputs, each a 3*3*3 = 27
    # MAC window: 36 * 27 = 972 MACs; 36 output elements.
    shapes = [(1, 5, 5, 3), (4, 3, 3, 3), (4,), (1, 3, 3, 4)]
    assert count("CONV_2D", shapes, (0, 1, 2), (3,), {"padding": 1, "stride_w": 1, "stride_h": 1}) == (
        972,
        36,
    )


def test_conv_same_padding_counts_the_padded_window() -> None:
    # SAME, stride 2 on 5x5 -> 3x3 outputs; the border windows overlap zero padding but are still
    # 27 MACs each, as the published MLPerf Tiny counts do: 3*3*4 * 27 = 972.
    shapes = [(1, 5, 5, 3), (4, 3, 3, 3), (4,), (1, 3, 3, 4)]
    assert count("CONV_2D", shapes, (0, 1, 2), (3,), {"padding": 0, "stride_w": 2, "stride_h": 2}) == (
        972,
        36,
    )


def test_grouped_conv_uses_the_filter_depth() -> None:
    # 8 input channels in 2 groups: filters are 1x1x4, so each of 4*4*6 = 96 outputs takes 4 MACs.
    assert count("CONV_2D", [(1, 4, 4, 8), (6, 1, 1, 4), (1, 4, 4, 6)], (0, 1), (2,)) == (384, 96)


def test_conv_without_bias() -> None:
    # Bias is optional (input 2 = -1): 1x1 conv 2->3 channels over 2x2: 12 outputs * 2 = 24 MACs.
    assert count("CONV_2D", [(1, 2, 2, 2), (3, 1, 1, 2), (1, 2, 2, 3)], (0, 1, -1), (2,)) == (24, 12)


def test_depthwise_with_multiplier() -> None:
    # 2 input channels, depth multiplier 2 -> 4 output channels; 3x3 VALID on 6x6 -> 4x4x4 = 64
    # outputs, each one 3x3 window of one channel: 64 * 9 = 576 MACs.
    shapes = [(1, 6, 6, 2), (1, 3, 3, 4), (4,), (1, 4, 4, 4)]
    assert count("DEPTHWISE_CONV_2D", shapes, (0, 1, 2), (3,), {"depth_multiplier": 2}) == (576, 64)


def test_fully_connected_batch() -> None:
    # Batch 2 of 10 inputs to 5 units: 2 * 5 = 10 outputs * 10 = 100 MACs.
    assert count("FULLY_CONNECTED", [(2, 10), (5, 10), (5,), (2, 5)], (0, 1, 2), (3,)) == (100, 10)


def test_fully_connected_keep_num_dims() -> None:
    # (1, 3, 10) kept as (1, 3, 5): 15 outputs * 10 = 150 MACs.
    shapes = [(1, 3, 10), (5, 10), (1, 3, 5)]
    assert count("FULLY_CONNECTED", shapes, (0, 1, -1), (2,), {"keep_num_dims": True}) == (150, 15)


@pytest.mark.parametrize(("left", "adj_x"), [((2, 3, 4), False), ((2, 4, 3), True)])
def test_batch_matmul(left: tuple[int, ...], adj_x: bool) -> None:
    # 2 batches of (3x4) @ (4x5) = 2*3*5 = 30 outputs, each a 4-long dot product: 120 MACs.
    # With adj_x the left matrix is stored transposed (4x3); the reduction is still 4.
    shapes = [left, (2, 4, 5), (2, 3, 5)]
    assert count("BATCH_MATMUL", shapes, (0, 1), (2,), {"adj_x": adj_x, "adj_y": False}) == (120, 30)


def test_transpose_conv() -> None:
    # Inputs: output shape, weights (2 out channels, 3x3, 5 in), input 4x4x5. Each of the 80 input
    # elements is scattered into a 3x3 window of 2 channels: 80 * 18 = 1,440 MACs; output 8x8x2.
    shapes = [(4,), (2, 3, 3, 5), (1, 4, 4, 5), (1, 8, 8, 2)]
    assert count("TRANSPOSE_CONV", shapes, (0, 1, 2), (3,), {"stride_w": 2, "stride_h": 2}) == (1440, 128)


def _lstm_inputs(cifg: bool) -> tuple[list[tuple[int, ...]], tuple[int, ...]]:
    """A 24-input UNIDIRECTIONAL_SEQUENCE_LSTM: batch 1, 4 steps, 3 inputs, 2 cells, no projection."""
    shapes: list[tuple[int, ...]] = [(1, 4, 3)]
    shapes += [(2, 3)] * 4  # 1-4 input-to-gate weights
    shapes += [(2, 2)] * 4  # 5-8 recurrent-to-gate weights
    shapes += [(2,)] * 4  # 9-12 gate biases (peepholes omitted below)
    shapes += [(1, 2), (1, 2), (1, 4, 2)]  # 13-14 output and cell state, 15 output
    inputs = [0, 1, 2, 3, 4, 5, 6, 7, 8, -1, -1, -1, 9, 10, 11, 12, -1, -1, 13, 14, -1, -1, -1, -1]
    if cifg:  # coupled input and forget gate: no input-gate weights
        inputs[1] = inputs[5] = -1
    return shapes, tuple(inputs)


def test_lstm() -> None:
    # Per step: 4 gates * (2x3 input weights + 2x2 recurrent weights) = 4 * 10 = 40 MACs; 4 steps
    # -> 160. Elements per step: 2 cells * (4 gate activations + cell update + hidden) = 12 -> 48.
    shapes, inputs = _lstm_inputs(cifg=False)
    assert count("UNIDIRECTIONAL_SEQUENCE_LSTM", shapes, inputs, (15,), {"time_major": False}) == (160, 48)


def test_lstm_cifg_has_three_gates() -> None:
    # Without the input gate: 3 * 10 = 30 MACs per step -> 120; elements 2 * (3 + 2) * 4 = 40.
    shapes, inputs = _lstm_inputs(cifg=True)
    assert count("UNIDIRECTIONAL_SEQUENCE_LSTM", shapes, inputs, (15,), {"time_major": False}) == (120, 40)


def test_svdf() -> None:
    # Batch 2, input 4, 6 filters (rank 2 -> 3 units), memory 5. Per batch row: feature matmul
    # 6 * 4 = 24 and time matmul 6 * 5 = 30 MACs -> 2 * 54 = 108. Elements: the state shift
    # 2 * 6 * 5 = 60 plus the 2 * 3 = 6 outputs -> 66.
    shapes = [(2, 4), (6, 4), (6, 5), (3,), (2, 30), (2, 3)]
    assert count("SVDF", shapes, (0, 1, 2, 3, 4), (5,), {"rank": 2}) == (108, 66)


# --------------------------------------------------------------------------- element-only ops


def test_average_pool_reads_every_window_element() -> None:
    # 2x2 windows, stride 2, on 4x4x3 -> 2x2x3 = 12 outputs * 4 reads = 48 elements, no MACs.
    options = {"filter_width": 2, "filter_height": 2, "stride_w": 2, "stride_h": 2, "padding": 1}
    assert count("AVERAGE_POOL_2D", [(1, 4, 4, 3), (1, 2, 2, 3)], (0,), (1,), options) == (0, 48)


def test_max_pool_overlapping_windows() -> None:
    # 3x3 windows, stride 1, VALID on 5x5x1 -> 3x3 outputs * 9 reads = 81 elements.
    options = {"filter_width": 3, "filter_height": 3, "stride_w": 1, "stride_h": 1, "padding": 1}
    assert count("MAX_POOL_2D", [(1, 5, 5, 1), (1, 3, 3, 1)], (0,), (1,), options) == (0, 81)


@pytest.mark.parametrize(
    ("op_name", "shapes", "inputs", "expected_elements"),
    [
        # Elementwise: one per output element, broadcasting or not (4*4*3 = 48).
        ("ADD", [(1, 4, 4, 3), (1, 4, 4, 3), (1, 4, 4, 3)], (0, 1), 48),
        ("MUL", [(1, 4, 4, 3), (3,), (1, 4, 4, 3)], (0, 1), 48),
        ("LOGISTIC", [(1, 16), (1, 16)], (0,), 16),
        # Softmax and reductions: one per input element (1x10 -> 10; 4*4*8 = 128 -> 8 outputs).
        ("SOFTMAX", [(1, 10), (1, 10)], (0,), 10),
        ("MEAN", [(1, 4, 4, 8), (2,), (1, 1, 1, 8)], (0, 1), 128),
        # Data movement: one per output element written.
        ("RESHAPE", [(1, 1, 1, 64), (2,), (1, 64)], (0, 1), 64),
        ("CONCATENATION", [(1, 2, 2, 3), (1, 2, 2, 5), (1, 2, 2, 8)], (0, 1), 32),
        ("PAD", [(1, 2, 2, 1), (4, 2), (1, 4, 4, 1)], (0, 1), 16),
        ("QUANTIZE", [(1, 10), (1, 10)], (0,), 10),
        # No rule: one per output element, kind OTHER.
        ("CUSTOM:SignalRfft", [(480,), (514,)], (0,), 514),
    ],
)
def test_element_ops(
    op_name: str, shapes: list[tuple[int, ...]], inputs: tuple[int, ...], expected_elements: int
) -> None:
    assert count(op_name, shapes, inputs, (len(shapes) - 1,)) == (0, expected_elements)


@pytest.mark.parametrize(
    ("op_name", "kind"),
    [
        ("CONV_2D", OpKind.CONV),
        ("TRANSPOSE_CONV", OpKind.CONV),
        ("DEPTHWISE_CONV_2D", OpKind.DEPTHWISE),
        ("FULLY_CONNECTED", OpKind.FULLY_CONNECTED),
        ("BATCH_MATMUL", OpKind.FULLY_CONNECTED),
        ("SVDF", OpKind.RECURRENT),
        ("UNIDIRECTIONAL_SEQUENCE_LSTM", OpKind.RECURRENT),
        ("MAX_POOL_2D", OpKind.POOL),
        ("ADD", OpKind.ELEMENTWISE),
        ("QUANTIZE", OpKind.ELEMENTWISE),
        ("SOFTMAX", OpKind.SOFTMAX),
        ("MEAN", OpKind.REDUCE),
        ("RESHAPE", OpKind.DATA_MOVEMENT),
        ("PAD", OpKind.DATA_MOVEMENT),
        ("CONCATENATION", OpKind.DATA_MOVEMENT),
        ("WHILE", OpKind.OTHER),
        ("CUSTOM:ethos-u", OpKind.OTHER),
    ],
)
def test_op_kinds(op_name: str, kind: OpKind) -> None:
    assert op_kind(op_name) is kind


# --------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("op_name", "shapes", "inputs", "options", "message"),
    [
        ("CONV_2D", [(1, 5, 5, 3), (1, 3, 3, 4)], (0,), {}, "needs a filter at input 1"),
        ("CONV_2D", [(1, 5, 5, 3), (4, 3, 3), (1, 3, 3, 4)], (0, 1), {}, "expected rank 4"),
        ("FULLY_CONNECTED", [(1, 10), (5, -1), (1, 5)], (0, 1), {}, "negative dimension"),
        ("CONV_2D", [(1, 5, 5, 3), (4, 3, 3, 3), (1, 3, 3, 4)], (0, 9), {}, "beyond the subgraph"),
        ("MAX_POOL_2D", [(1, 4, 4, 1), (1, 2, 2, 1)], (0,), {"filter_width": 2}, "option filter_height"),
    ],
)
def test_bad_shapes_name_the_place(
    op_name: str,
    shapes: list[tuple[int, ...]],
    inputs: tuple[int, ...],
    options: dict[str, object],
    message: str,
) -> None:
    with pytest.raises(ArenaError, match=message) as caught:
        count(op_name, shapes, inputs, (len(shapes) - 1,), options)
    assert str(caught.value).startswith(f"test.tflite: subgraph 0, op 0 ({op_name}): ")


# ----------------------------------------------------------------------------- model totals


def test_model_totals_and_constants_counted_once() -> None:
    # Two FULLY_CONNECTED ops share one int8 weight buffer (buffer 7, 4x4 = 16 bytes): the
    # parameters count it once, plus the int32 bias (4 elements, 16 bytes) -> 20 elements, 32 B.
    def weights(index: int) -> Tensor:
        return Tensor(
            index=index,
            name=f"w{index}",
            shape=(4, 4),
            type_code=9,
            buffer=7,
            has_data=True,
            is_variable=False,
        )

    tensors = (
        tensor(0, (1, 4)),
        weights(1),
        weights(2),
        tensor(3, (4,), type_code=I32, const=True),
        tensor(4, (1, 4)),
        tensor(5, (1, 4)),
    )
    ops = (operator(0, "FULLY_CONNECTED", (0, 1, 3), (4,)), operator(1, "FULLY_CONNECTED", (4, 2, 3), (5,)))
    graph = Subgraph(index=0, name="main", tensors=tensors, operators=ops, inputs=(0,), outputs=(5,))
    counts = count_model(make_model(graph))
    # Each op: 4 outputs * 4 inputs = 16 MACs.
    assert [op.macs for op in counts.ops] == [16, 16]
    assert (counts.macs, counts.elements) == (32, 8)
    assert (counts.parameters, counts.constant_bytes) == (20, 32)


# ---------------------------------------------------------------- MLPerf Tiny reference models

# Published MACs of conv, depthwise and fully connected layers (MLPerf Tiny, the calibration
# file's model_macs column).
MLPERF_MACS = {
    "mlperf_kws_ref_model.tflite": 2_656_768,
    "mlperf_vww_96_int8.tflite": 7_489_664,
    "mlperf_ic_pretrainedResnet_quant.tflite": 12_501_632,
    "mlperf_ad01_int8.tflite": 264_192,
}


@pytest.mark.parametrize("name", sorted(MLPERF_MACS))
def test_mlperf_tiny_mac_totals(shared_dir: Path, name: str) -> None:
    assert count_model(read_model(shared_dir / name)).macs == MLPERF_MACS[name]


def test_kws_mac_breakdown(shared_dir: Path) -> None:
    # DS-CNN: conv 10x4 from 1 to 64 channels, stride 2 -> 25x5x64: 8,000 outputs * 40 = 320,000;
    # four 3x3 depthwise on 25x5x64: 4 * 8,000 * 9 = 288,000; four 1x1 convs 64 -> 64:
    # 4 * 8,000 * 64 = 2,048,000; fully connected 64 -> 12: 768.
    counts = count_model(read_model(shared_dir / "mlperf_kws_ref_model.tflite"))
    by_kind: dict[OpKind, int] = {}
    for op in counts.ops:
        by_kind[op.kind] = by_kind.get(op.kind, 0) + op.macs
    assert by_kind[OpKind.CONV] == 320_000 + 2_048_000
    assert by_kind[OpKind.DEPTHWISE] == 288_000
    assert by_kind[OpKind.FULLY_CONNECTED] == 768
    # Average pool reads the whole 25x5x64 map once: 8,000 elements.
    assert [op.elements for op in counts.ops if op.kind is OpKind.POOL] == [8_000]
