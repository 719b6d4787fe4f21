"""Tail rules for TFLM built with CMSIS-NN kernels (``OPTIMIZED_KERNEL_DIR=cmsis_nn``).

Such a build replaces fourteen reference kernels by the wrappers in
tensorflow/lite/micro/kernels/cmsis_nn/ (tensorflow/tflite-micro 90b983c2, calling
ARM-software/CMSIS-NN 4ab83cc3, the revision tools/make/ext_libs/cmsis_nn_download.sh pins).
Every other op keeps its reference kernel and its reference tail rule. This module holds only
what the wrappers change; :mod:`arena.tail.kernels` merges it over the reference tables.

Init (the ``OpData`` each wrapper's Init allocates, sizes in :mod:`arena.tail.abi`):

* CONV_2D, DEPTHWISE_CONV_2D: the reference ``OpDataConv`` plus ``int buffer_idx``;
* FULLY_CONNECTED: ``OpDataFullyConnected`` plus two scratch indices, a ``kernel_sums`` pointer
  and three ``int32`` (batches, accumulation depth, output depth);
* AVERAGE_POOL_2D, MAX_POOL_2D: ``OpDataPooling`` plus ``int buffer_idx``;
* SOFTMAX: ``CMSISNNSoftmaxParams``, the reference ``SoftmaxParams`` plus row count and size;
* SVDF: its own ``CmsisNnOpDataSvdf`` (four scales, scratch indices, three zero points and a
  ``kernel_sums`` pointer; ``KERNELS_OPTIMIZED_FOR_SIZE`` adds a scratch index);
* ADD: its own ``OpData`` (same fields and size as the reference ``OpDataAdd``);
* UNIDIRECTIONAL_SEQUENCE_LSTM: ``OpDataLSTM`` plus CMSIS-NN's ``cmsis_nn_lstm_params``;
* TRANSPOSE_CONV: its own ``OpData`` (``ConvParams``, three scratch indices, two pointers);
* BATCH_MATMUL: ``OpDataBatchMatmul`` plus a ``cmsis_nn_dims`` and ``int buffer_idx``;
* MUL and PAD/PADV2 reuse the reference Init (``MulInit``, ``PadInit``); MAXIMUM, MINIMUM and
  TRANSPOSE register no Init, as in the reference build.

Prepare (persistent buffers, 16-byte aligned, and temp tensors, in call order):

* CONV_2D: temp input, filter, output (the bias is fetched with ``AllocateTempOutputTensor``
  at slot 2, which is null for a one-output op); int8/int16 inputs only: per-channel
  multipliers and shifts of ``filter.dims[0]`` int32 (the reference kernel allocates them for
  every type); conv_common.cc ``CalculateOpDataConv`` opens input, filter, bias, output again.
* DEPTHWISE_CONV_2D: the same with ``filter.dims[3]`` channels and
  ``CalculateOpDataDepthwiseConv``.
* FULLY_CONNECTED: temp input, filter, bias, output; fully_connected_common.cc
  ``CalculateOpDataFullyConnected`` allocates per-channel arrays for a quantized filter with
  more than one scale; then an int8 input with an int8 filter that does not run as a 1x1
  convolution (output rank <= 2 or accumulation depth not a multiple of 4) sizes
  ``arm_fully_connected_s8_get_buffer_size`` (MVE: ``Cout * 4``; DSP and plain: 0) and, under
  ``KERNELS_OPTIMIZED_FOR_SPEED`` with a nonzero size, a constant filter and a constant or
  absent bias, keeps those kernel sums in a persistent buffer instead of scratch.
* AVERAGE_POOL_2D: pooling_common.cc ``PoolingPrepare`` opens input and output, then
  ``AveragePrepare`` opens them again; MAX_POOL_2D only the first pair.
* SVDF: temp input, both weights, bias, activation state, output (the reference order); an int8
  SVDF on MVE under ``KERNELS_OPTIMIZED_FOR_SPEED`` keeps ``arm_svdf_s8_get_buffer_size``
  (``num_filters * 4``) of kernel sums in a persistent buffer (0 on DSP and plain cores).
* UNIDIRECTIONAL_SEQUENCE_LSTM: ``LstmTensors`` opens the 24 inputs (optional ones skipped) and
  the output; int8 or int16 activations with an int16 cell state then allocate eight kernel-sum
  arrays (input and recurrent weights of four gates) of ``state_dimension`` int32 (int8) or
  int64 (int16) each, on every ISA.
* TRANSPOSE_CONV: temp output, input (slot 2), filter; per-channel arrays of ``filter.dims[0]``
  for every type; ``CalculateOpData`` reopens input, filter, bias, output for non-float inputs.
* BATCH_MATMUL: temp lhs, rhs, output; with ``adj_x`` a transposed copy of lhs, and without
  ``adj_y`` one of rhs (each a ``TfLiteEvalTensor``, a dims array of the operand's rank and the
  operand's bytes); batch_matmul_common.cc ``ReshapeOutputTensor`` copies the output dims into
  the arena (``CreateWritableTensorDimsWithCopy``); a non-float matmul then allocates a
  ``QuantizationOpDataBatchMatmul``.
* SOFTMAX, ADD, MUL, PAD/PADV2, TRANSPOSE: as the reference kernels (the softmax wrapper calls
  softmax_common.cc ``CalculateSoftmaxParams``, which allocates the int16 lookup tables; MUL,
  PAD and TRANSPOSE call the reference Prepare); MAXIMUM and MINIMUM have no Prepare.

None of these wrappers checks the ISA outside the CMSIS-NN buffer-size functions, and the
compiler (GCC or Arm Compiler 6) changes no tail allocation, so the ISA matters only for the MVE
kernel sums of FULLY_CONNECTED and SVDF. Written from the sources alone: no CMSIS-NN build of
TFLM runs here to check them against.
"""

