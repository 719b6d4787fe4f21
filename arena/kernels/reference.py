"""TFLM's reference kernels (what the ``tflite-micro`` PyPI package runs): support and scratch.

Sources are tensorflow/tflite-micro at 90b983c2; each rule names the kernel file whose
``Prepare`` it follows. Support is the op list of the package's resolver plus a few refusals
``Prepare`` makes from types, shapes and constness alone; scratch rules live in
:mod:`arena.kernels.reference_scratch`.
"""

from __future__ import annotations

from collections.abc import Callable

from arena.kernels.library import KernelLibrary
from arena.kernels.operands import op_input as _input
from arena.kernels.operands import op_output as _output
from arena.kernels.reference_scratch import SCRATCH_RULES, reference_scratch
from arena.model.records import Model, Operator, Subgraph

#: Builtin ops registered by the package's op resolver (python/tflite_micro/python_ops_resolver.cc).
SUPPORTED_BUILTINS = frozenset(
    {
        "ABS",
        "ADD",
        "ADD_N",
        "ARG_MAX",
        "ARG_MIN",
        "ASSIGN_VARIABLE",
        "AVERAGE_POOL_2D",
        "BATCH_MATMUL",
        "BATCH_TO_SPACE_ND",
        "BROADCAST_ARGS",
        "BROADCAST_TO",
        "CALL_ONCE",
        "CAST",
        "CEIL",
        "CONCATENATION",
        "CONV_2D",
        "COS",
        "CUMSUM",
        "DEPTH_TO_SPACE",
        "DEPTHWISE_CONV_2D",
        "DEQUANTIZE",
        "DIV",
        "DYNAMIC_UPDATE_SLICE",
        "ELU",
        "EMBEDDING_LOOKUP",
        "EQUAL",
        "EXP",
        "EXPAND_DIMS",
        "FILL",
        "FLOOR",
        "FLOOR_DIV",
        "FLOOR_MOD",
        "FULLY_CONNECTED",
        "GATHER",
        "GATHER_ND",
        "GREATER",
        "GREATER_EQUAL",
        "HARD_SWISH",
        "IF",
        "L2_NORMALIZATION",
        "L2_POOL_2D",
        "LEAKY_RELU",
        "LESS",
        "LESS_EQUAL",
        "LOG",
        "LOG_SOFTMAX",
        "LOGICAL_AND",
        "LOGICAL_NOT",
        "LOGICAL_OR",
        "LOGISTIC",
        "MAX_POOL_2D",
        "MAXIMUM",
        "MEAN",
        "MINIMUM",
        "MIRROR_PAD",
        "MUL",
        "NEG",
        "NOT_EQUAL",
        "PACK",
        "PAD",
        "PADV2",
        "PRELU",
        "QUANTIZE",
        "READ_VARIABLE",
        "REDUCE_ALL",
        "REDUCE_MAX",
        "REDUCE_MIN",
        "RELU",
        "RELU6",
        "RESHAPE",
        "RESIZE_BILINEAR",
        "RESIZE_NEAREST_NEIGHBOR",
        "REVERSE_V2",
        "ROUND",
        "RSQRT",
        "SELECT_V2",
        "SHAPE",
        "SIN",
        "SLICE",
        "SOFTMAX",
        "SPACE_TO_BATCH_ND",
        "SPACE_TO_DEPTH",
        "SPLIT",
        "SPLIT_V",
        "SQRT",
        "SQUARE",
        "SQUARED_DIFFERENCE",
        "SQUEEZE",
        "STRIDED_SLICE",
        "SUB",
        "SUM",
        "SVDF",
        "TANH",
        "TRANSPOSE",
        "TRANSPOSE_CONV",
        "UNIDIRECTIONAL_SEQUENCE_LSTM",
        "UNPACK",
        "VAR_HANDLE",
        "WHILE",
        "ZEROS_LIKE",
    }
)

#: Custom op names the same resolver registers (``AddCustom`` names in
#: tensorflow/lite/micro/micro_mutable_op_resolver.h): TFLM's signal library, the circular buffer,
#: SSD post-processing and the compressed-tensor decoder.
SUPPORTED_CUSTOM = frozenset(
    {
        "SignalDelay",
        "SignalEnergy",
        "SignalFftAutoScale",
        "SignalFilterBank",
        "SignalFilterBankLog",
        "SignalFilterBankSpectralSubtraction",
        "SignalFilterBankSquareRoot",
        "SignalFramer",
        "SignalIrfft",
        "SignalOverlapAdd",
        "SignalPCAN",
        "SignalRfft",
        "SignalStacker",
        "SignalWindow",
        "CIRCULAR_BUFFER",
        "TFLite_Detection_PostProcess",
        "TFLM_DECODE",
    }
)

