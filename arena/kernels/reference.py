"""TFLM's reference kernels (what the ``tflite-micro`` PyPI package runs): support and scratch.

Sources are tensorflow/tflite-micro at 90b983c2; each rule names the kernel file whose
``Prepare`` it follows. int8 CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, pooling, SOFTMAX and
elementwise ops request no scratch in the reference build.
"""

from __future__ import annotations

from collections.abc import Callable

from arena.kernels.library import KernelLibrary, ScratchRequest
from arena.model.records import TENSOR_TYPES, Model, Operator, Subgraph, Tensor

#: Builtin ops registered by the package's op resolver (python/tflite_micro/python_ops_resolver.cc).
SUPPORTED_BUILTINS = frozenset(
    """ABS ADD ADD_N ARG_MAX ARG_MIN ASSIGN_VARIABLE AVERAGE_POOL_2D BATCH_MATMUL
    BATCH_TO_SPACE_ND BROADCAST_ARGS BROADCAST_TO CALL_ONCE CAST CEIL CONCATENATION CONV_2D COS
    CUMSUM DEPTH_TO_SPACE DEPTHWISE_CONV_2D DEQUANTIZE DIV DYNAMIC_UPDATE_SLICE ELU
    EMBEDDING_LOOKUP EQUAL EXP EXPAND_DIMS FILL FLOOR FLOOR_DIV FLOOR_MOD FULLY_CONNECTED GATHER
    GATHER_ND GREATER GREATER_EQUAL HARD_SWISH IF L2_NORMALIZATION L2_POOL_2D LEAKY_RELU LESS
    LESS_EQUAL LOG LOG_SOFTMAX LOGICAL_AND LOGICAL_NOT LOGICAL_OR LOGISTIC MAX_POOL_2D MAXIMUM
    MEAN MINIMUM MIRROR_PAD MUL NEG NOT_EQUAL PACK PAD PADV2 PRELU QUANTIZE READ_VARIABLE
    REDUCE_ALL REDUCE_MAX REDUCE_MIN RELU RELU6 RESHAPE RESIZE_BILINEAR RESIZE_NEAREST_NEIGHBOR
    REVERSE_V2 ROUND RSQRT SELECT_V2 SHAPE SIN SLICE SOFTMAX SPACE_TO_BATCH_ND SPACE_TO_DEPTH
    SPLIT SPLIT_V SQRT SQUARE SQUARED_DIFFERENCE SQUEEZE STRIDED_SLICE SUB SUM SVDF TANH
    TRANSPOSE TRANSPOSE_CONV UNIDIRECTIONAL_SEQUENCE_LSTM UNPACK VAR_HANDLE WHILE
    ZEROS_LIKE""".split()
)

#: Custom ops registered by the same resolver: TFLM's signal library and a few others.
SUPPORTED_CUSTOM = frozenset(
    """SignalDelay SignalEnergy SignalFftAutoScale SignalFilterBank SignalFilterBankLog
    SignalFilterBankSpectralSubtraction SignalFilterBankSquareRoot SignalFramer SignalIrfft
    SignalOverlapAdd SignalPCAN SignalRfft SignalStacker SignalWindow CIRCULAR_BUFFER
    TFLite_Detection_PostProcess""".split()
)

INT32_BYTES = 4


def _tensor(subgraph: Subgraph, op: Operator, input_slot: int) -> Tensor | None:
    if input_slot >= len(op.inputs) or op.inputs[input_slot] < 0:
        return None
    return subgraph.tensors[op.inputs[input_slot]]


def _dim(tensor: Tensor | None, axis: int) -> int:
    if tensor is None or len(tensor.shape) <= axis:
        return 0
    return tensor.shape[axis]


def _svdf(model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """kernels/svdf_common.cc ``PrepareSvdf``: int32 accumulators per filter and per unit."""
    del model
    inputs = _tensor(subgraph, op, 0)
    weights_feature = _tensor(subgraph, op, 1)
    rank = int(op.options.get("rank", 1)) or 1
    batch = _dim(inputs, 0)
    filters = _dim(weights_feature, 0)
    units = filters // rank
    requests = [ScratchRequest(size_bytes=batch * filters * INT32_BYTES, purpose="SVDF filter state")]
    if inputs is not None and inputs.type_name == "int8":
        requests.append(
            ScratchRequest(size_bytes=batch * units * INT32_BYTES, purpose="SVDF output accumulators")
        )
    return tuple(requests)


def _lstm(model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """kernels/unidirectional_sequence_lstm.cc: four gate buffers of batch x state x cell type."""
    del model
    inputs = _tensor(subgraph, op, 0)
    output_state = _tensor(subgraph, op, 18)
    cell_state = _tensor(subgraph, op, 19)
    batch = _dim(inputs, 1) if op.options.get("time_major") else _dim(inputs, 0)
    state = _dim(output_state, 1)
    cell_bytes = TENSOR_TYPES.get(cell_state.type_code, ("", 0))[1] if cell_state else 0
    size = batch * state * (cell_bytes or 0)
    return tuple(ScratchRequest(size_bytes=size, purpose=f"LSTM gate buffer {i}") for i in range(4))


def _rfft(model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """signal/micro/kernels/rfft.cc: ``fft_length`` elements of the op's type ``T``."""
    del model, subgraph
    from flatbuffers import flexbuffers

    options = flexbuffers.Loads(op.custom_options) if op.custom_options else {}
    fft_length = int(options.get("fft_length", 0))
    item = TENSOR_TYPES.get(int(options.get("T", 0)), ("", 0))[1] or 0
    return (ScratchRequest(size_bytes=fft_length * item, purpose="RFFT work area"),)


_SCRATCH_RULES: dict[str, Callable[[Model, Subgraph, Operator], tuple[ScratchRequest, ...]]] = {
    "SVDF": _svdf,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": _lstm,
    "CUSTOM:SignalRfft": _rfft,
}


def reference_scratch(model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """The scratch buffers the reference kernel of ``op`` requests in Prepare, in order."""
    rule = _SCRATCH_RULES.get(op.op_name)
    return rule(model, subgraph, op) if rule else ()


def _fill_dims_not_constant(subgraph: Subgraph, op: Operator) -> str | None:
    """kernels/fill.cc Prepare: the dims input must be a constant tensor."""
    dims = _tensor(subgraph, op, 0)
    if dims is not None and not dims.has_data:
        return f"FILL needs a constant dims input, but tensor {dims.index} '{dims.name}' is computed at run time"
    return None


def reference_unsupported_reason(model: Model, subgraph: Subgraph, op: Operator) -> str | None:
    """Why the reference build cannot run ``op`` (None when it can)."""
    del model
    if op.custom_code is not None:
        if op.custom_code not in SUPPORTED_CUSTOM:
            return f"custom op '{op.custom_code}' has no kernel in TFLM's reference build"
        return None
    if op.op_name not in SUPPORTED_BUILTINS:
        return f"builtin op {op.op_name} has no kernel in TFLM's reference build"
    if op.op_name == "FILL":
        return _fill_dims_not_constant(subgraph, op)
    return None


REFERENCE = KernelLibrary(
    name="reference",
    description="TFLM reference kernels (the tflite-micro Python package; portable C++ builds)",
    unsupported_reason=reference_unsupported_reason,
    scratch_requests=reference_scratch,
)