from __future__ import annotations

from arena.kernels.cmsis_nn_buffers import CmsisNnBuild
from arena.model.records import TENSOR_TYPES, Model, Operator, Subgraph, Tensor
from arena.tail.abi import Abi
from arena.tail.steps import (
    INT32_BYTES,
    KernelRule,
    PersistentBuffer,
    Step,
    inputs_then_outputs,
    opdata,
    temps,
    tensor_at,
)

INT64_BYTES = 8
#: kernels/conv.h ``kConvQuantizedDimension``, depthwise_conv.h
#: ``kDepthwiseConvQuantizedDimension`` and cmsis_nn/transpose_conv.cc: output-channel axes.
CONV_CHANNEL_AXIS = 0
DEPTHWISE_CHANNEL_AXIS = 3
#: kernels/lstm_shared.h ``kLstmOutputStateTensor``, ``kLstmCellStateTensor``.
LSTM_HIDDEN_STATE_SLOT = 18
LSTM_CELL_STATE_SLOT = 19
#: cmsis_nn/unidirectional_sequence_lstm.cc ``CMSIS_NN_PortOpData``: input and recurrent
#: kernel sums for the input, forget, cell and output gates.
LSTM_KERNEL_SUM_ARRAYS = 8
KERNEL_SUMS = "CMSIS-NN kernel sums"


def _type(tensor: Tensor | None) -> str | None:
    return None if tensor is None else tensor.type_name


def _dim(tensor: Tensor | None, axis: int) -> int:
    if tensor is None or not -len(tensor.shape) <= axis < len(tensor.shape):
        return 0
    return tensor.shape[axis]


def _per_channel_arrays(channels: int) -> tuple[PersistentBuffer, PersistentBuffer]:
    """Per-channel output multipliers and shifts: two ``int32`` arrays of ``channels``
    (component names as the reference rules use them)."""
    return (
        PersistentBuffer(component="per-channel output multipliers", size=channels * INT32_BYTES),
        PersistentBuffer(component="per-channel output shifts", size=channels * INT32_BYTES),
    )