#: Vela's NPU op. ``AddEthosU`` registers it only when ``Register_ETHOSU`` returns a kernel; the
#: portable stub (kernels/ethosu.cc) returns nullptr, so the wheel has no "ethos-u" op.
ETHOS_U_CUSTOM = "ethos-u"

#: TFLM's message when a conv-like kernel meets a type pair it has no kernel for.
_HYBRID = "TFLM: 'Hybrid models are not supported on TFLite Micro.'"


def _fill(subgraph: Subgraph, op: Operator) -> str | None:
    """kernels/fill.cc ``FillPrepare``: the dims input must be a constant tensor."""
    dims = _input(subgraph, op, 0)
    if dims is not None and not dims.has_data:
        return f"FILL needs a constant dims input, but tensor {dims.index} '{dims.name}' is computed at run time"
    return None


def _filter_types(
    subgraph: Subgraph,
    op: Operator,
    input_slot: int,
    allowed: Callable[[str, str], bool],
    same_output: bool,
    tflm_message: str = _HYBRID,
) -> str | None:
    """Refuse an input/filter type pair ``allowed`` rejects (filter at input 1, output 0)."""
    data, weights, output = (
        _input(subgraph, op, input_slot),
        _input(subgraph, op, 1),
        _output(subgraph, op, 0),
    )
    if data is None or weights is None or output is None:
        return None
    if same_output and data.type_name != output.type_name:
        return f"{op.op_name} needs input and output of one type, got {data.type_name} and {output.type_name}"
    if not allowed(data.type_name, weights.type_name):
        return f"{op.op_name} has no kernel for {data.type_name} input with {weights.type_name} filter ({tflm_message})"
    return None


def _conv(subgraph: Subgraph, op: Operator) -> str | None:
    """kernels/conv_common.cc ``ConvPrepare``: float32/float32, int16/int8, int8/int8 or int8/int4."""
    pairs = {("float32", "float32"), ("int16", "int8"), ("int8", "int8"), ("int8", "int4")}
    return _filter_types(subgraph, op, 0, lambda i, f: (i, f) in pairs, same_output=True)


def _depthwise(subgraph: Subgraph, op: Operator) -> str | None:
    """kernels/depthwise_conv_common.cc ``DepthwiseConvPrepare``: equal types, int8/int4, int16/int8."""
    return _filter_types(
        subgraph,
        op,
        0,
        lambda i, f: i == f or (i, f) in {("int8", "int4"), ("int16", "int8")},
        same_output=False,
    )


def _fully_connected(subgraph: Subgraph, op: Operator) -> str | None:
    """kernels/fully_connected.cc ``FullyConnectedPrepare``: input type = output type; float32
    needs a float32 filter, int8 an int8 or int4 one, int16 an int8 one (others pass this check).
    kernels/fully_connected_common.cc ``CalculateOpDataFullyConnected``: a per-channel (more than
    one scale) quantized filter must not be int4."""
    needed = {"float32": {"float32"}, "int8": {"int8", "int4"}, "int16": {"int8"}}
    refused = _filter_types(
        subgraph, op, 0, lambda i, f: f in needed.get(i, {f}), True, "TFLM: 'Input type: ... not supported.'"
    )
    data, weights = _input(subgraph, op, 0), _input(subgraph, op, 1)
    if refused or data is None or weights is None or data.type_name == "float32":
        return refused
    if weights.type_name == "int4" and weights.quantization is not None and len(weights.quantization.scale) > 1:
        return "FULLY_CONNECTED has no per-channel kernel for an int4 filter (use per-tensor quantization)"
    return None


def _transpose_conv(subgraph: Subgraph, op: Operator) -> str | None:
    """kernels/transpose_conv.cc ``TransposeConvPrepare``: input (slot 2) and filter of one type,
    or int16 input with int8 filter."""
    return _filter_types(subgraph, op, 2, lambda i, f: i == f or (i, f) == ("int16", "int8"), same_output=False)


def _add_n(subgraph: Subgraph, op: Operator) -> str | None:
    """kernels/add_n.cc ``CalculateOpData``: one type throughout, and only float32 or int8."""
    output = _output(subgraph, op, 0)
    if output is None:
        return None
    types = {t.type_name for slot in range(len(op.inputs)) if (t := _input(subgraph, op, slot)) is not None}
    if types - {output.type_name}:
        return f"ADD_N needs inputs and output of one type, got {sorted(types)} and {output.type_name}"
    if output.type_name not in ("float32", "int8"):
        return f"ADD_N only supports float32 and int8, got {output.type_name}"
    return None


