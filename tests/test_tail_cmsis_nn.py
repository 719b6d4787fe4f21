"""The tail of TFLM built with CMSIS-NN kernels (arena.tail.cmsis_nn_kernels).

There is no CMSIS-NN build of TFLM on this machine to measure against, so every expected number
below is worked by hand in the comment beside it from the sources: TFLM 90b983c2
``tensorflow/lite/micro/kernels/cmsis_nn/*.cc`` (each wrapper's ``OpData``, ``Init`` and
``Prepare``), the reference helpers they call (conv_common.cc ``CalculateOpDataConv``,
depthwise_conv_common.cc, fully_connected_common.cc ``CalculateOpDataFullyConnected``,
pooling_common.cc ``PoolingPrepare``, batch_matmul_common.cc ``ReshapeOutputTensor``,
lstm_eval.cc ``LstmTensors``) and CMSIS-NN 4ab83cc3 (``arm_fully_connected_s8_get_buffer_size``,
``arm_svdf_s8_get_buffer_size``, ``Include/arm_nn_types.h``).

Struct sizes used (32-bit Arm EABI, no compression; x86-64 in brackets), each the reference
struct plus the fields the wrapper adds:

* OpDataConv 56/4 [72/8] + ``int buffer_idx`` -> CmsisNnOpDataConv 60/4 [76 -> 80/8];
* OpDataFullyConnected 48/4 [64/8] + two ``int`` indices (8) + ``int32_t* kernel_sums`` (4 [8])
  + three ``int32_t`` (12) -> 72/4 [64 + 8 = 72, pointer at 72 -> 80, + 12 = 92 -> 96/8];
* OpDataPooling 32/4 + ``int`` -> 36/4 on both;
* SoftmaxParams 56/8 [80/8] + two ``int32_t`` -> CMSISNNSoftmaxParams 64/8 [88/8];
* CmsisNnOpDataSvdf: nine ``int``-sized fields and a pointer -> 40/4 [36, pad to 40, + 8 = 48];
  ``KERNELS_OPTIMIZED_FOR_SIZE`` adds an ``int`` -> 44/4 [48];
* OpDataLSTM 688/8 + cmsis_nn_lstm_params (15 ``int32_t`` = 60, four cmsis_nn_lstm_gate of
  4 ``int32_t`` + 5 pointers + a 1-byte short enum = 37 -> 40: 220/4 [60 -> 64 + 4 x 64 = 320])
  -> 908 -> 912/8 [1008/8];
* TfLiteEvalTensor 12/4, TfLiteTensor 32/4, TfLiteAffineQuantization 12/4, NodeAndRegistration
  32/4, ScratchBufferHandle 4/4; QuantizationOpDataBatchMatmul: seven ``int32_t`` = 28/4.

Tail offsets count bytes down from the arena's 16-aligned end; each allocation is aligned down
from the previous one (kernel buffers to 16 bytes, structs to their own alignment).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from arena.kernels import KERNEL_LIBRARIES
from arena.lifetimes import derive_lifetimes
from arena.model import read_model
from arena.model.records import Model, Operator, Quantization, Subgraph, Tensor
from arena.tail import CORTEX_M, HOST_X86_64, TAIL_KERNELS, Abi, make_abi, minimum_arena_bytes, tail_bytes
from arena.tail.kernels import get_tail_kernels
from arena.tail.steps import PersistentBuffer, Step, TempTensor
from conftest import make_model, operator, tensor

F32, I32, I16, I8 = 0, 2, 7, 9
X86_64 = make_abi(8, compression=False, recording_allocator=False)
ARM32_COMPRESSION = make_abi(4, compression=True, recording_allocator=False)


def quantized(t: Tensor, scales: int = 1) -> Tensor:
    return dataclasses.replace(t, quantization=Quantization(scale=(0.5,) * scales, zero_point=(0,) * scales))


def graph_of(op: Operator, *tensors: Tensor, inputs: tuple[int, ...] = (), outputs: tuple[int, ...] = ()) -> Subgraph:
    return Subgraph(index=0, name="", tensors=tensors, operators=(op,), inputs=inputs, outputs=outputs)


def init(library: str, op: Operator, *tensors: Tensor, abi: Abi = CORTEX_M) -> tuple[Step, ...]:
    graph = graph_of(op, *tensors)
    return get_tail_kernels(library).init_steps(make_model(graph), graph, op, abi)


def prepare(library: str, op: Operator, *tensors: Tensor, abi: Abi = CORTEX_M) -> tuple[Step, ...]:
    graph = graph_of(op, *tensors)
    return get_tail_kernels(library).prepare_steps(make_model(graph), graph, op, abi)


def persistent(steps: tuple[Step, ...]) -> list[tuple[str, int]]:
    return [(s.component, s.size) for s in steps if isinstance(s, PersistentBuffer)]


def temp_order(steps: tuple[Step, ...]) -> list[int | str]:
    """Temp tensor indices, with "P" where a persistent buffer falls between them."""
    return [s.tensor if isinstance(s, TempTensor) else "P" for s in steps]


def components(model: Model, library: str, abi: Abi = CORTEX_M) -> dict[str, int]:
    estimate = tail_bytes(model, derive_lifetimes(model, library), abi, kernels=library)
    return {c.name: c.bytes for c in estimate.components}


# --------------------------------------------------------------------------- registration


def test_every_cmsis_nn_library_has_tail_rules() -> None:
    for name in KERNEL_LIBRARIES:
        assert get_tail_kernels(name).name == name
    for name in ("cmsis-nn-mve-size", "cmsis-nn-dsp-armclang", "cmsis-nn-plain-armclang-size"):
        assert name in TAIL_KERNELS


def test_tail_bytes_takes_the_library_from_the_table() -> None:
    model = fc_model()
    table = derive_lifetimes(model, kernels="cmsis-nn-dsp")
    assert tail_bytes(model, table, CORTEX_M, kernels="cmsis-nn-dsp").kernels == "cmsis-nn-dsp"
    assert tail_bytes(model, table, CORTEX_M).kernels == "cmsis-nn-dsp"


# --------------------------------------------------------------------------- struct sizes


def test_wrapper_opdata_sizes_per_abi() -> None:
    # Hand layouts in the module docstring.
    assert (CORTEX_M.size("CmsisNnOpDataConv"), X86_64.size("CmsisNnOpDataConv")) == (56 + 4, 80)
    assert CORTEX_M.size("CmsisNnOpDataDepthwiseConv") == 60
    # With USE_TFLM_COMPRESSION OpDataConv gains two ints (64 / 80) and the wrapper's int follows.
    assert (ARM32_COMPRESSION.size("CmsisNnOpDataConv"), HOST_X86_64.size("CmsisNnOpDataConv")) == (68, 88)
    assert (CORTEX_M.size("CmsisNnOpDataFullyConnected"), X86_64.size("CmsisNnOpDataFullyConnected")) == (72, 96)
    assert CORTEX_M.size("CmsisNnOpDataPooling") == X86_64.size("CmsisNnOpDataPooling") == 36
    assert CORTEX_M.layout("CMSISNNSoftmaxParams").size == 64 and X86_64.size("CMSISNNSoftmaxParams") == 88
    assert (CORTEX_M.size("CmsisNnOpDataSvdf"), X86_64.size("CmsisNnOpDataSvdf")) == (40, 48)
    assert (CORTEX_M.size("CmsisNnOpDataSvdfForSize"), X86_64.size("CmsisNnOpDataSvdfForSize")) == (44, 48)
    assert (CORTEX_M.size("CmsisNnOpDataLSTM"), X86_64.size("CmsisNnOpDataLSTM")) == (912, 1008)
    # cmsis/add.cc's OpData: a bool (padded to 4) and 14 four-byte fields, like OpDataAdd.
    assert CORTEX_M.size("CmsisNnOpDataAdd") == CORTEX_M.size("OpDataAdd") == 4 + 14 * 4
    # OpDataBatchMatmul (3 pointers + 3 bools: 15 -> 16) + cmsis_nn_dims (4 int32) + int.
    assert CORTEX_M.size("CmsisNnOpDataBatchMatmul") == 16 + 16 + 4
    assert CORTEX_M.size("QuantizationOpDataBatchMatmul") == 7 * 4


def test_init_structs_follow_the_wrappers() -> None:
    dsp, size = get_tail_kernels("cmsis-nn-dsp"), get_tail_kernels("cmsis-nn-mve-size")
    assert dsp.init_structs["CONV_2D"] == "CmsisNnOpDataConv"
    assert dsp.init_structs["MAX_POOL_2D"] == "CmsisNnOpDataPooling"
    assert dsp.init_structs["SVDF"] == "CmsisNnOpDataSvdf"
    assert size.init_structs["SVDF"] == "CmsisNnOpDataSvdfForSize"
    # MUL and PAD use the reference MulInit / PadInit; ops without a wrapper keep their struct.
    assert dsp.init_structs["MUL"] == "OpDataMul" and dsp.init_structs["PADV2"] == "OpDataPad"
    assert dsp.init_structs["QUANTIZE"] == "OpDataQuantizeReference"
    assert {"MAXIMUM", "MINIMUM"} <= dsp.no_prepare and "TRANSPOSE" not in dsp.init_structs


# --------------------------------------------------------------------------- FULLY_CONNECTED


def fc_model(filter_scales: int = 1, const_filter: bool = True) -> Model:
    """input (1,4) int8 -> FULLY_CONNECTED(filter (3,4) int8, bias (3,) int32) -> output (1,3)."""
    tensors = (
        quantized(tensor(0, (1, 4))),
        quantized(tensor(1, (3, 4), const=const_filter), filter_scales),
        quantized(tensor(2, (3,), type_code=I32, const=True), filter_scales),
        quantized(tensor(3, (1, 3))),
    )
    fc = operator(0, "FULLY_CONNECTED", (0, 1, 2), (3,))
    return make_model(graph_of(fc, *tensors, inputs=(0,), outputs=(3,)))


def test_fully_connected_tail_cortex_m_dsp() -> None:
    # SingleArenaBufferAllocator 36 + GreedyMemoryPlanner 44 + MicroAllocator 36 +
    # MicroBuiltinDataAllocator 8 + SubgraphAllocations 8 = 132; 4 TfLiteEvalTensors 48 -> 180;
    # NodeAndRegistration 32 -> 212; TfLiteFullyConnectedParams 5 (90b983c2, aligned 1) -> 217;
    # CmsisNnOpDataFullyConnected 72: 289 -> 304 (16-aligned, 87 bytes). On DSP
    # arm_fully_connected_s8_get_buffer_size is 0: no kernel sums, no scratch, no handle.
    # input_tensors_ 4: 308 -> 320; TfLiteTensor 32 -> 352, quantization 12 -> 364, zero points
    # (size + 1) 8 -> 372; output_tensors_ 376 -> 384; 416, 428, 436.
    parts = components(fc_model(), "cmsis-nn-dsp")
    assert parts["kernel OpData (CmsisNnOpDataFullyConnected)"] == 87
    assert "CMSIS-NN kernel sums" not in parts and "scratch buffer handles" not in parts
    assert sum(parts.values()) == 436
    # The reference build of the same model: OpDataFullyConnected 48, 265 -> 272; input_tensors_
    # 276 -> 288; 320, 332, 340; output_tensors_ 344 -> 352; 384, 396, total 404.
    assert sum(components(fc_model(), "reference").values()) == 404


def test_fully_connected_mve_keeps_kernel_sums_in_the_tail() -> None:
    # MVE: arm_fully_connected_s8_get_buffer_size = Cout * 4 = 12; the filter and bias are
    # constant and the build optimises for speed, so Prepare allocates them persistently after
    # the OpData (304): 316 -> 320, and requests no scratch. input_tensors_ 324 -> 336; 368,
    # 380, 388; output_tensors_ 392 -> 400; 432, 444, 452.
    parts = components(fc_model(), "cmsis-nn-mve")
    assert parts["CMSIS-NN kernel sums"] == 16
    assert sum(parts.values()) == 452


def test_fully_connected_kernel_sums_need_speed_and_constant_weights() -> None:
    # A filter that is not constant leaves the 12 bytes in the scratch request instead: one
    # ScratchBufferHandle (4): 304 -> 308; input_tensors_ 312 -> 320, then as on DSP: 436.
    parts = components(fc_model(const_filter=False), "cmsis-nn-mve")
    assert "CMSIS-NN kernel sums" not in parts
    assert parts["scratch buffer handles"] == 4
    assert sum(parts.values()) == 436
    # So does KERNELS_OPTIMIZED_FOR_SIZE (a build derive_lifetimes does not name, so only its
    # Prepare steps are checked): the four temps and nothing persistent.
    graph = fc_model().subgraphs[0]
    assert temp_order(prepare("cmsis-nn-mve-size", graph.operators[0], *graph.tensors)) == [0, 1, 2, 3]


def test_per_channel_fully_connected_arrays_come_before_kernel_sums() -> None:
    # Three scales: CalculateOpDataFullyConnected allocates 3 multipliers and 3 shifts (12 bytes
    # each, 16 with alignment), then the MVE kernel sums (12 -> 16). Temps: input, filter,
    # bias, output, all opened before.
    graph = fc_model(filter_scales=3).subgraphs[0]
    steps = prepare("cmsis-nn-mve", graph.operators[0], *graph.tensors)
    assert temp_order(steps) == [0, 1, 2, 3, "P", "P", "P"]
    assert persistent(steps) == [
        ("per-channel output multipliers", 12),
        ("per-channel output shifts", 12),
        ("CMSIS-NN kernel sums", 12),
    ]


def test_fully_connected_run_as_1x1_conv_keeps_no_kernel_sums() -> None:
    # Output rank 3 and accumulation depth 8 (a multiple of 4): the wrapper takes the 1x1
    # convolution path, which never allocates kernel sums.
    tensors = (tensor(0, (1, 2, 8)), quantized(tensor(1, (5, 8), const=True)), tensor(2, (1, 2, 5)))
    fc = operator(0, "FULLY_CONNECTED", (0, 1, -1), (2,))
    assert persistent(prepare("cmsis-nn-mve", fc, *tensors)) == []


# --------------------------------------------------------------------------- convolutions


def conv_tensors(type_code: int = I8, out_channels: int = 8) -> tuple[Tensor, ...]:
    return (
        quantized(tensor(0, (1, 4, 4, 4), type_code=type_code)),
        quantized(tensor(1, (out_channels, 1, 1, 4), type_code=I8 if type_code != F32 else F32, const=True)),
        quantized(tensor(2, (out_channels,), type_code=I32, const=True)),
        quantized(tensor(3, (1, 4, 4, out_channels), type_code=type_code)),
    )


def test_conv_prepare_order_and_per_channel_arrays() -> None:
    # cmsis_nn/conv.cc Prepare: temp input, filter, output (the bias is asked of the outputs at
    # slot 2 and comes back null); per-channel arrays of filter.dims[0] = 8 int32 = 32 bytes
    # each; CalculateOpDataConv opens input, filter, bias, output.
    conv = operator(0, "CONV_2D", (0, 1, 2), (3,), {"padding": 1, "stride_h": 1, "stride_w": 1})
    steps = prepare("cmsis-nn-dsp", conv, *conv_tensors())
    assert temp_order(steps) == [0, 1, 3, "P", "P", 0, 1, 2, 3]
    assert persistent(steps) == [("per-channel output multipliers", 32), ("per-channel output shifts", 32)]


def test_float_conv_has_no_per_channel_arrays_unlike_reference() -> None:
    # The wrapper allocates the arrays only for int8/int16 inputs; conv_common.cc (reference)
    # allocates them for every type.
    conv = operator(0, "CONV_2D", (0, 1, 2), (3,), {"padding": 1, "stride_h": 1, "stride_w": 1})
    assert persistent(prepare("cmsis-nn-dsp", conv, *conv_tensors(F32))) == []
    assert len(persistent(prepare("reference", conv, *conv_tensors(F32)))) == 2


def test_conv_opdata_in_the_tail() -> None:
    # 132; 4 TfLiteEvalTensors -> 180; NodeAndRegistration -> 212; TfLiteConvParams 28 -> 240;
    # CmsisNnOpDataConv 60: 300 -> 304, 64 bytes; then the two 32-byte arrays.
    conv = operator(0, "CONV_2D", (0, 1, 2), (3,), {"padding": 1, "stride_h": 1, "stride_w": 1})
    model = make_model(graph_of(conv, *conv_tensors(), inputs=(0,), outputs=(3,)))
    parts = components(model, "cmsis-nn-dsp")
    assert parts["kernel OpData (CmsisNnOpDataConv)"] == 64
    assert parts["per-channel output multipliers"] == parts["per-channel output shifts"] == 32


def test_depthwise_channels_come_from_filter_dim_3() -> None:
    # Filter (1, 3, 3, 6): 6 channels -> two 24-byte arrays, between the same temp pattern.
    tensors = (
        quantized(tensor(0, (1, 5, 5, 6))),
        quantized(tensor(1, (1, 3, 3, 6), const=True), 6),
        quantized(tensor(2, (6,), type_code=I32, const=True), 6),
        quantized(tensor(3, (1, 3, 3, 6))),
    )
    dw = operator(0, "DEPTHWISE_CONV_2D", (0, 1, 2), (3,), {"padding": 1, "stride_h": 1, "stride_w": 1})
    steps = prepare("cmsis-nn-plain", dw, *tensors)
    assert temp_order(steps) == [0, 1, 3, "P", "P", 0, 1, 2, 3]
    assert persistent(steps) == [("per-channel output multipliers", 24), ("per-channel output shifts", 24)]
    assert init("cmsis-nn-plain", dw, *tensors) == (PersistentBuffer("kernel OpData (CmsisNnOpDataDepthwiseConv)", 60),)


def test_transpose_conv_reopens_tensors_only_when_quantized() -> None:
    # Inputs: 0 output shape, 1 filter (4, 3, 3, 2), 2 input, 3 bias. Prepare: temp output,
    # input, filter; arrays of filter.dims[0] = 4 (16 bytes) for every type; CalculateOpData
    # reopens input, filter, bias, output only for a non-float input.
    def tensors(type_code: int) -> tuple[Tensor, ...]:
        weights = I8 if type_code != F32 else F32
        return (
            tensor(0, (4,), type_code=I32, const=True),
            quantized(tensor(1, (4, 3, 3, 2), type_code=weights, const=True)),
            quantized(tensor(2, (1, 2, 2, 2), type_code=type_code)),
            quantized(tensor(3, (4,), type_code=I32, const=True)),
            quantized(tensor(4, (1, 4, 4, 4), type_code=type_code)),
        )

    op = operator(0, "TRANSPOSE_CONV", (0, 1, 2, 3), (4,), {"padding": 0, "stride_h": 2, "stride_w": 2})
    assert temp_order(prepare("cmsis-nn-dsp", op, *tensors(I8))) == [4, 2, 1, "P", "P", 2, 1, 3, 4]
    assert temp_order(prepare("cmsis-nn-dsp", op, *tensors(F32))) == [4, 2, 1, "P", "P"]
    assert persistent(prepare("cmsis-nn-dsp", op, *tensors(F32)))[0] == ("per-channel output multipliers", 16)


# --------------------------------------------------------------------------- pooling


def test_average_pool_opens_its_tensors_twice() -> None:
    # AveragePrepare calls PoolingPrepare (input, output) and then opens both again; MaxPrepare
    # only calls PoolingPrepare. Neither allocates persistent memory beyond the 36-byte OpData.
    tensors = (quantized(tensor(0, (1, 4, 4, 8))), quantized(tensor(1, (1, 2, 2, 8))))
    options: dict[str, object] = {"padding": 1, "stride_h": 2, "stride_w": 2, "filter_height": 2, "filter_width": 2}
    average = operator(0, "AVERAGE_POOL_2D", (0,), (1,), options)
    maximum = operator(0, "MAX_POOL_2D", (0,), (1,), options)
    assert temp_order(prepare("cmsis-nn-dsp", average, *tensors)) == [0, 1, 0, 1]
    assert temp_order(prepare("cmsis-nn-dsp", maximum, *tensors)) == [0, 1]
    assert temp_order(prepare("reference", average, *tensors)) == [0, 1]
    assert init("cmsis-nn-dsp", maximum, *tensors) == (PersistentBuffer("kernel OpData (CmsisNnOpDataPooling)", 36),)


# --------------------------------------------------------------------------- SVDF


def svdf_tensors() -> tuple[Tensor, ...]:
    """int8 SVDF: batch 1, input 4, 6 filters of rank 2 (3 units), memory 3."""
    return (
        quantized(tensor(0, (1, 4))),
        quantized(tensor(1, (6, 4), const=True)),
        quantized(tensor(2, (6, 3), type_code=I16, const=True)),
        quantized(tensor(3, (3,), type_code=I32, const=True)),
        quantized(tensor(4, (1, 18), type_code=I16, variable=True)),
        quantized(tensor(5, (1, 3))),
    )


def test_svdf_kernel_sums_only_on_mve_for_speed() -> None:
    # arm_svdf_s8_get_buffer_size: MVE num_filters * 4 = 24, DSP and plain 0. Under
    # KERNELS_OPTIMIZED_FOR_SPEED a nonzero size is allocated persistently after the temps
    # (input, both weights, bias, state, output); under ..._FOR_SIZE it is a scratch request.
    op = operator(0, "SVDF", (0, 1, 2, 3, 4), (5,), {"rank": 2})
    mve = prepare("cmsis-nn-mve", op, *svdf_tensors())
    assert temp_order(mve) == [0, 1, 2, 3, 4, 5, "P"]
    assert persistent(mve) == [("CMSIS-NN kernel sums", 24)]
    assert persistent(prepare("cmsis-nn-dsp", op, *svdf_tensors())) == []
    assert persistent(prepare("cmsis-nn-mve-size", op, *svdf_tensors())) == []
    assert init("cmsis-nn-mve-size", op, *svdf_tensors()) == (
        PersistentBuffer("kernel OpData (CmsisNnOpDataSvdfForSize)", 44),
    )


# --------------------------------------------------------------------------- LSTM


def lstm(activation: int, cell: int, hidden: int = 5) -> tuple[Operator, tuple[Tensor, ...]]:
    """A 24-input UNIDIRECTIONAL_SEQUENCE_LSTM without peepholes, projection or layer norm:
    inputs 9-11 and 16-17 and 20-23 are omitted (-1). Hidden state (input 18) is (1, hidden)."""
    omitted = {9, 10, 11, 16, 17, 20, 21, 22, 23}
    tensors = [quantized(tensor(i, (1, hidden), type_code=I8, const=True)) for i in range(25)]
    tensors[0] = quantized(tensor(0, (1, 2, 3), type_code=activation))
    tensors[18] = quantized(tensor(18, (1, hidden), type_code=activation, variable=True))
    tensors[19] = quantized(tensor(19, (1, hidden), type_code=cell, variable=True))
    tensors[24] = quantized(tensor(24, (1, 2, hidden), type_code=activation))
    inputs = tuple(-1 if i in omitted else i for i in range(24))
    return operator(0, "UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, (24,)), tuple(tensors)


def test_lstm_allocates_eight_kernel_sum_arrays() -> None:
    # CMSIS_NN_PortOpData: 8 arrays of state_dimension (5) BiasType: int32 for int8
    # activations (20 bytes each), int64 for int16 (40 bytes), after LstmTensors opened the 15
    # present inputs and the output; on every ISA.
    op, tensors = lstm(I8, I16)
    steps = prepare("cmsis-nn-dsp", op, *tensors)
    present = [i for i in op.inputs if i >= 0]
    assert temp_order(steps) == [*present, 24, *["P"] * 8]
    assert persistent(steps) == [("CMSIS-NN LSTM kernel sums", 20)] * 8
    op, tensors = lstm(I16, I16)
    assert persistent(prepare("cmsis-nn-plain", op, *tensors)) == [("CMSIS-NN LSTM kernel sums", 40)] * 8
    # A float LSTM keeps the reference path: no kernel sums.
    op, tensors = lstm(F32, F32)
    assert persistent(prepare("cmsis-nn-mve", op, *tensors)) == []
    # OpData: OpDataLSTM 688 + cmsis_nn_lstm_params 220 = 908, 8-aligned 912.
    assert init("cmsis-nn-dsp", op, *tensors) == (PersistentBuffer("kernel OpData (CmsisNnOpDataLSTM)", 912),)


# --------------------------------------------------------------------------- BATCH_MATMUL


def test_batch_matmul_transposed_copies_and_quantization() -> None:
    # lhs (2, 3, 4) int8, rhs (2, 4, 5) int8, output (2, 3, 5). Without adj_y Prepare makes a
    # transposed rhs: TfLiteEvalTensor 12, dims 4 x (1 + 3) = 16, data 2 x 4 x 5 = 40 bytes;
    # ReshapeOutputTensor copies the output dims (rank 3: 16); int8 then allocates the
    # QuantizationOpDataBatchMatmul (28). With adj_x the lhs copy (12, 16, 24) comes first.
    tensors = (quantized(tensor(0, (2, 3, 4))), quantized(tensor(1, (2, 4, 5))), quantized(tensor(2, (2, 3, 5))))
    plain = prepare("cmsis-nn-dsp", operator(0, "BATCH_MATMUL", (0, 1), (2,)), *tensors)
    assert temp_order(plain) == [0, 1, 2, "P", "P", "P", "P", "P"]
    copy = "BATCH_MATMUL transposed operand"
    assert persistent(plain) == [
        (copy, 12),
        (copy, 16),
        (copy, 40),
        ("relocated output dims", 16),
        ("kernel OpData (QuantizationOpDataBatchMatmul)", 28),
    ]
    lhs_t = (quantized(tensor(0, (2, 4, 3))), *tensors[1:])
    both = prepare("cmsis-nn-dsp", operator(0, "BATCH_MATMUL", (0, 1), (2,), {"adj_x": True}), *lhs_t)
    assert persistent(both)[:3] == [(copy, 12), (copy, 16), (copy, 24)]
    assert len(persistent(both)) == 8
    assert init("cmsis-nn-dsp", operator(0, "BATCH_MATMUL", (0, 1), (2,)), *tensors) == (
        PersistentBuffer("kernel OpData (CmsisNnOpDataBatchMatmul)", 36),
    )


# --------------------------------------------------------------------------- shared ops


def test_ops_sharing_reference_code_match_reference() -> None:
    # MUL (mul_common.cc), PAD (pad_common.cc) and ADD (same-sized OpData, same three temps).
    a, b, out = quantized(tensor(0, (1, 4))), quantized(tensor(1, (1, 4))), quantized(tensor(2, (1, 4)))
    for name in ("MUL", "ADD"):
        op = operator(0, name, (0, 1), (2,))
        assert prepare("cmsis-nn-dsp", op, a, b, out) == prepare("reference", op, a, b, out)
        assert (
            persistent(init("cmsis-nn-dsp", op, a, b, out))[0][1] == persistent(init("reference", op, a, b, out))[0][1]
        )


# --------------------------------------------------------------------------- a real model


def test_mlperf_kws_tail_cortex_m_dsp(shared_dir: Path) -> None:
    # mlperf_kws_ref_model: 35 tensors, 13 ops: CONV_2D (64 filters 10x4x1), then four
    # DEPTHWISE_CONV_2D (1x3x3x64) / CONV_2D (64x1x1x64) pairs, AVERAGE_POOL_2D, RESHAPE,
    # FULLY_CONNECTED (12x64, per-tensor), SOFTMAX; input (1,49,10,1), output (1,12), one
    # scale and zero point each.
    #
    # Allocator objects 36 + 44 + 36 = 116; MicroBuiltinDataAllocator 8 -> 124;
    # SubgraphAllocations 8 -> 132; 35 TfLiteEvalTensors x 12 = 420 -> 552; 13
    # NodeAndRegistrations x 32 = 416 -> 968. Builtin params (all 4-aligned, multiples of 4):
    # 5 TfLiteConvParams + 4 TfLiteDepthwiseConvParams x 28 = 252, TfLitePoolParams 40,
    # TfLiteReshapeParams 36, TfLiteFullyConnectedParams 5 (aligned 1) -> 1301, TfLiteSoftmaxParams
    # 4 (aligned 4) 1304 -> 1308. Init: conv 0's CmsisNnOpDataConv 60: 1368 -> 1376 (68 bytes); each of the
    # other eight conv/depthwise OpData 60 -> 64: 1888 (conv: 68 + 4 x 64 = 324; depthwise
    # 4 x 64 = 256); CmsisNnOpDataPooling 36 -> 1924 -> 1936 (48); RESHAPE allocates nothing;
    # CmsisNnOpDataFullyConnected 72 -> 2008 -> 2016 (80); CMSISNNSoftmaxParams 64 -> 2080.
    # Prepare: every conv and depthwise has int8 input and 64 channels: 2 x 256 bytes each,
    # 9 x 512 = 4608 -> 6688; FULLY_CONNECTED is per-tensor (no arrays) and on DSP keeps no
    # kernel sums. Commit: two scratch requests (conv 0's im2col buffer, the average pool's
    # accumulators) -> 2 ScratchBufferHandles, 8 -> 6696. I/O: input_tensors_ 4 bytes 6700 ->
    # 6704 (8); TfLiteTensor 32 -> 6736; quantization 12 -> 6748; zero points 8 -> 6756;
    # output_tensors_ 6760 -> 6768 (12); 6800; 6812; 6820.
    model = read_model(shared_dir / "mlperf_kws_ref_model.tflite")
    table = derive_lifetimes(model, kernels="cmsis-nn-dsp")
    estimate = tail_bytes(model, table, CORTEX_M, kernels="cmsis-nn-dsp")
    parts = {c.name: (c.bytes, c.count) for c in estimate.components}
    assert parts["TfLiteEvalTensor array"] == (420, 1)
    assert parts["NodeAndRegistration array"] == (416, 1)
    assert parts["kernel OpData (CmsisNnOpDataConv)"] == (324, 5)
    assert parts["kernel OpData (CmsisNnOpDataDepthwiseConv)"] == (256, 4)
    assert parts["kernel OpData (CmsisNnOpDataPooling)"] == (48, 1)
    assert parts["kernel OpData (CmsisNnOpDataFullyConnected)"] == (80, 1)
    assert parts["kernel OpData (CMSISNNSoftmaxParams)"] == (64, 1)
    assert parts["per-channel output multipliers"] == (9 * 256, 9)
    assert parts["per-channel output shifts"] == (9 * 256, 9)
    assert parts["scratch buffer handles"] == (8, 1)
    assert "CMSIS-NN kernel sums" not in parts
    assert parts["input TfLiteTensor* array"] == (8, 1)
    assert parts["output TfLiteTensor* array"] == (12, 1)
    assert estimate.total_bytes == 6820
    # The reference build: OpDataConv 56 (1364 -> 1376, then 64 each: the same 1888),
    # OpDataPooling 32 (1920), OpDataFullyConnected 48 (1968), SoftmaxParams 56 -> 2032; arrays
    # -> 6640; no scratch; input_tensors_ 6644 -> 6656, ..., 6772: 48 bytes less.
    reference = tail_bytes(model, derive_lifetimes(model), CORTEX_M)
    assert reference.total_bytes == 6772
    # Minimum arena (head 16000, planned by the TFLM allocator): every allocation from conv 0's
    # OpData on sits at a fixed distance (6820 - 1376 = 5444) below that OpData, which is
    # placed at align_down(arena - 1308 - 60, 16); it must stay >= 16000 + 5444 = 21444, i.e.
    # >= 21456, so the arena needs 21456 + 1368 = 22824: 4 bytes over head + tail, and 8 under
    # their sum rounded up to 16 (an arena end 8 past a 16-byte boundary absorbs the padding
    # before that OpData). Real TFLM on an emulated Cortex-M4 measures 22824 (tests/emulator/).
    minimum = minimum_arena_bytes(model, table, 16000, CORTEX_M, kernels="cmsis-nn-dsp")
    assert minimum.minimum_bytes == 22824
    assert minimum.binding_phase == "input/output tensors"


def test_mlperf_kws_tail_cortex_m_mve(shared_dir: Path) -> None:
    # As on DSP up to the per-channel arrays (6688); the FULLY_CONNECTED kernel sums, 12 x 4 =
    # 48 -> 6736; five scratch requests (conv 0 and the four depthwise convs; the average pool
    # needs none on MVE) -> 5 handles, 20 -> 6756; input_tensors_ 6760 -> 6768 (12); 6800;
    # 6812; 6820; output_tensors_ 6824 -> 6832 (12); 6864; 6876; 6884.
    model = read_model(shared_dir / "mlperf_kws_ref_model.tflite")
    estimate = tail_bytes(model, derive_lifetimes(model, kernels="cmsis-nn-mve"), CORTEX_M)
    parts = {c.name: (c.bytes, c.count) for c in estimate.components}
    assert estimate.kernels == "cmsis-nn-mve"
    assert parts["CMSIS-NN kernel sums"] == (48, 1)
    assert parts["scratch buffer handles"] == (20, 1)
    assert estimate.total_bytes == 6884


@pytest.mark.parametrize("library", ["cmsis-nn-dsp", "cmsis-nn-mve", "cmsis-nn-plain"])
def test_kws_tail_64bit_also_works(shared_dir: Path, library: str) -> None:
    # The x86-64 rows exist for every CMSIS-NN struct, so a host build can be sized too; it is
    # larger than the 32-bit tail (8-byte pointers, bigger structs).
    model = read_model(shared_dir / "mlperf_kws_ref_model.tflite")
    table = derive_lifetimes(model, kernels=library)
    assert tail_bytes(model, table, HOST_X86_64).total_bytes > tail_bytes(model, table, CORTEX_M).total_bytes