def _int_array_bytes(length: int) -> int:
    """``TfLiteIntArrayGetSizeInBytes(length)`` (common.c): the size field plus the ints."""
    return INT32_BYTES * (1 + length)


# ---------------------------------------------------------------------------- Prepare rules


def _conv_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """cmsis_nn/conv.cc ``Prepare`` (see the module docstring)."""
    del model, abi
    arrays: tuple[Step, ...] = ()
    if _type(tensor_at(graph, op, 0)) in ("int8", "int16"):
        arrays = _per_channel_arrays(_dim(tensor_at(graph, op, 1), CONV_CHANNEL_AXIS))
    return (*temps(op, 0, 1, "o0"), *arrays, *temps(op, 0, 1, 2, "o0"))


def _depthwise_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """cmsis_nn/depthwise_conv.cc ``Prepare`` (see the module docstring)."""
    del model, abi
    arrays: tuple[Step, ...] = ()
    if _type(tensor_at(graph, op, 0)) in ("int8", "int16"):
        arrays = _per_channel_arrays(_dim(tensor_at(graph, op, 1), DEPTHWISE_CHANNEL_AXIS))
    return (*temps(op, 0, 1, "o0"), *arrays, *temps(op, 0, 1, 2, "o0"))


def fully_connected_kernel_sums_bytes(build: CmsisNnBuild, graph: Subgraph, op: Operator) -> int:
    """Persistent kernel-sum bytes of a CMSIS-NN FULLY_CONNECTED (0 when it keeps none).

    >>> from arena.model.records import Subgraph, Tensor
    >>> from arena.model.records import Operator
    >>> def t(i, shape, const=False):
    ...     return Tensor(index=i, name="", shape=shape, type_code=9, buffer=0, has_data=const,
    ...                   is_variable=False)
    >>> graph = Subgraph(index=0, name="", tensors=(t(0, (1, 8)), t(1, (12, 8), True), t(2, (1, 12))),
    ...                  operators=(), inputs=(0,), outputs=(2,))
    >>> op = Operator(index=0, opcode_index=0, builtin_code=9, op_name="FULLY_CONNECTED",
    ...               custom_code=None, version=1, inputs=(0, 1, -1), outputs=(2,))
    >>> [fully_connected_kernel_sums_bytes(CmsisNnBuild(isa=i), graph, op) for i in ("mve", "dsp")]
    [48, 0]
    """
    data, weights, bias = tensor_at(graph, op, 0), tensor_at(graph, op, 1), tensor_at(graph, op, 2)
    out = tensor_at(graph, op, 0, outputs=True)
    if data is None or weights is None or out is None or not weights.shape or not out.shape:
        return 0
    if data.type_name != "int8" or weights.type_name != "int8":
        return 0
    if len(out.shape) > 2 and weights.shape[-1] % 4 == 0:  # runs as a 1x1 convolution
        return 0
    size = out.shape[-1] * INT32_BYTES if build.isa == "mve" else 0  # arm_fully_connected_s8_get_buffer_size
    constant = weights.has_data and (bias is None or bias.has_data)
    return size if size > 0 and build.optimize_for == "speed" and constant else 0


