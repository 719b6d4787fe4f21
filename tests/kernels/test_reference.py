"""The reference kernels' scratch rules and Prepare refusals (arena.kernels.reference[_scratch]).

Unit tests build records by hand. Every expected size is worked out from the TFLM kernel source
(tensorflow/tflite-micro 90b983c2) in the comment beside it, never printed by the code under test.

Oracle tests (marked ``oracle``) write a one-op .tflite with the flatbuffers builder, let the
``tflite-micro`` package prepare it in a child process, and compare the head TFLM reports with
the tensors plus our predicted scratch: in a one-op graph every activation and scratch buffer is
live at step 0, so the greedy plan stacks them and head = sum of their 16-byte aligned sizes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
from flatbuffers import flexbuffers

from arena.kernels.reference import (
    SUPPORTED_BUILTINS,
    SUPPORTED_CUSTOM,
    reference_scratch,
    reference_unsupported_reason,
)
from arena.model import read_model_bytes
from arena.model.records import Model, Operator, Subgraph, Tensor
from conftest import make_model, operator, tensor

# schema TensorType codes
F32, I32, I64, BOOL, I16, I8, I4 = 0, 2, 4, 6, 7, 9, 17


def one_op(op: Operator, *tensors_: Tensor) -> tuple[Model, Subgraph, Operator]:
    graph = Subgraph(index=0, name="main", tensors=tensors_, operators=(op,), inputs=(), outputs=())
    return make_model(graph), graph, op


def sizes(op: Operator, *tensors_: Tensor) -> list[int]:
    model, graph, op = one_op(op, *tensors_)
    return [r.size_bytes for r in reference_scratch(model, graph, op)]


def reason(op: Operator, *tensors_: Tensor) -> str | None:
    model, graph, op = one_op(op, *tensors_)
    return reference_unsupported_reason(model, graph, op)


# ------------------------------------------------------------------------------- ADD_N


def test_add_n_int8_requests_one_pointer_per_input() -> None:
    # add_n.cc CalculateOpData, int8 branch: sizeof(int8_t*) * NumInputs = 8 * 3 on x86-64.
    op = operator(0, "ADD_N", (0, 1, 2), (3,))
    ts = [tensor(i, (1, 64)) for i in range(4)]
    assert sizes(op, *ts) == [24]
    assert reason(op, *ts) is None


def test_add_n_float32_requests_one_pointer_per_input() -> None:
    # add_n.cc CalculateOpData, float32 branch: sizeof(float*) * NumInputs = 8 * 2.
    op = operator(0, "ADD_N", (0, 1), (2,))
    assert sizes(op, *[tensor(i, (4,), type_code=F32) for i in range(3)]) == [16]


def test_add_n_int16_is_refused_and_requests_nothing() -> None:
    # add_n.cc: any output type other than float32/int8 ends Prepare with an error.
    op = operator(0, "ADD_N", (0, 1), (2,))
    ts = [tensor(i, (4,), type_code=I16) for i in range(3)]
    assert sizes(op, *ts) == []
    assert "float32 and int8" in (reason(op, *ts) or "")


def test_add_n_mixed_types_are_refused() -> None:
    # add_n.cc: every input must have the output's (= first input's) type.
    op = operator(0, "ADD_N", (0, 1), (2,))
    assert reason(op, tensor(0, (4,)), tensor(1, (4,), type_code=I16), tensor(2, (4,))) is not None


# ------------------------------------------------------------------ int4 filters (conv, dw, fc)


@pytest.mark.parametrize(
    ("op_name", "filter_shape", "expected"),
    [
        # conv_common.cc ConvPrepare: FlatSize(filter) bytes = 8*3*3*3 = 216.
        ("CONV_2D", (8, 3, 3, 3), 216),
        # depthwise_conv_common.cc DepthwiseConvPrepare: 1*3*3*4 = 36.
        ("DEPTHWISE_CONV_2D", (1, 3, 3, 4), 36),
        # fully_connected.cc FullyConnectedPrepare: 10*32 = 320.
        ("FULLY_CONNECTED", (10, 32), 320),
    ],
)
def test_int4_filter_is_unpacked_into_scratch(op_name: str, filter_shape: tuple[int, ...], expected: int) -> None:
    op = operator(0, op_name, (0, 1, 2), (3,))
    ts = [
        tensor(0, (1, 5, 5, 3)),
        tensor(1, filter_shape, type_code=I4, const=True),
        tensor(2, (filter_shape[0],), type_code=I32, const=True),
        tensor(3, (1, 5, 5, 8)),
    ]
    assert sizes(op, *ts) == [expected]
    assert reason(op, *ts) is None


@pytest.mark.parametrize("op_name", ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"])
def test_int8_filter_requests_no_scratch(op_name: str) -> None:
    # The only RequestScratchBufferInArena in these Prepares sits under `filter->type == kTfLiteInt4`.
    op = operator(0, op_name, (0, 1, 2), (3,))
    ts = [
        tensor(0, (1, 5, 5, 3)),
        tensor(1, (8, 3, 3, 3), const=True),
        tensor(2, (8,), type_code=I32, const=True),
        tensor(3, (1, 5, 5, 8)),
    ]
    assert sizes(op, *ts) == []


@pytest.mark.parametrize(
    ("op_name", "input_type", "filter_type", "output_type", "refused"),
    [
        # conv_common.cc ConvPrepare: input type == output type, then only
        # f32/f32, i16/i8, i8/i8, i8/i4 pass ("Hybrid models are not supported").
        ("CONV_2D", F32, I8, F32, True),
        ("CONV_2D", I8, I4, I8, False),
        ("CONV_2D", I16, I8, I16, False),
        ("CONV_2D", I16, I4, I16, True),
        ("CONV_2D", I8, I8, I16, True),
        # depthwise_conv_common.cc: input == filter type, or i8/i4, or i16/i8.
        ("DEPTHWISE_CONV_2D", F32, I8, F32, True),
        ("DEPTHWISE_CONV_2D", I16, I16, I16, False),
        ("DEPTHWISE_CONV_2D", I8, I4, I8, False),
        # fully_connected.cc: f32 needs f32, i8 needs i8/i4, i16 needs i8.
        ("FULLY_CONNECTED", F32, I8, F32, True),
        ("FULLY_CONNECTED", I8, I4, I8, False),
        ("FULLY_CONNECTED", I16, I16, I16, True),
    ],
)
def test_conv_like_type_pairs(op_name: str, input_type: int, filter_type: int, output_type: int, refused: bool) -> None:
    op = operator(0, op_name, (0, 1), (2,))
    got = reason(
        op,
        tensor(0, (1, 4, 4, 2), type_code=input_type),
        tensor(1, (2, 1, 1, 2), type_code=filter_type, const=True),
        tensor(2, (1, 4, 4, 2), type_code=output_type),
    )
    assert (got is not None) == refused


# ---------------------------------------------------------------------------- TRANSPOSE_CONV


def _transpose_conv(input_type: int, bias_type: int | None) -> tuple[Operator, list[Tensor]]:
    # Inputs (transpose_conv.h): 0 output shape, 1 filter, 2 input, 3 bias; output [1,8,8,4].
    ts: list[Tensor] = [
        tensor(0, (4,), type_code=I32, const=True),
        tensor(1, (4, 3, 3, 2), const=True),
        tensor(2, (1, 4, 4, 2), type_code=input_type),
        tensor(3, (1, 8, 8, 4), type_code=input_type),
    ]
    inputs: tuple[int, ...] = (0, 1, 2)
    if bias_type is not None:
        ts.append(tensor(4, (4,), type_code=bias_type, const=True))
        inputs = (0, 1, 2, 4)
    return operator(0, "TRANSPOSE_CONV", inputs, (3,)), ts


def test_transpose_conv_int8_requests_int32_per_output_element() -> None:
    # transpose_conv.cc TransposeConvPrepare: FlatSize(output) * sizeof(int32_t) = 256 * 4.
    op, ts = _transpose_conv(I8, I32)
    assert sizes(op, *ts) == [1024]
    assert reason(op, *ts) is None


def test_transpose_conv_int16_with_int16_bias_requests_two_int64_buffers() -> None:
    # TransposeConvPrepare: 256 outputs * sizeof(int64_t) = 2048; then CalculateOpData widens the
    # int16 bias to int64: 4 * 8 = 32.
    op, ts = _transpose_conv(I16, I16)
    ts[1] = tensor(1, (4, 3, 3, 2), type_code=I8, const=True)
    assert sizes(op, *ts) == [2048, 32]
    assert reason(op, *ts) is None


def test_transpose_conv_int16_with_int64_bias_or_none_requests_one_buffer() -> None:
    # The bias copy happens only when `bias != nullptr && bias->type == kTfLiteInt16`.
    for bias_type in (I64, None):
        op, ts = _transpose_conv(I16, bias_type)
        assert sizes(op, *ts) == [2048]


def test_transpose_conv_float_requests_nothing() -> None:
    op, ts = _transpose_conv(F32, F32)
    ts[1] = tensor(1, (4, 3, 3, 2), type_code=F32, const=True)
    assert sizes(op, *ts) == []


def test_transpose_conv_refuses_int4_filter() -> None:
    # TransposeConvPrepare: input type == filter type, or int16 with int8; int8 with int4 fails.
    op, ts = _transpose_conv(I8, I32)
    ts[1] = tensor(1, (4, 3, 3, 2), type_code=I4, const=True)
    assert "Hybrid" in (reason(op, *ts) or "")


# --------------------------------------------------------------------------------- MIRROR_PAD


def test_mirror_pad_requests_two_int_per_input_dimension() -> None:
    # mirror_pad.cc MirrorPadPrepare: input_dims * sizeof(int) twice = 4 * 4, 4 * 4.
    op = operator(0, "MIRROR_PAD", (0, 1), (2,), {"mode": 0})
    ts = [tensor(0, (1, 5, 5, 3)), tensor(1, (4, 2), type_code=I32, const=True), tensor(2, (1, 7, 7, 3))]
    assert sizes(op, *ts) == [16, 16]
    assert reason(op, *ts) is None


def test_mirror_pad_2d_and_bad_padding_matrix() -> None:
    # Rank-2 input: 2 * 4 = 8 bytes each. Prepare wants padding of shape [rank, 2].
    op = operator(0, "MIRROR_PAD", (0, 1), (2,))
    ts = [tensor(0, (6, 5)), tensor(1, (2, 2), type_code=I32, const=True), tensor(2, (8, 7))]
    assert sizes(op, *ts) == [8, 8]
    ts[1] = tensor(1, (3, 2), type_code=I32, const=True)
    assert reason(op, *ts) is not None


# ----------------------------------------------------------------------------------- reducers


def _reducer(
    op_name: str,
    input_type: int,
    input_shape: tuple[int, ...],
    axis_shape: tuple[int, ...],
    output_shape: tuple[int, ...],
    axis_type: int = I32,
) -> tuple[Operator, list[Tensor]]:
    op = operator(0, op_name, (0, 1), (2,), {"keep_dims": True})
    return op, [
        tensor(0, input_shape, type_code=input_type),
        tensor(1, axis_shape, type_code=axis_type, const=True),
        tensor(2, output_shape, type_code=input_type),
    ]


def test_mean_int8_requests_accumulators_then_iterators() -> None:
    # reduce_common.cc PrepareMeanOrSumHelper, int8: NumElements(output) * 4 = 40 * 4 = 160;
    # then sizeof(int) * input rank = 16; then sizeof(int) * NumElements(axis) = 8.
    op, ts = _reducer("MEAN", I8, (1, 4, 4, 40), (2,), (1, 1, 1, 40))
    assert sizes(op, *ts) == [160, 16, 8]
    assert reason(op, *ts) is None


def test_sum_int16_scalar_axis() -> None:
    # int16 also gets the accumulator: output [1,4,40] -> 160 * 4 = 640; rank 4 -> 16; a scalar
    # axis tensor has NumElements 1 -> 4.
    op, ts = _reducer("SUM", I16, (1, 4, 4, 40), (), (1, 4, 40))
    assert sizes(op, *ts) == [640, 16, 4]


def test_mean_float_has_no_accumulator() -> None:
    # float32 skips the accumulator: rank 3 -> 12, one axis -> 4.
    op, ts = _reducer("MEAN", F32, (2, 3, 5), (1,), (2, 5))
    assert sizes(op, *ts) == [12, 4]


@pytest.mark.parametrize("op_name", ["REDUCE_MAX", "REDUCE_MIN"])
def test_min_max_never_request_accumulators(op_name: str) -> None:
    # reduce_common.cc PrepareMinMaxHelper: input rank * 4 = 16, axis elements * 4 = 8, int8 too.
    op, ts = _reducer(op_name, I8, (1, 6, 6, 4), (2,), (1, 1, 1, 4))
    assert sizes(op, *ts) == [16, 8]


def test_reduce_all() -> None:
    # reduce_common.cc PrepareAllHelper: bool input only; rank 2 -> 8, one axis -> 4.
    op, ts = _reducer("REDUCE_ALL", BOOL, (2, 8), (1,), (2, 1))
    assert sizes(op, *ts) == [8, 4]
    assert reason(op, *ts) is None
    op, ts = _reducer("REDUCE_ALL", I8, (2, 8), (1,), (2, 1))
    assert "bool" in (reason(op, *ts) or "")


def test_reducers_refuse_non_int32_axis() -> None:
    # reduce_common.cc PrepareSimple: TF_LITE_ENSURE_TYPES_EQ(axis->type, kTfLiteInt32).
    for op_name in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN"):
        op, ts = _reducer(op_name, I8, (1, 4, 4, 8), (2,), (1, 1, 1, 8), axis_type=I64)
        assert "int32 axis" in (reason(op, *ts) or "")


def test_reduce_prod_is_not_registered() -> None:
    op, ts = _reducer("REDUCE_PROD", I8, (1, 4), (1,), (1, 1))
    assert "no kernel" in (reason(op, *ts) or "")


# ------------------------------------------------------------------- TFLite_Detection_PostProcess


def _detection(boxes: int, classes: int, options: dict[str, object]) -> tuple[Operator, list[Tensor]]:
    op = operator(
        0,
        "CUSTOM:TFLite_Detection_PostProcess",
        (0, 1, 2),
        (3, 4, 5, 6),
        custom_options=bytes(flexbuffers.Dumps(options)),
    )
    max_det = int(options["max_detections"])  # type: ignore[call-overload]
    return op, [
        tensor(0, (1, boxes, 4), type_code=F32),
        tensor(1, (1, boxes, classes), type_code=F32),
        tensor(2, (boxes, 4), type_code=F32, const=True),
        tensor(3, (1, max_det, 4), type_code=F32),
        tensor(4, (1, max_det), type_code=F32),
        tensor(5, (1, max_det), type_code=F32),
        tensor(6, (1,), type_code=F32),
    ]


def test_detection_postprocess_eleven_buffers() -> None:
    # detection_postprocess.cc DetectionPostProcessPrepare, num_boxes = 10 (box dim 1),
    # class predictions [1,10,3], max_detections 3, num_classes 2, in request order:
    expected = [
        10,  # active candidates: num_boxes bytes
        10 * 4 * 4,  # decoded boxes: num_boxes * kNumCoordBox * sizeof(float) = 160
        10 * 3 * 4,  # scores: dims[1] * dims[2] * sizeof(float) = 120
        10 * 4,  # score buffer: num_boxes floats
        10 * 4,  # keep scores: num_boxes floats
        3 * 10 * 4,  # scores after regular NMS: max_detections * num_boxes floats
        3 * 10 * 4,  # sorted values: same
        10 * 4,  # keep indices: num_boxes ints
        3 * 10 * 4,  # sorted indices: max_detections * num_boxes ints
        max(2, 3) * 10 * 4,  # buffer: max(num_classes, max_detections) * num_boxes ints = 120
        min(10, 3) * 10 * 4,  # selected: min(num_boxes, max_detections) * num_boxes ints = 120
    ]
    op, ts = _detection(
        10,
        3,
        {
            "max_detections": 3,
            "max_classes_per_detection": 1,
            "num_classes": 2,
            "nms_score_threshold": 0.3,
            "nms_iou_threshold": 0.6,
            "y_scale": 10.0,
            "x_scale": 10.0,
            "h_scale": 5.0,
            "w_scale": 5.0,
        },
    )
    assert sizes(op, *ts) == expected
    assert reason(op, *ts) is None


def test_detection_postprocess_max_and_min_pick_the_other_side() -> None:
    # num_boxes 2, max_detections 5, num_classes 7: buffer uses num_classes (7 * 2 * 4 = 56),
    # selected uses num_boxes (2 * 2 * 4 = 16); per-detection buffers 5 * 2 * 4 = 40.
    op, ts = _detection(2, 8, {"max_detections": 5, "num_classes": 7})
    got = sizes(op, *ts)
    assert got[5:7] == [40, 40] and got[8:] == [40, 56, 16]
    assert got[2] == 2 * 8 * 4


def test_detection_postprocess_refuses_2d_boxes() -> None:
    op, ts = _detection(10, 3, {"max_detections": 3, "num_classes": 2})
    ts[0] = tensor(0, (10, 4), type_code=F32)
    assert "3-D box encodings" in (reason(op, *ts) or "")


# ------------------------------------------------------------- rules verified earlier on real models


def test_svdf_int8_and_float() -> None:
    # svdf_common.cc PrepareSvdf: batch 2 (input dim 0), num_filters 12 (weights_feature dim 0),
    # rank 3 -> num_units 4. int8: 2*12*4 = 96 then 2*4*4 = 32; float: 2*12*4 = 96 only.
    op = operator(0, "SVDF", (0, 1, 2, 3, 4), (5,), {"rank": 3})
    ts = [
        tensor(0, (2, 16)),
        tensor(1, (12, 16), const=True),
        tensor(2, (12, 10), type_code=I16, const=True),
        tensor(3, (4,), type_code=I32, const=True),
        tensor(4, (2, 120), type_code=I16, variable=True),
        tensor(5, (2, 4)),
    ]
    assert sizes(op, *ts) == [96, 32]
    ts[0] = tensor(0, (2, 16), type_code=F32)
    assert sizes(op, *ts) == [96]


def test_lstm_four_gate_buffers() -> None:
    # unidirectional_sequence_lstm.cc: 4 x batch * state * TfLiteTypeGetSize(cell state) with
    # batch-major input [3, 5, 8] (batch 3), output state [3, 16], int16 cell: 3*16*2 = 96.
    inputs = tuple(range(24))
    op = operator(0, "UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, (24,), {"time_major": False})
    ts = [tensor(i, (1,), const=True) for i in range(25)]
    ts[0] = tensor(0, (3, 5, 8))
    ts[18] = tensor(18, (3, 16), variable=True)
    ts[19] = tensor(19, (3, 16), type_code=I16, variable=True)
    assert sizes(op, *ts) == [96] * 4


def test_rfft_work_area() -> None:
    # signal rfft.cc RfftPrepare: fft_length * sizeof(T), T int16 (schema code 7): 512 * 2.
    op = operator(
        0,
        "CUSTOM:SignalRfft",
        (0,),
        (1,),
        custom_options=bytes(flexbuffers.Dumps({"T": I16, "fft_length": 512})),
    )
    assert sizes(op, tensor(0, (1, 480), type_code=I16), tensor(1, (1, 514), type_code=I16)) == [1024]


def test_other_ops_request_nothing() -> None:
    op = operator(0, "SOFTMAX", (0,), (1,))
    assert sizes(op, tensor(0, (1, 10)), tensor(1, (1, 10))) == []


# ------------------------------------------------------------------------------ op lists


def test_resolver_lists() -> None:
    # python_ops_resolver.cc registers 100 builtins; its AddCustom names come from
    # micro_mutable_op_resolver.h (AddDecode -> "TFLM_DECODE", AddDetectionPostprocess ->
    # "TFLite_Detection_PostProcess", AddCircularBuffer -> "CIRCULAR_BUFFER", signal -> "Signal*").
    assert len(SUPPORTED_BUILTINS) == 100
    assert {"MEAN", "SUM", "REDUCE_ALL", "MIRROR_PAD", "TRANSPOSE_CONV"} <= SUPPORTED_BUILTINS
    assert "REDUCE_PROD" not in SUPPORTED_BUILTINS
    assert {
        "TFLM_DECODE",
        "TFLite_Detection_PostProcess",
        "CIRCULAR_BUFFER",
        "SignalRfft",
    } <= SUPPORTED_CUSTOM
    assert "ethos-u" not in SUPPORTED_CUSTOM


def test_ethos_u_reason_names_the_npu() -> None:
    # AddEthosU registers nothing when Register_ETHOSU() (the stub kernels/ethosu.cc) is null.
    op = operator(0, "CUSTOM:ethos-u", (0,), (1,))
    got = reason(op, tensor(0, (1, 4)), tensor(1, (1, 4))) or ""
    assert "Ethos-U" in got and "Failed to get registration" in got


def test_unknown_custom_op() -> None:
    op = operator(0, "CUSTOM:MyOp", (0,), (1,))
    assert "no kernel" in (reason(op, tensor(0, (1,)), tensor(1, (1,))) or "")


# ==================================================================================== oracle
# A tiny .tflite writer (tflite package builders) and a child process running the real TFLM.


@dataclass
class Spec:
    """One tensor of an oracle model; ``data`` set = constant."""

    shape: tuple[int, ...]
    type: int
    data: bytes | None = None
    scale: tuple[float, ...] = ()
    zero_point: tuple[int, ...] = ()
    qdim: int = 0


@dataclass
class OpSpec:
    """The single operator: builtin name (or ``CUSTOM:<code>``), tensor indices and options."""

    name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options_table: str | None = None
    options: dict[str, object] = field(default_factory=dict)
    custom_options: bytes = b""


def _table(b: flatbuffers.Builder, name: str, **fields: object) -> int:
    import tflite

    getattr(tflite, f"{name}Start")(b)
    for key, value in fields.items():
        if value is not None:
            getattr(tflite, f"{name}Add{key}")(b, value)
    return int(getattr(tflite, f"{name}End")(b))


def _vector(b: flatbuffers.Builder, values: object, dtype: type) -> int:
    return int(b.CreateNumpyVector(np.asarray(values, dtype)))


def build_tflite(tensors: list[Spec], op: OpSpec) -> bytes:
    """A one-subgraph, one-op model; non-constant op inputs are graph inputs, op outputs outputs."""
    import tflite

    b = flatbuffers.Builder(1024)
    buffers = [_table(b, "Buffer")]
    for t in tensors:
        data = _vector(b, np.frombuffer(t.data, np.uint8), np.uint8) if t.data is not None else None
        buffers.append(_table(b, "Buffer", Data=data))
    tensor_offsets = []
    for i, t in enumerate(tensors):
        quant = None
        if t.scale:
            quant = _table(
                b,
                "QuantizationParameters",
                Scale=_vector(b, t.scale, np.float32),
                ZeroPoint=_vector(b, t.zero_point, np.int64),
                QuantizedDimension=t.qdim,
            )
        tensor_offsets.append(
            _table(
                b,
                "Tensor",
                Shape=_vector(b, t.shape, np.int32),
                Type=t.type,
                Buffer=i + 1 if t.data is not None else 0,
                Name=b.CreateString(f"t{i}"),
                Quantization=quant,
            )
        )
    custom = op.name.split(":", 1)[1] if op.name.startswith("CUSTOM:") else None
    code = tflite.BuiltinOperator.CUSTOM if custom else getattr(tflite.BuiltinOperator, op.name)
    options = _table(b, op.options_table, **op.options) if op.options_table else None
    custom_options = _vector(b, np.frombuffer(op.custom_options, np.uint8), np.uint8) if op.custom_options else None
    operator_offset = _table(
        b,
        "Operator",
        OpcodeIndex=0,
        Inputs=_vector(b, op.inputs, np.int32),
        Outputs=_vector(b, op.outputs, np.int32),
        BuiltinOptionsType=getattr(tflite.BuiltinOptions, op.options_table) if op.options_table else None,
        BuiltinOptions=options,
        CustomOptions=custom_options,
    )
    graph_inputs = [i for i in op.inputs if i >= 0 and tensors[i].data is None]

    def offsets(start: object, items: list[int]) -> int:
        start(b, len(items))  # type: ignore[operator]
        for item in reversed(items):
            b.PrependUOffsetTRelative(item)
        return int(b.EndVector())

    subgraph = _table(
        b,
        "SubGraph",
        Tensors=offsets(tflite.SubGraphStartTensorsVector, tensor_offsets),
        Inputs=_vector(b, graph_inputs, np.int32),
        Outputs=_vector(b, op.outputs, np.int32),
        Operators=offsets(tflite.SubGraphStartOperatorsVector, [operator_offset]),
        Name=b.CreateString("main"),
    )
    opcode = _table(
        b,
        "OperatorCode",
        DeprecatedBuiltinCode=min(code, 127),
        BuiltinCode=code,
        Version=1,
        CustomCode=b.CreateString(custom) if custom else None,
    )
    model = _table(
        b,
        "Model",
        Version=3,
        Description=b.CreateString("arena oracle"),
        OperatorCodes=offsets(tflite.ModelStartOperatorCodesVector, [opcode]),
        Subgraphs=offsets(tflite.ModelStartSubgraphsVector, [subgraph]),
        Buffers=offsets(tflite.ModelStartBuffersVector, buffers),
    )
    b.Finish(model, file_identifier=b"TFL3")
    return bytes(b.Output())


_CHILD = """
import sys
from tflite_micro import runtime
try:
    interp = runtime.Interpreter.from_file(sys.argv[1], arena_size=1 << 20)
