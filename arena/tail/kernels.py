"""What each kernel allocates while TFLM initialises and prepares it: its share of the tail.

A kernel touches the arena in two phases (tensorflow/lite/micro/micro_interpreter_graph.cc):

* ``Init`` (``InitSubgraphs``): almost every kernel allocates its ``OpData`` with
  ``context->AllocatePersistentBuffer`` (16-byte aligned, micro_interpreter_context.cc); a few
  signal kernels also allocate state sized from their custom options.
* ``Prepare`` (``PrepareSubgraphs``): kernels open temporary ``TfLiteTensor`` views of their
  tensors (``AllocateTempInputTensor``/``AllocateTempOutputTensor``, temp section, released at the
  end of the op) and some allocate more persistent memory (per-channel multipliers and shifts,
  lookup tables, state buffers, relocated dims).

Each rule returns the op's steps in call order (:mod:`arena.tail.steps`);
:mod:`arena.tail.events` turns them into allocations. Rules cite the kernel source
(tensorflow/tflite-micro 90b983c2); struct sizes come from :mod:`arena.tail.abi`; the signal
library's rules live in :mod:`arena.tail.signal_kernels`.
A kernel library is a :class:`TailKernels` record, registered by name in :data:`TAIL_KERNELS`.
CMSIS-NN builds (``cmsis-nn-dsp``, ``cmsis-nn-mve``, ``cmsis-nn-plain`` and their ``-armclang`` /
``-size`` variants) take the reference tables and override the ops whose wrapper differs, from
:mod:`arena.tail.cmsis_nn_kernels`.

Checked live (tests/oracle/test_tflm_tail.py) for the ops of the shared models: CONV_2D,
DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, SOFTMAX, RESHAPE, ADD, MUL, DIV, QUANTIZE,
DEQUANTIZE, SVDF, UNIDIRECTIONAL_SEQUENCE_LSTM, CAST, STRIDED_SLICE, CONCATENATION, MINIMUM,
MAXIMUM and six signal kernels. Other ops follow their source. Not modelled: BATCH_MATMUL's
Prepare-time copies of transposed operands, TFLM_DECODE's decoder state, and the decompression
scratch of compressed models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from arena.errors import ArenaError
from arena.kernels.cmsis_nn_buffers import CmsisNnBuild
from arena.model.records import Model, Operator, Subgraph, Tensor
from arena.tail.abi import Abi
from arena.tail.cmsis_nn_kernels import cmsis_nn_init_structs, cmsis_nn_prepare_rules
from arena.tail.signal_kernels import SIGNAL_INIT_RULES, SIGNAL_INIT_STRUCTS, SIGNAL_PREPARE_RULES
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

INT16_BYTES = 2
#: kernels/softmax_common.cc ``kInt16LUTArraySize`` = ``LUTSize<int16_t>()`` = 513 entries.
INT16_LUT_ENTRIES = 513
#: kernels/conv.h ``kConvQuantizedDimension`` and depthwise_conv.h
#: ``kDepthwiseConvQuantizedDimension``: filter axis holding the output channels.
CONV_CHANNEL_AXIS = 0
DEPTHWISE_CHANNEL_AXIS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class TailKernels:
    """A kernel library's tail rules.

    ``init_structs`` names the struct each op's ``Init`` allocates; ``init_rules`` replace that for
    ops whose ``Init`` allocates more. ``prepare_rules`` give an op's Prepare steps; ops in
    ``no_prepare`` register no Prepare; any other op opens temp tensors for its inputs, then its
    outputs (the pattern of nearly every kernel) and allocates nothing persistent.
    """

    name: str
    init_structs: Mapping[str, str] = field(repr=False)
    init_rules: Mapping[str, KernelRule] = field(repr=False)
    prepare_rules: Mapping[str, KernelRule] = field(repr=False)
    no_prepare: frozenset[str] = field(repr=False)

    def init_steps(self, model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
        """What ``op``'s Init allocates, in order."""
        rule = self.init_rules.get(op.op_name)
        if rule is not None:
            return rule(model, graph, op, abi)
        struct = self.init_structs.get(op.op_name)
        if struct is None or struct not in abi.layouts:
            return ()
        return (opdata(struct, abi),)

    def prepare_steps(self, model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
        """What ``op``'s Prepare allocates (temp tensors and persistent buffers), in order."""
        if op.op_name in self.no_prepare:
            return ()
        rule = self.prepare_rules.get(op.op_name, inputs_then_outputs)
        return rule(model, graph, op, abi)


def _per_channel_arrays(channels: int) -> tuple[PersistentBuffer, PersistentBuffer]:
    """Per-channel output multipliers and shifts: two ``int32`` arrays of ``channels``."""
    return (
        PersistentBuffer(component="per-channel output multipliers", size=channels * INT32_BYTES),
        PersistentBuffer(component="per-channel output shifts", size=channels * INT32_BYTES),
    )


def _dims(filter_tensor: Tensor | None, axis: int) -> int:
    if filter_tensor is None or len(filter_tensor.shape) <= axis:
        return 0
    return filter_tensor.shape[axis]


def _int_array_bytes(length: int) -> int:
    """``TfLiteIntArrayGetSizeInBytes(length)`` (common.c): the size field plus the ints."""
    return INT32_BYTES * (1 + length)


# -------------------------------------------------------------------------- Prepare rules


def _conv_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """kernels/conv_common.cc ``ConvPrepare``: temp output, input, filter; per-channel arrays of
    ``filter.dims[0]`` (always, even for per-tensor filters); ``CalculateOpDataConv`` then opens
    input, filter, bias, output again."""
    del model, abi
    channels = _dims(tensor_at(graph, op, 1), CONV_CHANNEL_AXIS)
    return (*temps(op, "o0", 0, 1), *_per_channel_arrays(channels), *temps(op, 0, 1, 2, "o0"))


def _depthwise_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """kernels/depthwise_conv_common.cc ``DepthwiseConvPrepare``: as conv, channels from
    ``filter.dims[3]``; ``CalculateOpDataDepthwiseConv`` reopens input, filter, bias, output."""
    del model, abi
    channels = _dims(tensor_at(graph, op, 1), DEPTHWISE_CHANNEL_AXIS)
    return (*temps(op, "o0", 0, 1), *_per_channel_arrays(channels), *temps(op, 0, 1, 2, "o0"))


def _transpose_conv_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """kernels/transpose_conv.cc ``TransposeConvPrepare``: temp output, input (slot 2), filter;
    per-channel arrays of ``filter.dims[0]``; ``CalculateOpData`` reopens filter, bias, output."""
    del model, abi
    channels = _dims(tensor_at(graph, op, 1), CONV_CHANNEL_AXIS)
    return (*temps(op, "o0", 2, 1), *_per_channel_arrays(channels), *temps(op, 2, 1, 3, "o0"))


def _fully_connected_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """kernels/fully_connected.cc ``FullyConnectedPrepare`` and fully_connected_common.cc
    ``CalculateOpDataFullyConnected``: temp input, filter, bias, output; per-channel arrays only
    for a filter quantized per channel (more than one scale), sized by the scale count."""
    del model, abi
    weights = tensor_at(graph, op, 1)
    scales = len(weights.quantization.scale) if weights is not None and weights.quantization else 0
    arrays = _per_channel_arrays(scales) if scales > 1 else ()
    return (*temps(op, 0, 1, 2, "o0"), *arrays)


def _softmax_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """kernels/softmax_common.cc ``SoftmaxPrepare``: temp input, output; an int16 input gets two
    513-entry int16 lookup tables (``InitializeLutForInt16``)."""
    del model, abi
    data = tensor_at(graph, op, 0)
    tables: tuple[Step, ...] = ()
    if data is not None and data.type_name == "int16":
        size = INT16_LUT_ENTRIES * INT16_BYTES
        tables = (PersistentBuffer(component="softmax int16 lookup tables", size=size),) * 2
    return (*temps(op, 0, "o0"), *tables)


def _relocated_dims(component: str) -> KernelRule:
    """Kernels that move the output dims into the arena (kernel_util.cc
    ``CreateWritableTensorDimsWithCopy``: ``TfLiteIntArray`` of the output's rank)."""

    def rule(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
        output = tensor_at(graph, op, 0, outputs=True)
        rank = len(output.shape) if output is not None else 0
        copy = PersistentBuffer(component=component, size=_int_array_bytes(rank))
        return (*inputs_then_outputs(model, graph, op, abi), copy)

    return rule


def _reshape_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """kernels/reshape_common.cc ``ReshapeOutput``: temp input, output; dims are copied into the
    arena only when the output shape has a -1 to fill in."""
    del model, abi
    output = tensor_at(graph, op, 0, outputs=True)
    steps: tuple[Step, ...] = temps(op, 0, "o0")
    if output is not None and -1 in output.shape:
        steps += (PersistentBuffer(component="relocated output dims", size=_int_array_bytes(len(output.shape))),)
    return steps


def _prepare_opdata(struct: str) -> KernelRule:
    """Kernels that allocate their OpData in Prepare rather than Init (log_softmax.cc,
    cumsum.cc, add_n.cc for int8 outputs)."""

    def rule(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
        if op.op_name == "ADD_N":
            output = tensor_at(graph, op, 0, outputs=True)
            if output is None or output.type_name != "int8":
                return inputs_then_outputs(model, graph, op, abi)
        return (*inputs_then_outputs(model, graph, op, abi), opdata(struct, abi))

    return rule


def _embedding_lookup_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """kernels/embedding_lookup.cc ``EmbeddingLookUpPrepare``: its OpData first, then temp
    ids, values and output, then the output dims moved into the arena."""
    output = tensor_at(graph, op, 0, outputs=True)
    rank = len(output.shape) if output is not None else 0
    dims = PersistentBuffer(component="relocated output dims", size=_int_array_bytes(rank))
    return (opdata("OpDataEmbeddingLookup", abi), *temps(op, 0, 1, "o0"), dims)


#: Struct each reference kernel's Init allocates (the ``sizeof`` in its ``Init``).
_REFERENCE_INIT_STRUCTS: dict[str, str] = {
    "ABS": "OpDataAbsRsqrt",  # elementwise.cc
    "RSQRT": "OpDataAbsRsqrt",
    "ADD": "OpDataAdd",
    "SUB": "OpDataSub",
    "MUL": "OpDataMul",
    "DIV": "OpDataDiv",
    "ASSIGN_VARIABLE": "OpDataAssignVariable",  # only built with USE_TFLM_COMPRESSION
    "AVERAGE_POOL_2D": "OpDataPooling",  # pooling.cc
    "MAX_POOL_2D": "OpDataPooling",
    "BATCH_MATMUL": "OpDataBatchMatmul",
    "CALL_ONCE": "OpDataCallOnce",
    "IF": "OpDataIf",
    "WHILE": "OpDataWhile",
    "CUSTOM:CIRCULAR_BUFFER": "OpDataCircularBuffer",
    "EQUAL": "OpDataComparison",
    "NOT_EQUAL": "OpDataComparison",
    "GREATER": "OpDataComparison",
    "GREATER_EQUAL": "OpDataComparison",
    "LESS": "OpDataComparison",
    "LESS_EQUAL": "OpDataComparison",
    "CONCATENATION": "OpDataConcatenation",
    "CONV_2D": "OpDataConv",  # conv_common.cc ConvInit
    "DEPTHWISE_CONV_2D": "OpDataConv",  # depthwise_conv.cc allocates the conv OpData too
    "DEQUANTIZE": "DequantizeOpData",
    "QUANTIZE": "OpDataQuantizeReference",
    "CUSTOM:TFLite_Detection_PostProcess": "OpDataDetectionPostProcess",
    "ELU": "OpDataElu",
    "HARD_SWISH": "HardSwishParams",
    "LEAKY_RELU": "LeakyReluOpData",
    "LOGISTIC": "OpDataLogistic",
    "TANH": "OpDataTanh",
    "PRELU": "PreluParams",
    "RELU": "ReluOpData",  # activations.cc
    "RELU6": "Relu6OpData",
    "FULLY_CONNECTED": "OpDataFullyConnected",
    "L2_NORMALIZATION": "L2NormalizationParams",
    "MIRROR_PAD": "OpDataMirrorPad",
    "PAD": "OpDataPad",
    "PADV2": "OpDataPad",
    "MEAN": "OpDataReduce",  # reduce.cc InitReduce, for every reduce op
    "SUM": "OpDataReduce",
    "REDUCE_MAX": "OpDataReduce",
    "REDUCE_MIN": "OpDataReduce",
    "REDUCE_ALL": "OpDataReduce",
    "SELECT_V2": "OpDataSelect",
    "SOFTMAX": "SoftmaxParams",
    "SPACE_TO_BATCH_ND": "SpaceToBatchParams",
    "SQUARED_DIFFERENCE": "OpDataSquaredDifference",
    "STRIDED_SLICE": "StridedSliceParams",
    "SVDF": "OpDataSvdf",
    "TRANSPOSE_CONV": "OpDataTransposeConv",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "OpDataLSTM",
    "VAR_HANDLE": "OpDataVarHandle",
    **SIGNAL_INIT_STRUCTS,
}

#: Reference kernels registered with a null Prepare (``RegisterOp(init, nullptr, eval)``).
_REFERENCE_NO_PREPARE = frozenset(
    {"ARG_MAX", "ARG_MIN", "FLOOR", "LOGICAL_AND", "LOGICAL_OR", "MAXIMUM", "MINIMUM", "NEG", "PACK", "UNPACK"}
)

REFERENCE_TAIL = TailKernels(
    name="reference",
    init_structs=MappingProxyType(_REFERENCE_INIT_STRUCTS),
    init_rules=MappingProxyType(SIGNAL_INIT_RULES),
    prepare_rules=MappingProxyType(
        {
            "CONV_2D": _conv_prepare,
            "DEPTHWISE_CONV_2D": _depthwise_prepare,
            "TRANSPOSE_CONV": _transpose_conv_prepare,
            "FULLY_CONNECTED": _fully_connected_prepare,
            "SOFTMAX": _softmax_prepare,
            "RESHAPE": _reshape_prepare,
            "DEPTH_TO_SPACE": _relocated_dims("relocated output dims"),
            "GATHER": _relocated_dims("relocated output dims"),
            "GATHER_ND": _relocated_dims("relocated output dims"),
            "L2_POOL_2D": _relocated_dims("relocated output dims"),
            "SPACE_TO_DEPTH": _relocated_dims("relocated output dims"),
            "LOG_SOFTMAX": _prepare_opdata("LogSoftmaxOpData"),
            "CUMSUM": _prepare_opdata("OpDataCumsum"),
            "ADD_N": _prepare_opdata("OpDataAddN"),
            "EMBEDDING_LOOKUP": _embedding_lookup_prepare,
            **SIGNAL_PREPARE_RULES,
        }
    ),
    no_prepare=_REFERENCE_NO_PREPARE,
)


def cmsis_nn_tail(build: CmsisNnBuild) -> TailKernels:
    """The tail rules of TFLM built with CMSIS-NN for ``build``: the reference tables with the
    CMSIS-NN wrappers' Init structs and Prepare rules laid over them (ops without a wrapper, and
    wrappers that reuse the reference Prepare, keep the reference rule).

    >>> cmsis_nn_tail(CmsisNnBuild(isa="mve")).name
    'cmsis-nn-mve'
    """
    return TailKernels(
        name=build.library_name,
        init_structs=MappingProxyType({**_REFERENCE_INIT_STRUCTS, **cmsis_nn_init_structs(build)}),
        init_rules=MappingProxyType(SIGNAL_INIT_RULES),
        prepare_rules=MappingProxyType({**REFERENCE_TAIL.prepare_rules, **cmsis_nn_prepare_rules(build)}),
        no_prepare=_REFERENCE_NO_PREPARE,
    )


_CMSIS_NN_TAILS = tuple(
    cmsis_nn_tail(CmsisNnBuild(isa=isa, compiler=compiler, optimize_for=goal))
    for isa in ("dsp", "mve", "none")
    for compiler in ("gcc", "armclang")
    for goal in ("speed", "size")
)

#: Kernel library name -> its tail rules (the names of :data:`arena.kernels.KERNEL_LIBRARIES`,
#: plus the non-default CMSIS-NN builds a :func:`arena.kernels.cmsis_nn.cmsis_nn_library` makes).
TAIL_KERNELS: dict[str, TailKernels] = {REFERENCE_TAIL.name: REFERENCE_TAIL} | {t.name: t for t in _CMSIS_NN_TAILS}


def get_tail_kernels(name: str) -> TailKernels:
    """The tail rules of kernel library ``name``.

    >>> get_tail_kernels("reference").name
    'reference'
    """
    try:
        return TAIL_KERNELS[name]
    except KeyError:
        raise ArenaError(
            f"no tail model for kernel library {name!r}; choose one of: {', '.join(TAIL_KERNELS)}"
        ) from None