def _fully_connected_prepare(build: CmsisNnBuild) -> KernelRule:
    """cmsis_nn/fully_connected.cc ``Prepare`` (see the module docstring)."""

    def rule(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
        del model, abi
        weights = tensor_at(graph, op, 1)
        scales = len(weights.quantization.scale) if weights is not None and weights.quantization else 0
        quantized = _type(tensor_at(graph, op, 0)) != "float32"
        arrays = _per_channel_arrays(scales) if quantized and scales > 1 else ()
        sums = fully_connected_kernel_sums_bytes(build, graph, op)
        kernel_sums = (PersistentBuffer(component=KERNEL_SUMS, size=sums),) if sums else ()
        return (*temps(op, 0, 1, 2, "o0"), *arrays, *kernel_sums)

    return rule


def _average_pool_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """cmsis_nn/pooling.cc ``AveragePrepare``: ``PoolingPrepare``'s input and output, then its own."""
    del model, graph, abi
    return (*temps(op, 0, "o0"), *temps(op, 0, "o0"))


def _max_pool_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """cmsis_nn/pooling.cc ``MaxPrepare``: only ``PoolingPrepare``'s input and output."""
    del model, graph, abi
    return temps(op, 0, "o0")


def svdf_kernel_sums_bytes(build: CmsisNnBuild, graph: Subgraph, op: Operator) -> int:
    """Persistent kernel-sum bytes of a CMSIS-NN SVDF: ``arm_svdf_s8_get_buffer_size`` (MVE
    ``num_filters * 4``) for an int8 input under ``KERNELS_OPTIMIZED_FOR_SPEED``, else 0."""
    if _type(tensor_at(graph, op, 0)) != "int8" or build.isa != "mve" or build.optimize_for != "speed":
        return 0
    return _dim(tensor_at(graph, op, 1), 0) * INT32_BYTES


def _svdf_prepare(build: CmsisNnBuild) -> KernelRule:
    """cmsis_nn/svdf.cc ``CmsisNnPrepareSvdf`` (see the module docstring)."""

    def rule(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
        sums = svdf_kernel_sums_bytes(build, graph, op)
        kernel_sums = (PersistentBuffer(component=KERNEL_SUMS, size=sums),) if sums else ()
        return (*temps(op, 0, 1, 2, 3, 4, "o0"), *kernel_sums)

    return rule


def lstm_kernel_sum_bytes(graph: Subgraph, op: Operator) -> int:
    """Bytes of each of the eight LSTM kernel-sum arrays (0 when the CMSIS-NN path is not taken):
    ``state_dimension`` (hidden state dims[1]) x ``sizeof(BiasType)``, int32 for int8
    activations and int64 for int16, with an int16 cell state."""
    activation = _type(tensor_at(graph, op, 0))
    if _type(tensor_at(graph, op, LSTM_CELL_STATE_SLOT)) != "int16" or activation not in ("int8", "int16"):
        return 0
    state_dimension = _dim(tensor_at(graph, op, LSTM_HIDDEN_STATE_SLOT), 1)
    return state_dimension * (INT32_BYTES if activation == "int8" else INT64_BYTES)


def _lstm_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """cmsis_nn/unidirectional_sequence_lstm.cc ``UnidirectionalSequenceLstmPrepare``."""
    size = lstm_kernel_sum_bytes(graph, op)
    sums = (PersistentBuffer(component="CMSIS-NN LSTM kernel sums", size=size),) * LSTM_KERNEL_SUM_ARRAYS
    return (*inputs_then_outputs(model, graph, op, abi), *(sums if size else ()))


def _transpose_conv_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """cmsis_nn/transpose_conv.cc ``Prepare`` (inputs: 0 output shape, 1 filter, 2 input, 3 bias)."""
    del model, abi
    channels = _dim(tensor_at(graph, op, 1), CONV_CHANNEL_AXIS)
    again = temps(op, 2, 1, 3, "o0") if _type(tensor_at(graph, op, 2)) != "float32" else ()
    return (*temps(op, "o0", 2, 1), *_per_channel_arrays(channels), *again)


def _transposed_copy(tensor: Tensor | None, abi: Abi) -> tuple[Step, ...]:
    """batch_matmul.cc ``AllocInitTransposeTensorFromTfLiteTensor``: a ``TfLiteEvalTensor``, its
    dims (``TfLiteIntArray`` of the rank) and ``NumElements x TfLiteTypeGetSize`` data bytes."""
    if tensor is None:
        return ()
    item = TENSOR_TYPES.get(tensor.type_code, ("", None))[1] or 0
    return (
        PersistentBuffer(component="BATCH_MATMUL transposed operand", size=abi.size("TfLiteEvalTensor")),
        PersistentBuffer(component="BATCH_MATMUL transposed operand", size=_int_array_bytes(len(tensor.shape))),
        PersistentBuffer(component="BATCH_MATMUL transposed operand", size=tensor.element_count * item),
    )


def _batch_matmul_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """cmsis_nn/batch_matmul.cc ``Prepare`` (see the module docstring)."""
    del model
    lhs, rhs, out = tensor_at(graph, op, 0), tensor_at(graph, op, 1), tensor_at(graph, op, 0, outputs=True)
    steps: tuple[Step, ...] = temps(op, 0, 1, "o0")
    if op.options.get("adj_x"):
        steps += _transposed_copy(lhs, abi)
    if not op.options.get("adj_y"):
        steps += _transposed_copy(rhs, abi)
    rank = len(out.shape) if out is not None else 0
    steps += (PersistentBuffer(component="relocated output dims", size=_int_array_bytes(rank)),)
    if _type(lhs) != "float32" and _type(rhs) != "float32":
        steps += (opdata("QuantizationOpDataBatchMatmul", abi),)
    return steps


# ------------------------------------------------------------------------------- tables


def cmsis_nn_init_structs(build: CmsisNnBuild) -> dict[str, str]:
    """Op -> the struct its CMSIS-NN wrapper's Init allocates (ops whose Init differs from, or
    is shared with, the reference kernel's; ops absent here keep the reference Init).

    >>> cmsis_nn_init_structs(CmsisNnBuild(isa="dsp"))["CONV_2D"]
    'CmsisNnOpDataConv'
    >>> cmsis_nn_init_structs(CmsisNnBuild(isa="mve", optimize_for="size"))["SVDF"]
    'CmsisNnOpDataSvdfForSize'
    """
    return {
        "CONV_2D": "CmsisNnOpDataConv",
        "DEPTHWISE_CONV_2D": "CmsisNnOpDataDepthwiseConv",
        "FULLY_CONNECTED": "CmsisNnOpDataFullyConnected",
        "AVERAGE_POOL_2D": "CmsisNnOpDataPooling",
        "MAX_POOL_2D": "CmsisNnOpDataPooling",
        "SOFTMAX": "CMSISNNSoftmaxParams",
        "SVDF": "CmsisNnOpDataSvdf" if build.optimize_for == "speed" else "CmsisNnOpDataSvdfForSize",
        "ADD": "CmsisNnOpDataAdd",
        "MUL": "OpDataMul",  # mul_common.cc MulInit, shared with the reference kernel
        "PAD": "OpDataPad",  # pad_common.cc PadInit, shared
        "PADV2": "OpDataPad",
        "UNIDIRECTIONAL_SEQUENCE_LSTM": "CmsisNnOpDataLSTM",
        "TRANSPOSE_CONV": "CmsisNnOpDataTransposeConv",
        "BATCH_MATMUL": "CmsisNnOpDataBatchMatmul",
    }


def cmsis_nn_prepare_rules(build: CmsisNnBuild) -> dict[str, KernelRule]:
    """Op -> Prepare rule for the wrappers whose Prepare differs from the reference kernel's."""
    return {
        "CONV_2D": _conv_prepare,
        "DEPTHWISE_CONV_2D": _depthwise_prepare,
        "FULLY_CONNECTED": _fully_connected_prepare(build),
        "AVERAGE_POOL_2D": _average_pool_prepare,
        "MAX_POOL_2D": _max_pool_prepare,
        "SVDF": _svdf_prepare(build),
        "UNIDIRECTIONAL_SEQUENCE_LSTM": _lstm_prepare,
        "TRANSPOSE_CONV": _transpose_conv_prepare,
        "BATCH_MATMUL": _batch_matmul_prepare,
    }


__all__ = [
    "KERNEL_SUMS",
    "cmsis_nn_init_structs",
    "cmsis_nn_prepare_rules",
    "fully_connected_kernel_sums_bytes",
    "lstm_kernel_sum_bytes",
    "svdf_kernel_sums_bytes",
]