except RuntimeError as exc:
    print("REFUSED", exc, flush=True)
    sys.exit(0)
interp.print_allocations()
"""


@dataclass(frozen=True)
class TflmRun:
    head: int | None  # None: TFLM refused the model
    log: str  # what TFLM printed (fd 2)


def run_tflm(data: bytes, tmp_path: Path) -> TflmRun:
    """Prepare the model in the real TFLM in a child process (C-level prints, possible crashes)."""
    pytest.importorskip("tflite_micro")
    path = tmp_path / "model.tflite"
    path.write_bytes(data)
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    if "REFUSED" in proc.stdout:
        return TflmRun(head=None, log=proc.stderr)
    match = re.search(r"Arena allocation head (\d+) bytes", proc.stderr)
    assert match, proc.stderr[-2000:]
    return TflmRun(head=int(match.group(1)), log=proc.stderr)


def _align(size: int) -> int:
    return -(-size // 16) * 16


def predicted_head(data: bytes) -> int:
    """Aligned activations plus aligned predicted scratch of a one-op model (all live at step 0)."""
    model = read_model_bytes(data, "oracle.tflite")
    graph = model.subgraphs[0]
    (op,) = graph.operators
    assert reference_unsupported_reason(model, graph, op) is None
    activations = sum(_align(t.byte_size or 0) for t in graph.tensors if not t.has_data)
    return activations + sum(_align(r.size_bytes) for r in reference_scratch(model, graph, op))


def q8(shape: tuple[int, ...], scale: float = 0.05, zero_point: int = 0, type_: int = I8) -> Spec:
    return Spec(shape, type_, scale=(scale,), zero_point=(zero_point,))


def const(values: object, dtype: type, type_: int, shape: tuple[int, ...] | None = None) -> Spec:
    array: np.ndarray = np.asarray(values, dtype)
    return Spec(shape if shape is not None else array.shape, type_, data=array.tobytes())


def weights(shape: tuple[int, ...], type_: int, qdim: int) -> Spec:
    """Per-channel symmetric weights; int4 packs two values per byte as the converter does."""
    count = int(np.prod(shape))
    channels = shape[qdim]
    raw = bytes((count + 1) // 2) if type_ == I4 else bytes(count)
    return Spec(shape, type_, data=raw or b"\0", scale=(0.01,) * channels, zero_point=(0,) * channels, qdim=qdim)


def _reducer_model(
    name: str,
    type_: int,
    shape: tuple[int, ...],
    axis: list[int],
    out: tuple[int, ...],
    axis_dtype: type = np.int32,
    axis_type: int = I32,
) -> bytes:
    spec = q8 if type_ in (I8, I16) else (lambda s: Spec(s, type_))
    tensors = [spec(shape), const(axis, axis_dtype, axis_type), spec(out)]
    return build_tflite(tensors, OpSpec(name, (0, 1), (2,), "ReducerOptions", {"KeepDims": len(out) == len(shape)}))


ORACLE_CASES: dict[str, bytes] = {}


def _oracle_cases() -> dict[str, bytes]:
    """Built lazily so a collection error cannot come from the builder."""
    if ORACLE_CASES:
        return ORACLE_CASES
    import tflite

    ORACLE_CASES.update(
        {
            "mean_int8": _reducer_model("MEAN", I8, (1, 4, 4, 40), [1, 2], (1, 1, 1, 40)),
            "sum_int16": _reducer_model("SUM", I16, (1, 4, 4, 40), [2], (1, 4, 40)),
            "mean_float": _reducer_model("MEAN", F32, (2, 3, 50), [1], (2, 50)),
            "reduce_max_int8": _reducer_model("REDUCE_MAX", I8, (1, 6, 6, 4), [1, 2], (1, 1, 1, 4)),
            "reduce_all_bool": _reducer_model("REDUCE_ALL", BOOL, (2, 48), [1], (2,)),
            "add_n_int8": build_tflite(
                [q8((1, 64)) for _ in range(4)], OpSpec("ADD_N", (0, 1, 2), (3,), "AddNOptions")
            ),
            "mirror_pad_int8": build_tflite(
                [q8((1, 5, 5, 3)), const([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32, I32), q8((1, 7, 7, 3))],
                OpSpec("MIRROR_PAD", (0, 1), (2,), "MirrorPadOptions", {"Mode": tflite.MirrorPadMode.REFLECT}),
            ),
            "transpose_conv_int8": build_tflite(
                [
                    const([1, 8, 8, 4], np.int32, I32),
                    weights((4, 3, 3, 2), I8, 0),
                    q8((1, 4, 4, 2)),
                    q8((1, 8, 8, 4)),
                ],
                OpSpec(
                    "TRANSPOSE_CONV",
                    (0, 1, 2),
                    (3,),
                    "TransposeConvOptions",
                    {"Padding": tflite.Padding.SAME, "StrideW": 2, "StrideH": 2},
                ),
            ),
            "transpose_conv_int16_bias16": build_tflite(
                [
                    const([1, 8, 8, 4], np.int32, I32),
                    weights((4, 3, 3, 2), I8, 0),
                    q8((1, 4, 4, 2), type_=I16),
                    q8((1, 8, 8, 4), type_=I16),
                    Spec((4,), I16, data=bytes(8), scale=(0.0005,) * 4, zero_point=(0,) * 4),
                ],
                OpSpec(
                    "TRANSPOSE_CONV",
                    (0, 1, 2, 4),
                    (3,),
                    "TransposeConvOptions",
                    {"Padding": tflite.Padding.SAME, "StrideW": 2, "StrideH": 2},
                ),
            ),
            "conv_int4": build_tflite(
                [
                    q8((1, 5, 5, 3)),
                    weights((8, 3, 3, 3), I4, 0),
                    Spec((8,), I32, data=bytes(32), scale=(0.0005,) * 8, zero_point=(0,) * 8),
                    q8((1, 5, 5, 8)),
                ],
                OpSpec(
                    "CONV_2D",
                    (0, 1, 2),
                    (3,),
                    "Conv2DOptions",
                    {
                        "Padding": tflite.Padding.SAME,
                        "StrideW": 1,
                        "StrideH": 1,
                        "DilationWFactor": 1,
                        "DilationHFactor": 1,
                    },
                ),
            ),
            "depthwise_int4": build_tflite(
                [
                    q8((1, 5, 5, 4)),
                    weights((1, 3, 3, 4), I4, 3),
                    Spec((4,), I32, data=bytes(16), scale=(0.0005,) * 4, zero_point=(0,) * 4),
                    q8((1, 5, 5, 4)),
                ],
                OpSpec(
                    "DEPTHWISE_CONV_2D",
                    (0, 1, 2),
                    (3,),
                    "DepthwiseConv2DOptions",
                    {
                        "Padding": tflite.Padding.SAME,
                        "StrideW": 1,
                        "StrideH": 1,
                        "DepthMultiplier": 1,
                        "DilationWFactor": 1,
                        "DilationHFactor": 1,
                    },
                ),
            ),
            "fully_connected_int4": build_tflite(
                # per-tensor filter scale: per-channel int4 FC is refused (see test_oracle_refusals)
                [
                    q8((1, 32)),
                    Spec((10, 32), I4, data=bytes(160), scale=(0.01,), zero_point=(0,)),
                    Spec((10,), I32, data=bytes(40), scale=(0.0005,), zero_point=(0,)),
                    q8((1, 10)),
                ],
                OpSpec("FULLY_CONNECTED", (0, 1, 2), (3,), "FullyConnectedOptions"),
            ),
            "detection_postprocess": build_tflite(
                [
                    Spec((1, 10, 4), F32),
                    Spec((1, 10, 3), F32),
                    const(np.ones((10, 4)), np.float32, F32),
                    Spec((1, 3, 4), F32),
                    Spec((1, 3), F32),
                    Spec((1, 3), F32),
                    Spec((1,), F32),
                ],
                OpSpec(
                    "CUSTOM:TFLite_Detection_PostProcess",
                    (0, 1, 2),
                    (3, 4, 5, 6),
                    custom_options=bytes(
                        flexbuffers.Dumps(
                            {
                                "max_detections": 3,
                                "max_classes_per_detection": 1,
                                "num_classes": 2,
                                "nms_score_threshold": 0.3,
                                "nms_iou_threshold": 0.6,
                                "y_scale": 10.0,
                                "x_scale": 10.0,
                                "h_scale": 5.0,
                                "w_scale": 5.0,
                                "use_regular_nms": False,
                            }
                        )
                    ),
                ),
            ),
        }
    )
    return ORACLE_CASES


ORACLE_NAMES = [
    "mean_int8",
    "sum_int16",
    "mean_float",
    "reduce_max_int8",
    "reduce_all_bool",
    "add_n_int8",
    "mirror_pad_int8",
    "transpose_conv_int8",
    "transpose_conv_int16_bias16",
    "conv_int4",
    "depthwise_int4",
    "fully_connected_int4",
    "detection_postprocess",
]


@pytest.mark.oracle
@pytest.mark.parametrize("name", ORACLE_NAMES)
def test_oracle_head_matches_prediction(name: str, tmp_path: Path) -> None:
    data = _oracle_cases()[name]
    run = run_tflm(data, tmp_path)
    assert run.head is not None, f"TFLM refused {name}: {run.log[-500:]}"
    model = read_model_bytes(data, "oracle.tflite")
    graph = model.subgraphs[0]
    assert reference_scratch(model, graph, graph.operators[0]), "case must exercise a scratch rule"
    assert run.head == predicted_head(data)


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("hybrid_fc", "Input type: FLOAT32 with filter type: INT8 not supported."),
        ("add_n_int16", "ADD_N only supports FLOAT32 and INT8"),
        ("mean_int64_axis", "axis->type != kTfLiteInt32"),
        ("hybrid_conv", "Hybrid models are not supported"),
        ("fc_int4_per_channel", "fully_connected_common.cc"),
    ],
)
def test_oracle_refusals(name: str, message: str, tmp_path: Path) -> None:
    import tflite

    cases = {
        "hybrid_fc": build_tflite(
            [Spec((1, 32), F32), weights((10, 32), I8, 0), Spec((1, 10), F32)],
            OpSpec("FULLY_CONNECTED", (0, 1), (2,), "FullyConnectedOptions"),
        ),
        "hybrid_conv": build_tflite(
            [Spec((1, 5, 5, 3), F32), weights((8, 3, 3, 3), I8, 0), Spec((1, 5, 5, 8), F32)],
            OpSpec(
                "CONV_2D",
                (0, 1),
                (2,),
                "Conv2DOptions",
                {
                    "Padding": tflite.Padding.SAME,
                    "StrideW": 1,
                    "StrideH": 1,
                    "DilationWFactor": 1,
                    "DilationHFactor": 1,
                },
            ),
        ),
        "add_n_int16": build_tflite(
            [q8((1, 8), zero_point=0, type_=I16) for _ in range(3)],
            OpSpec("ADD_N", (0, 1), (2,), "AddNOptions"),
        ),
        "fc_int4_per_channel": build_tflite(
            [q8((1, 32)), weights((10, 32), I4, 0), Spec((10,), I32, data=bytes(40)), q8((1, 10))],
            OpSpec("FULLY_CONNECTED", (0, 1, 2), (3,), "FullyConnectedOptions"),
        ),
        "mean_int64_axis": _reducer_model("MEAN", I8, (1, 4, 4, 8), [1, 2], (1, 1, 1, 8), np.int64, I64),
    }
    data = cases[name]
    model = read_model_bytes(data, "oracle.tflite")
    graph = model.subgraphs[0]
    assert reference_unsupported_reason(model, graph, graph.operators[0]) is not None
    run = run_tflm(data, tmp_path)
    assert run.head is None
    assert message in run.log


@pytest.mark.oracle
def test_oracle_ethos_u_model_is_refused(shared_dir: Path, tmp_path: Path) -> None:
    # The wheel's resolver calls AddEthosU, but the portable Register_ETHOSU() returns nullptr, so
    # no "ethos-u" op exists and MicroInterpreter stops at GetRegistrationFromOpCode.
    data = (shared_dir / "special" / "tflm_person_detect_vela.tflite").read_bytes()
    model = read_model_bytes(data, "vela.tflite")
    graph = model.subgraphs[0]
    assert any("Ethos-U" in (reference_unsupported_reason(model, graph, op) or "") for op in graph.operators)
    run = run_tflm(data, tmp_path)
    assert run.head is None
    assert "Failed to get registration from op code CUSTOM" in run.log
