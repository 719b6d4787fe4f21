"""The CMSIS-NN kernel library (arena.kernels.cmsis_nn).

There is no CMSIS-NN build on this machine to measure against, so every expected size below is
worked by hand from the sources in the comment beside it: TFLM 90b983c2
``tensorflow/lite/micro/kernels/cmsis_nn/*.cc`` and CMSIS-NN 4ab83cc3 (the commit TFLM pins),
``Source/*/arm_*_get_buffer_sizes_*.c`` and ``Include/arm_nnsupportfunctions.h``. None comes
from the code under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.errors import ArenaError
from arena.kernels.cmsis_nn import (
    CMSIS_NN_BY_ISA,
    CMSIS_NN_DSP,
    CMSIS_NN_MVE,
    CMSIS_NN_PLAIN,
    CmsisNnBuild,
    ConvGeometry,
    Dims,
    cmsis_nn_library,
    conv_s8_buffer,
    tflm_padding,
)
from arena.kernels.library import KernelLibrary
from arena.kernels.reference import REFERENCE
from arena.model import read_model
from arena.model.records import Model, Operator, Quantization, Subgraph, Tensor
from conftest import make_model, operator, tensor

F32, I32, I16, I8, I4 = 0, 2, 7, 9, 17
DSP, MVE, PLAIN = CMSIS_NN_DSP, CMSIS_NN_MVE, CMSIS_NN_PLAIN
DSP_ARMCLANG = cmsis_nn_library("dsp", compiler="armclang")
MVE_ARMCLANG = cmsis_nn_library("mve", compiler="armclang")
MVE_SIZE = cmsis_nn_library("mve", optimize_for="size")
SAME, VALID = 0, 1
STRIDE_2: dict[str, object] = {"padding": SAME, "stride_h": 2, "stride_w": 2}


def one_op(op: Operator, *tensors_: Tensor) -> tuple[Model, Subgraph, Operator]:
    graph = Subgraph(index=0, name="main", tensors=tensors_, operators=(op,), inputs=(), outputs=())
    return make_model(graph), graph, op


def sizes(library: KernelLibrary, op: Operator, *tensors_: Tensor) -> list[int]:
    model, graph, op = one_op(op, *tensors_)
    return [r.size_bytes for r in library.scratch_requests(model, graph, op)]


def reason(library: KernelLibrary, op: Operator, *tensors_: Tensor) -> str | None:
    model, graph, op = one_op(op, *tensors_)
    return library.unsupported_reason(model, graph, op)


def per_channel(index: int, shape: tuple[int, ...], channels: int, type_code: int = I8) -> Tensor:
    t = tensor(index, shape, type_code=type_code, const=True)
    q = Quantization(scale=(0.1,) * channels, zero_point=(0,) * channels)
    return Tensor(
        index=t.index,
        name=t.name,
        shape=t.shape,
        type_code=t.type_code,
        buffer=t.buffer,
        has_data=True,
        is_variable=False,
        quantization=q,
    )


def conv(
    in_shape: tuple[int, ...],
    filter_shape: tuple[int, ...],
    out_shape: tuple[int, ...],
    *,
    stride: int = 1,
    padding: int = SAME,
    dilation: int = 1,
    type_code: int = I8,
    filter_type: int = I8,
    name: str = "CONV_2D",
) -> tuple[Operator, list[Tensor]]:
    options: dict[str, object] = {
        "padding": padding,
        "stride_h": stride,
        "stride_w": stride,
        "dilation_h_factor": dilation,
        "dilation_w_factor": dilation,
    }
    op = operator(0, name, (0, 1, 2), (3,), options=options)
    bias_len = filter_shape[0] if name == "CONV_2D" else filter_shape[3]
    ts = [
        tensor(0, in_shape, type_code=type_code),
        tensor(1, filter_shape, type_code=filter_type, const=True),
        tensor(2, (bias_len,), type_code=I32, const=True),
        tensor(3, out_shape, type_code=type_code),
    ]
    return op, ts


def depthwise(
    in_shape: tuple[int, ...], filter_shape: tuple[int, ...], out_shape: tuple[int, ...], **kwargs: int
) -> tuple[Operator, list[Tensor]]:
    return conv(in_shape, filter_shape, out_shape, name="DEPTHWISE_CONV_2D", **kwargs)


# ---------------------------------------------------------------------- TFLM padding


@pytest.mark.parametrize(
    ("in_hw", "filter_hw", "stride", "padding", "dilation", "expected"),
    [
        # SAME: out = ceil(49/2) = 25, total = 24*2 + 10 - 49 = 9 -> 4; width ceil(10/2)=5, 4*2+4-10=2 -> 1.
        ((49, 10), (10, 4), 2, SAME, 1, (4, 1)),
        # SAME 3x3 stride 1: total = 2 -> 1 each side.
        ((25, 5), (3, 3), 1, SAME, 1, (1, 1)),
        # VALID: out = (8 + 1 - 3) / 1 = 6, total = 5 + 3 - 8 = 0.
        ((8, 8), (3, 3), 1, VALID, 1, (0, 0)),
        # SAME with dilation 2: effective filter 5, total = 7 + 5 - 8 = 4 -> 2.
        ((8, 8), (3, 3), 1, SAME, 2, (2, 2)),
    ],
)
def test_tflm_padding(
    in_hw: tuple[int, int],
    filter_hw: tuple[int, int],
    stride: int,
    padding: int,
    dilation: int,
    expected: tuple[int, int],
) -> None:
    op, _ = conv((1, *in_hw, 1), (1, *filter_hw, 1), (1, 1, 1, 1), stride=stride, padding=padding, dilation=dilation)
    g = tflm_padding(op, Dims(1, *in_hw, 1), Dims(1, *filter_hw, 1))
    assert (g.pad_h, g.pad_w) == expected


# ------------------------------------------------------------------------- CONV_2D int8


def test_conv_generic_im2col_differs_between_dsp_and_mve() -> None:
    # 3x3 filter over 3 channels: rhs_cols = 27.
    # DSP/plain arm_convolve_s8_get_buffer_size: align4(27) = 28 -> 2 * 28 * sizeof(int16) = 112.
    # MVE arm_convolve_s8_get_buffer_size_mve: ceil(27/16) = 2 -> 4 * 2 * 16 = 128.
    op, ts = conv((1, 8, 8, 3), (16, 3, 3, 3), (1, 8, 8, 16))
    assert sizes(DSP, op, *ts) == [112]
    assert sizes(PLAIN, op, *ts) == [112]
    assert sizes(MVE, op, *ts) == [128]
    assert REFERENCE.scratch_requests(*one_op(op, *ts)) == ()


def test_conv_1x1_unit_stride_depends_on_compiler_only_on_dsp() -> None:
    # arm_nn_is_convolve_1x1 (pad 0, 1x1, dilation 1, Cin == filter c) and unit stride -> the fast
    # kernel. arm_convolve_1x1_s8_fast_get_buffer_size_dsp: 2*Cin int16 = 2*64*2 = 256 under Arm
    # Compiler 6 (__ARMCC_VERSION), 0 under GCC. MVE and plain builds return 0 whatever the compiler.
    op, ts = conv((1, 25, 5, 64), (64, 1, 1, 64), (1, 25, 5, 64))
    assert sizes(DSP, op, *ts) == []
    assert sizes(DSP_ARMCLANG, op, *ts) == [256]
    assert sizes(MVE, op, *ts) == []
    assert sizes(MVE_ARMCLANG, op, *ts) == []
    assert sizes(cmsis_nn_library("none", compiler="armclang"), op, *ts) == []


def test_conv_1x1_stride_2_needs_no_buffer() -> None:
    # 1x1 but not unit stride -> arm_convolve_1x1_s8: the wrappers return 0 for every ISA/compiler.
    op, ts = conv((1, 8, 8, 16), (8, 1, 1, 16), (1, 4, 4, 8), stride=2)
    for library in (DSP, DSP_ARMCLANG, MVE, PLAIN):
        assert sizes(library, op, *ts) == []


def test_grouped_1x1_conv_takes_the_generic_path() -> None:
    # Cin 8, filter c 4 (two groups): Cin != filter c, so neither 1x1 nor 1xN. The generic size
    # uses the *input* channels: rhs_cols = 1*1*8 = 8 -> DSP 2*8*2 = 32; MVE ceil(8/16)=1 -> 64.
    op, ts = conv((1, 4, 4, 8), (8, 1, 1, 4), (1, 4, 4, 8))
    assert sizes(DSP, op, *ts) == [32]
    assert sizes(MVE, op, *ts) == [64]


def test_conv_1xn_same_padding() -> None:
    # Input height 1, filter 1x3, Cin 4, stride 1: (1*4) % 4 == 0 -> arm_convolve_1_x_n_s8.
    # DSP: arm_convolve_1_x_n_s8_get_buffer_size -> generic: rhs_cols 12 -> 2*12*2 = 48.
    # MVE 1xN: SAME pad_w = (15 + 3 - 16) / 2 = 1, total_pad 2 -> asym 0; right = max(1, 1/1) = 1,
    # left = 1, middle 14 -> covers 16. left elements 3*4 = 12 + pad 1*4 = 16; right 12-4 + 4 = 12.
    # max = 16.
    op, ts = conv((1, 1, 16, 4), (8, 1, 3, 4), (1, 1, 16, 8))
    assert sizes(DSP, op, *ts) == [48]
    assert sizes(MVE, op, *ts) == [16]


def test_conv_1xn_mve_falls_back_when_the_split_does_not_cover_the_row() -> None:
    # Width 1, filter 1x3, SAME: out 1, total = 0 + 3 - 1 = 2 -> pad 1; right 1 + left 1 > 1, so
    # middle = 0 and 2 != 1 -> arm_convolve_s8_get_buffer_size_mve: ceil(12/16) = 1 -> 64.
    op, ts = conv((1, 1, 1, 4), (8, 1, 3, 4), (1, 1, 1, 8))
    assert sizes(MVE, op, *ts) == [64]


def test_conv_1xn_mve_with_negative_total_padding_uses_c_remainder() -> None:
    # VALID, width 10, filter 3, stride 2: out (10+2-3)/2 = 4; total_pad = 3*2 + 3 - 10 = -1, and in C
    # -1 % 2 = -1 (nonzero). right = max(1, (0 - 1 + 1) / 2 = 0) = 1, left = 0, middle 3 -> covers 4.
    # pad_size_right = 1*4 (asym nonzero); max(12 + 0, 8 + 4) = 12.
    build = CmsisNnBuild(isa="mve")
    size, kernel = conv_s8_buffer(
        build, ConvGeometry(1, 2, 0, 0), Dims(1, 1, 10, 4), Dims(1, 1, 3, 4), Dims(1, 1, 4, 8)
    )
    assert (size, kernel) == (12, "arm_convolve_1_x_n_s8")


def test_conv_int16_uses_the_s16_wrapper() -> None:
    # arm_convolve_wrapper_s16_get_buffer_size. DSP: 2 * 27 * sizeof(int16) = 108 (no rounding).
    # MVE: ceil(27/8) = 4 -> 4 * 4 * 8 * sizeof(int16) = 256. TFLM asks it even with an int32 bias,
    # because its bias lookup (AllocateTempOutputTensor at slot 2) is always null.
    op, ts = conv((1, 8, 8, 3), (16, 3, 3, 3), (1, 8, 8, 16), type_code=I16)
    assert sizes(DSP, op, *ts) == [108]
    assert sizes(MVE, op, *ts) == [256]


def test_conv_int4_filter_is_sized_by_the_s8_wrapper() -> None:
    # conv.cc Prepare calls arm_convolve_wrapper_s8_get_buffer_size for any int8 input; no unpack
    # buffer (the reference kernel's FlatSize(filter) request does not exist here). 3x3x3 -> 112.
    op, ts = conv((1, 8, 8, 3), (16, 3, 3, 3), (1, 8, 8, 16), filter_type=I4)
    assert sizes(DSP, op, *ts) == [112]


def test_float_conv_requests_nothing() -> None:
    op, ts = conv((1, 8, 8, 3), (16, 3, 3, 3), (1, 8, 8, 16), type_code=F32, filter_type=F32)
    assert sizes(DSP, op, *ts) == [] and sizes(MVE, op, *ts) == []


# --------------------------------------------------------------------- DEPTHWISE int8


def test_depthwise_3x3_fast_path_only_without_mve() -> None:
    # Cin == Cout 64, batch 1, dilation 1, 3x3, SAME pad 1: DSP and plain run
    # arm_depthwise_conv_3x3_s8 -> 0. MVE has no such path: 4 * CH_IN_BLOCK_MVE(124) * 3 * 3 = 4464.
    op, ts = depthwise((1, 25, 5, 64), (1, 3, 3, 64), (1, 25, 5, 64))
    assert sizes(DSP, op, *ts) == []
    assert sizes(PLAIN, op, *ts) == []
    assert sizes(MVE, op, *ts) == [4464]


def test_depthwise_5x5_opt_buffer() -> None:
    # 5x5 SAME pads 2 > 1, so no 3x3 path: arm_depthwise_conv_s8_opt_get_buffer_size.
    # DSP: Cin * 5 * 5 * sizeof(int16) = 8 * 25 * 2 = 400; MVE 4 * 124 * 25 = 12400; plain 0.
    op, ts = depthwise((1, 8, 8, 8), (1, 5, 5, 8), (1, 8, 8, 8))
    assert sizes(DSP, op, *ts) == [400]
    assert sizes(MVE, op, *ts) == [12400]
    assert sizes(PLAIN, op, *ts) == []


def test_depthwise_3x3_valid_padding_still_takes_fast_path() -> None:
    # VALID -> pad 0 <= 1 -> arm_depthwise_conv_3x3_s8 on DSP.
    op, ts = depthwise((1, 8, 8, 8), (1, 3, 3, 8), (1, 6, 6, 8), padding=VALID)
    assert sizes(DSP, op, *ts) == []


@pytest.mark.parametrize("library", [DSP, MVE, PLAIN])
def test_depthwise_with_multiplier_or_dilation_needs_nothing(library: KernelLibrary) -> None:
    # Cin 4 != Cout 8 (multiplier 2), Cin > 1: plain arm_depthwise_conv_s8 -> 0 everywhere.
    op, ts = depthwise((1, 8, 8, 4), (1, 3, 3, 8), (1, 8, 8, 8))
    assert sizes(library, op, *ts) == []
    # Dilation 2 with 5x5: the optimised path needs dilation 1 -> 0.
    op, ts = depthwise((1, 8, 8, 8), (1, 5, 5, 8), (1, 8, 8, 8), dilation=2)
    assert sizes(library, op, *ts) == []


def test_depthwise_one_input_channel_runs_as_conv_on_mve() -> None:
    # Cin 1, Cout 16 > threshold (GCC 1, Arm Compiler 8): arm_depthwise_conv_to_conv_s8.
    # Conv view: filter (n=16, 3, 3, c=1), input h 8 -> not 1x1 or 1xN -> MVE generic:
    # ceil(1*3*3/16) = 1 -> 64, plus the reordered filter 16*3*3*1 = 144 -> 208.
    op, ts = depthwise((1, 8, 8, 1), (1, 3, 3, 16), (1, 8, 8, 16))
    assert sizes(MVE, op, *ts) == [208]
    assert sizes(MVE_ARMCLANG, op, *ts) == [208]
    # DSP: Cin 1 != Cout 16 -> arm_depthwise_conv_s8 -> 0.
    assert sizes(DSP, op, *ts) == []


def test_depthwise_one_input_channel_threshold_is_compiler_dependent() -> None:
    # Cout 4: GCC threshold 1 -> converted: 64 + 4*3*3 = 100. Arm Compiler threshold 8 -> not
    # converted, and Cin 1 != Cout 4 -> 0.
    op, ts = depthwise((1, 8, 8, 1), (1, 3, 3, 4), (1, 8, 8, 4))
    assert sizes(MVE, op, *ts) == [100]
    assert sizes(MVE_ARMCLANG, op, *ts) == []


def test_depthwise_int4_filter_uses_s4_sizes_without_3x3_exception() -> None:
    # arm_depthwise_conv_wrapper_s4_get_buffer_size: non-MVE (plain included) 8*3*3*2 = 144;
    # MVE 4*124*9 = 4464.
    op, ts = depthwise((1, 8, 8, 8), (1, 3, 3, 8), (1, 8, 8, 8), filter_type=I4)
    assert sizes(DSP, op, *ts) == [144]
    assert sizes(PLAIN, op, *ts) == [144]
    assert sizes(MVE, op, *ts) == [4464]


def test_depthwise_int16_requests_nothing() -> None:
    # depthwise_conv.cc only sizes a buffer inside `if (input->type == kTfLiteInt8)`.
    op, ts = depthwise((1, 8, 8, 8), (1, 5, 5, 8), (1, 8, 8, 8), type_code=I16)
    assert sizes(DSP, op, *ts) == [] and sizes(MVE, op, *ts) == []


# ------------------------------------------------------------------- FULLY_CONNECTED


def fc(
    in_shape: tuple[int, ...],
    filter_shape: tuple[int, int],
    out_shape: tuple[int, ...],
    *,
    const_filter: bool = True,
    filter_tensor: Tensor | None = None,
    type_code: int = I8,
) -> tuple[Operator, list[Tensor]]:
    op = operator(0, "FULLY_CONNECTED", (0, 1, 2), (3,))
    weights = filter_tensor or tensor(1, filter_shape, const=const_filter)
    return op, [
        tensor(0, in_shape, type_code=type_code),
        weights,
        tensor(2, (filter_shape[0],), type_code=I32, const=True),
        tensor(3, out_shape, type_code=type_code),
    ]


def test_fully_connected_2d_kernel_sums() -> None:
    # Output rank 2 -> arm_fully_connected_s8_get_buffer_size: DSP 0; MVE Cout*4 = 48. Under
    # KERNELS_OPTIMIZED_FOR_SPEED (TFLM's default) a constant filter and bias move the sums to
    # persistent memory, so only the size build or a non-constant filter asks for scratch.
    op, ts = fc((1, 64), (12, 64), (1, 12))
    assert sizes(DSP, op, *ts) == []
    assert sizes(MVE, op, *ts) == []
    assert sizes(MVE_SIZE, op, *ts) == [48]
    op, ts = fc((1, 64), (12, 64), (1, 12), const_filter=False)
    assert sizes(MVE, op, *ts) == [48]


def test_fully_connected_3d_runs_as_1x1_conv() -> None:
    # Output rank 3 and accum depth 16 % 4 == 0: per-tensor filter first asks Cout int32
    # multipliers + shifts = 8*4*2 = 64; then arm_convolve_1x1_s8_fast_get_buffer_size: 2*16*2 = 64
    # only on DSP with Arm Compiler 6.
    op, ts = fc((1, 4, 16), (8, 16), (1, 4, 8))
    assert sizes(DSP, op, *ts) == [64]
    assert sizes(DSP_ARMCLANG, op, *ts) == [64, 64]
    assert sizes(MVE, op, *ts) == [64]
    # Per-channel filter: no emulation buffer.
    op, ts = fc((1, 4, 16), (8, 16), (1, 4, 8), filter_tensor=per_channel(1, (8, 16), 8))
    assert sizes(DSP, op, *ts) == []
    # Accum depth 10 is not a multiple of 4 -> ordinary FC path (MVE sums, persistent at speed).
    op, ts = fc((1, 4, 10), (8, 10), (1, 4, 8))
    assert sizes(DSP, op, *ts) == [] and sizes(MVE_SIZE, op, *ts) == [32]


def test_fully_connected_int16_and_int4_request_nothing() -> None:
    # int16: arm_fully_connected_s16_get_buffer_size returns 0. int4: neither branch of Prepare.
    op, ts = fc((1, 64), (12, 64), (1, 12), type_code=I16)
    assert sizes(MVE_SIZE, op, *ts) == []
    op, ts = fc((1, 64), (12, 64), (1, 12), filter_tensor=tensor(1, (12, 64), type_code=I4, const=True))
    assert sizes(MVE_SIZE, op, *ts) == []
    assert reason(MVE, op, *ts) is None


# ------------------------------------------------------------------------ pooling and others


@pytest.mark.parametrize("type_code", [I8, I16])
def test_average_pool_accumulators_only_on_dsp(type_code: int) -> None:
    # arm_avgpool_s8/s16_get_buffer_size: DSP without MVE: ch * sizeof(int32) = 64*4 = 256; MVE and
    # plain 0. MAX_POOL_2D never asks.
    op = operator(0, "AVERAGE_POOL_2D", (0,), (1,))
    ts = [tensor(0, (1, 25, 5, 64), type_code=type_code), tensor(1, (1, 1, 1, 64), type_code=type_code)]
    assert sizes(DSP, op, *ts) == [256]
    assert sizes(MVE, op, *ts) == [] and sizes(PLAIN, op, *ts) == []
    assert sizes(DSP, operator(0, "MAX_POOL_2D", (0,), (1,)), *ts) == []


def test_svdf_int8() -> None:
    # svdf.cc: batch*filters*4 = 1*8*4 = 32, batch*units*4 = 1*(8/2)*4 = 16; MVE
    # arm_svdf_s8_get_buffer_size = filters*4 = 32 as scratch only under KERNELS_OPTIMIZED_FOR_SIZE.
    op = operator(0, "SVDF", (0, 1, 2, 3, 4), (5,), options={"rank": 2})
    ts = [
        tensor(0, (1, 10)),
        tensor(1, (8, 10), const=True),
        tensor(2, (8, 5), type_code=I16, const=True),
        tensor(3, (4,), type_code=I32, const=True),
        tensor(4, (1, 40), type_code=I16, variable=True),
        tensor(5, (1, 4)),
    ]
    assert sizes(DSP, op, *ts) == [32, 16]
    assert sizes(MVE, op, *ts) == [32, 16]
    assert sizes(MVE_SIZE, op, *ts) == [32, 16, 32]
    # Without a bias the CMSIS-NN int8 Prepare dereferences a null bias: refused.
    no_bias = operator(0, "SVDF", (0, 1, 2, -1, 4), (5,), options={"rank": 2})
    assert "bias" in (reason(DSP, no_bias, *ts) or "")


def test_lstm_int8_with_int16_cell_uses_three_buffers() -> None:
    # unidirectional_sequence_lstm.cc: int8 activations + int16 cell -> 3 buffers of
    # batch * state * sizeof(int16) = 2 * 16 * 2 = 64 (the reference kernel asks for 4).
    inputs = tuple(range(24))
    op = operator(0, "UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, (24,), options={"time_major": False})
    ts = [tensor(i, (1,)) for i in range(25)]
    ts[0] = tensor(0, (2, 5, 8))
    ts[18] = tensor(18, (2, 16), variable=True)
    ts[19] = tensor(19, (2, 16), type_code=I16, variable=True)
    assert sizes(DSP, op, *ts) == [64, 64, 64]
    assert sizes(REFERENCE, op, *ts) == [64, 64, 64, 64]


def test_transpose_conv_int8_reverse_path() -> None:
    # Strides 2 and Cin 20 > 16: reverse conv. Upsampled input (1,8,8,20), filter 3x3:
    # rhs_cols 180 -> DSP 2*180*2 = 720; MVE ceil(180/16)=12 -> 768. Reverse filter copy:
    # Cin*kw*kh*Cout = 20*3*3*8 = 1440.
    op = operator(0, "TRANSPOSE_CONV", (0, 1, 2), (3,), options=STRIDE_2)
    ts = [
        tensor(0, (4,), type_code=I32, const=True),
        tensor(1, (8, 3, 3, 20), const=True),
        tensor(2, (1, 4, 4, 20)),
        tensor(3, (1, 8, 8, 8)),
    ]
    assert sizes(DSP, op, *ts) == [720, 1440]
    assert sizes(MVE, op, *ts) == [768, 1440]


def test_transpose_conv_int8_column_path_requests_a_zero_reverse_buffer() -> None:
    # Cin 4 <= 16: ((W_in-1)*stride_w + max(kw, stride_h)) * Cout = (3*2 + 3) * 8 = 72 int32 per
    # row, times max(kh, stride_h) = 3 rows -> 72*3*4 = 864. The reverse buffer is still requested
    # (0 bytes): the call sits inside TFLITE_DCHECK, which evaluates its condition in every build.
    op = operator(0, "TRANSPOSE_CONV", (0, 1, 2), (3,), options=STRIDE_2)
    ts = [
        tensor(0, (4,), type_code=I32, const=True),
        tensor(1, (8, 3, 3, 4), const=True),
        tensor(2, (1, 4, 4, 4)),
        tensor(3, (1, 8, 8, 8)),
    ]
    assert sizes(DSP, op, *ts) == [864, 0]
    assert sizes(MVE, op, *ts) == [864, 0]


def test_transpose_conv_int16() -> None:
    # int16: output elements * 8 = 512*8 = 4096, then an int16 bias widened: 8*8 = 64.
    op = operator(0, "TRANSPOSE_CONV", (0, 1, 2, 3), (4,), options=STRIDE_2)
    ts = [
        tensor(0, (4,), type_code=I32, const=True),
        tensor(1, (8, 3, 3, 4), const=True),
        tensor(2, (1, 4, 4, 4), type_code=I16),
        tensor(3, (8,), type_code=I16, const=True),
        tensor(4, (1, 8, 8, 8), type_code=I16),
    ]
    assert sizes(DSP, op, *ts) == [4096, 64]


def test_batch_matmul_int8_only_on_mve() -> None:
    # arm_fully_connected_s8_get_buffer_size(output dims): MVE output columns * 4 = 8*4 = 32.
    op = operator(0, "BATCH_MATMUL", (0, 1), (2,), options={"adj_x": False, "adj_y": False})
    ts = [tensor(0, (1, 4, 16)), tensor(1, (1, 16, 8)), tensor(2, (1, 4, 8))]
    assert sizes(MVE, op, *ts) == [32]
    assert sizes(DSP, op, *ts) == []
    # adj_y: columns are rhs dim -2 = 6 -> 24.
    op = operator(0, "BATCH_MATMUL", (0, 1), (2,), options={"adj_x": False, "adj_y": True})
    ts = [tensor(0, (1, 4, 16)), tensor(1, (1, 6, 16)), tensor(2, (1, 4, 6))]
    assert sizes(MVE, op, *ts) == [24]


def test_add_n_pointers_are_four_bytes_on_cortex_m() -> None:
    # add_n.cc: sizeof(int8_t*) * 3 = 12 on a 32-bit core (the x86-64 reference rule says 24).
    op = operator(0, "ADD_N", (0, 1, 2), (3,))
    ts = [tensor(i, (1, 64)) for i in range(4)]
    assert sizes(DSP, op, *ts) == [12]


def test_other_ops_fall_back_to_reference_rules() -> None:
    # MEAN int8 has no CMSIS-NN kernel: reduce_common.cc asks 1*1*4 = 4 accumulator bytes, 4*4
    # iterator bytes (rank 4) and 2*4 axis bytes, exactly as the reference library.
    op = operator(0, "MEAN", (0, 1), (2,))
    ts = [tensor(0, (1, 4, 4, 1)), tensor(1, (2,), type_code=I32, const=True), tensor(2, (1, 1, 1, 1))]
    assert sizes(DSP, op, *ts) == [4, 16, 8] == sizes(REFERENCE, op, *ts)
    # SOFTMAX, ADD, MUL have CMSIS-NN kernels and ask nothing.
    assert sizes(MVE, operator(0, "SOFTMAX", (0,), (1,)), tensor(0, (1, 12)), tensor(1, (1, 12))) == []


# --------------------------------------------------------------------------- support


def test_cmsis_refuses_type_pairs_the_reference_kernels_accept() -> None:
    # depthwise_conv.cc (CMSIS-NN) accepts int16 input only with an int8 filter.
    op, ts = depthwise((1, 8, 8, 8), (1, 3, 3, 8), (1, 8, 8, 8), type_code=I16, filter_type=I16)
    assert reason(REFERENCE, op, *ts) is None
    assert "DEPTHWISE_CONV_2D" in (reason(DSP, op, *ts) or "")
    # fully_connected.cc (CMSIS-NN): per-channel only for int8 input with a non-int4 filter.
    op, ts = fc((1, 16), (8, 16), (1, 8), type_code=I16, filter_tensor=per_channel(1, (8, 16), 8))
    assert "per-channel" in (reason(DSP, op, *ts) or "")
    op, ts = fc((1, 16), (8, 16), (1, 8), filter_tensor=per_channel(1, (8, 16), 8))
    assert reason(DSP, op, *ts) is None


def test_unknown_and_npu_ops_are_refused() -> None:
    assert "no kernel" in (reason(DSP, operator(0, "NOT_AN_OP", (), ())) or "")
    assert "Ethos-U" in (reason(MVE, operator(0, "CUSTOM:ethos-u", (), ())) or "")


def test_library_names_and_errors() -> None:
    names = {lib.name for lib in CMSIS_NN_BY_ISA.values()}
    assert names == {"cmsis-nn-dsp", "cmsis-nn-mve", "cmsis-nn-plain"}
    assert MVE_SIZE.name == "cmsis-nn-mve-size"
    with pytest.raises(ArenaError, match="compiler"):
        cmsis_nn_library("dsp", compiler="iar")  # type: ignore[arg-type]


# ------------------------------------------------------------------ MLPerf Tiny KWS model


def kws_requests(library: KernelLibrary, models_dir: Path) -> dict[int, list[int]]:
    model = read_model(models_dir / "mlperf_kws_ref_model.tflite")
    graph = model.subgraphs[0]
    result = {}
    for op in graph.operators:
        assert library.unsupported_reason(model, graph, op) is None
        requests = [r.size_bytes for r in library.scratch_requests(model, graph, op)]
        if requests:
            result[op.index] = requests
    return result


def test_kws_model_scratch_per_isa(shared_dir: Path) -> None:
    # The DS-CNN: op 0 CONV 10x4 stride 2 over (1,49,10,1) -> 64 ch; ops 1,3,5,7 DEPTHWISE 3x3 SAME
    # on (1,25,5,64); ops 2,4,6,8 CONV 1x1 stride 1 64->64; op 9 AVERAGE_POOL (1,25,5,64);
    # op 11 FULLY_CONNECTED 64->12 (2-D, constant weights); op 12 SOFTMAX.
    #
    # op 0: padding SAME gives pad (4, 1) so not 1x1; input height 49 so not 1xN -> generic.
    #       rhs_cols = 10*4*1 = 40: DSP/plain 2*40*2 = 160; MVE ceil(40/16)=3 -> 4*3*16 = 192.
    # ops 1-7 odd: Cin == Cout, 3x3, pad 1: DSP/plain 3x3 kernel -> 0; MVE 4*124*9 = 4464.
    # ops 2-8 even: 1x1 fast: 0 with GCC (256 each on DSP with Arm Compiler 6).
    # op 9: DSP 64*4 = 256; MVE and plain 0.
    # op 11: rank-2 output: DSP 0; MVE 12*4 = 48 but persistent under KERNELS_OPTIMIZED_FOR_SPEED.
    assert kws_requests(DSP, shared_dir) == {0: [160], 9: [256]}
    assert kws_requests(MVE, shared_dir) == {0: [192], **{op: [4464] for op in (1, 3, 5, 7)}}
    assert kws_requests(PLAIN, shared_dir) == {0: [160]}
    assert kws_requests(DSP_ARMCLANG, shared_dir) == {0: [160], **{op: [256] for op in (2, 4, 6, 8, 9)}}
    assert kws_requests(MVE_SIZE, shared_dir)[11] == [48]