def _reducer(subgraph: Subgraph, op: Operator) -> str | None:
    """kernels/reduce_common.cc ``PrepareSimple`` (every reduce op): two inputs, one output, an
    int32 axis tensor; ``PrepareAllHelper`` (REDUCE_ALL) also needs a bool input."""
    data, axis = _input(subgraph, op, 0), _input(subgraph, op, 1)
    if op.op_name == "REDUCE_ALL" and data is not None and data.type_name != "bool":
        return f"REDUCE_ALL needs a bool input, got {data.type_name}"
    if len(op.inputs) != 2 or len(op.outputs) != 1:
        return f"{op.op_name} needs 2 inputs and 1 output, got {len(op.inputs)} and {len(op.outputs)}"
    if axis is None:
        return f"{op.op_name} needs an axis tensor"
    if axis.type_name != "int32":
        return f"{op.op_name} needs an int32 axis tensor, got {axis.type_name}"
    return None


def _mirror_pad(subgraph: Subgraph, op: Operator) -> str | None:
    """kernels/mirror_pad.cc ``MirrorPadPrepare``: a 2-D padding matrix with a row per input dim."""
    data, padding = _input(subgraph, op, 0), _input(subgraph, op, 1)
    if data is None or padding is None:
        return None
    if len(padding.shape) != 2 or padding.shape[0] != len(data.shape):
        return f"MIRROR_PAD needs a padding matrix of shape [{len(data.shape)}, 2], got {list(padding.shape)}"
    return None


def _detection_postprocess(subgraph: Subgraph, op: Operator) -> str | None:
    """kernels/detection_postprocess.cc ``DetectionPostProcessPrepare``: 3 inputs (3-D boxes,
    3-D scores, 2-D anchors) and 4 outputs."""
    if len(op.inputs) != 3 or len(op.outputs) != 4:
        return f"TFLite_Detection_PostProcess needs 3 inputs and 4 outputs, got {len(op.inputs)} and {len(op.outputs)}"
    for slot, (what, rank) in enumerate((("box encodings", 3), ("class predictions", 3), ("anchors", 2))):
        tensor = _input(subgraph, op, slot)
        if tensor is not None and len(tensor.shape) != rank:
            return f"TFLite_Detection_PostProcess needs {rank}-D {what}, got shape {list(tensor.shape)}"
    return None


_SUPPORT_RULES: dict[str, Callable[[Subgraph, Operator], str | None]] = {
    "FILL": _fill,
    "CONV_2D": _conv,
    "DEPTHWISE_CONV_2D": _depthwise,
    "FULLY_CONNECTED": _fully_connected,
    "TRANSPOSE_CONV": _transpose_conv,
    "ADD_N": _add_n,
    "MEAN": _reducer,
    "SUM": _reducer,
    "REDUCE_MAX": _reducer,
    "REDUCE_MIN": _reducer,
    "REDUCE_ALL": _reducer,
    "MIRROR_PAD": _mirror_pad,
    "CUSTOM:TFLite_Detection_PostProcess": _detection_postprocess,
}


def reference_unsupported_reason(model: Model, subgraph: Subgraph, op: Operator) -> str | None:
    """Why the reference build cannot run ``op`` (None when it can).

    Examples
    --------
    >>> from arena.model.records import Operator, Subgraph
    >>> op = Operator(index=0, opcode_index=0, builtin_code=32, op_name="CUSTOM:ethos-u",
    ...               custom_code="ethos-u", version=1, inputs=(), outputs=())
    >>> graph = Subgraph(index=0, name="", tensors=(), operators=(op,), inputs=(), outputs=())
    >>> reference_unsupported_reason(None, graph, op).split(":")[0]
    "custom op 'ethos-u' runs on an Arm Ethos-U NPU"
    """
    del model
    if op.custom_code is not None:
        if op.custom_code == ETHOS_U_CUSTOM:
            return (
                f"custom op '{ETHOS_U_CUSTOM}' runs on an Arm Ethos-U NPU: the reference build registers no "
                "kernel for it, so TFLM stops with 'Failed to get registration from op code CUSTOM'"
            )
        if op.custom_code not in SUPPORTED_CUSTOM:
            return f"custom op '{op.custom_code}' has no kernel in TFLM's reference build"
    elif op.op_name not in SUPPORTED_BUILTINS:
        return f"builtin op {op.op_name} has no kernel in TFLM's reference build"
    rule = _SUPPORT_RULES.get(op.op_name)
    return rule(subgraph, op) if rule else None


REFERENCE = KernelLibrary(
    name="reference",
    description="TFLM reference kernels (the tflite-micro Python package; portable C++ builds)",
    unsupported_reason=reference_unsupported_reason,
    scratch_requests=reference_scratch,
)

__all__ = [
    "REFERENCE",
    "SCRATCH_RULES",
    "SUPPORTED_BUILTINS",
    "SUPPORTED_CUSTOM",
    "reference_scratch",
    "reference_unsupported_reason",
]
