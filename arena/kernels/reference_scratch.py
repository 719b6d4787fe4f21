"""Scratch buffers TFLM's reference kernels request in ``Prepare`` (``RequestScratchBufferInArena``).

One small function per kernel, each naming the TFLM source (tensorflow/tflite-micro at 90b983c2)
whose ``Prepare`` it follows. Sizes are the raw byte counts passed to TFLM, before its 16-byte
alignment, and requests come in the kernel's call order. Every kernel that calls
``RequestScratchBufferInArena`` under ``tensorflow/lite/micro/kernels/*.cc`` and
``signal/micro/kernels/*.cc`` has a rule here; any other op requests none.

The rules assume the op already passed :func:`arena.kernels.reference.reference_unsupported_reason`;
on malformed records they return sizes computed from zero dimensions rather than raising.

Not modelled: the decompression scratch that CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED,
TRANSPOSE_CONV, CONCATENATION and ASSIGN_VARIABLE request (``AllocateDecompressionScratchBuffer``,
micro_interpreter_context.cc) for tensors a ``COMPRESSION_METADATA`` entry marks as compressed. The
pip wheel is built with ``USE_TFLM_COMPRESSION``, so such models would need more scratch than
predicted here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from arena.kernels.library import ScratchRequest
from arena.kernels.operands import op_input as _input
from arena.kernels.operands import op_output as _output
from arena.model.custom_options import custom_option_scalars
from arena.model.records import TENSOR_TYPES, Model, Operator, Subgraph, Tensor

INT32_BYTES = 4
INT64_BYTES = 8
FLOAT32_BYTES = 4
#: ``sizeof(T*)`` in the x86-64 pip wheel; a 32-bit microcontroller build uses 4.
POINTER_BYTES = 8
#: kernels/detection_postprocess.cc ``kNumCoordBox``: floats per decoded box.
BOX_COORDINATES = 4


def _dim(tensor: Tensor | None, axis: int) -> int:
    if tensor is None or len(tensor.shape) <= axis:
        return 0
    return tensor.shape[axis]


def _rank(tensor: Tensor | None) -> int:
    """``NumDimensions`` / ``dims->size``."""
    return 0 if tensor is None else len(tensor.shape)


def _elements(tensor: Tensor | None) -> int:
    """``NumElements`` / ``RuntimeShape::FlatSize``: a rank-0 tensor has one element."""
    return 0 if tensor is None else math.prod(tensor.shape)


def _type(tensor: Tensor | None) -> str | None:
    return None if tensor is None else tensor.type_name


def custom_options(op: Operator) -> Mapping[str, object]:
    """A custom op's top-level scalar flexbuffer options ({} when absent or malformed)."""
    return custom_option_scalars(op.custom_options)


def _int_option(options: Mapping[str, object], key: str, default: int = 0) -> int:
    """An integer option; flexbuffers' ``m[key].AsInt32()`` reads a missing key (null) as 0."""
    value = options.get(key)
    if isinstance(value, bool | int | float):
        return int(value)
    return default


# ------------------------------------------------------------------------------------ rules


def _svdf(model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """kernels/svdf_common.cc ``PrepareSvdf``: int32 accumulators per filter and per unit."""
    del model
    inputs = _input(subgraph, op, 0)
    weights_feature = _input(subgraph, op, 1)
    rank = _int_option(op.options, "rank", 1) or 1
    batch = _dim(inputs, 0)
    filters = _dim(weights_feature, 0)
    units = filters // rank
    requests = [ScratchRequest(size_bytes=batch * filters * INT32_BYTES, purpose="SVDF filter state")]
    if inputs is not None and inputs.type_name == "int8":
        requests.append(ScratchRequest(size_bytes=batch * units * INT32_BYTES, purpose="SVDF output accumulators"))
    return tuple(requests)


def _lstm(model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """kernels/unidirectional_sequence_lstm.cc: four gate buffers of batch x state x cell type."""
    del model
    inputs = _input(subgraph, op, 0)
    output_state = _input(subgraph, op, 18)
    cell_state = _input(subgraph, op, 19)
    batch = _dim(inputs, 1) if op.options.get("time_major") else _dim(inputs, 0)
    state = _dim(output_state, 1)
    cell_bytes = TENSOR_TYPES.get(cell_state.type_code, ("", 0))[1] if cell_state else 0
    size = batch * state * (cell_bytes or 0)
    return tuple(ScratchRequest(size_bytes=size, purpose=f"LSTM gate buffer {i}") for i in range(4))


def _rfft(model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """signal/micro/kernels/rfft.cc ``RfftPrepare``: ``fft_length`` elements of the op's type ``T``."""
    del model, subgraph
    options = custom_options(op)
    fft_length = _int_option(options, "fft_length")
    item = TENSOR_TYPES.get(_int_option(options, "T"), ("", 0))[1] or 0
    return (ScratchRequest(size_bytes=fft_length * item, purpose="RFFT work area"),)


def _add_n(model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """kernels/add_n.cc ``CalculateOpData``: one data pointer per input, float32 and int8 outputs.

    ``NumInputs`` counts every input slot. The size is ``sizeof(T*)``, 8 bytes in the x86-64 wheel.
    """
    del model
    if _type(_output(subgraph, op, 0)) not in ("float32", "int8"):
        return ()
    return (ScratchRequest(size_bytes=POINTER_BYTES * len(op.inputs), purpose="ADD_N input pointers"),)


def _int4_filter(model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """Unpacked int4 weights: one byte per filter element, only when the filter is int4.

    kernels/conv_common.cc ``ConvPrepare``, kernels/depthwise_conv_common.cc
    ``DepthwiseConvPrepare`` and kernels/fully_connected.cc ``FullyConnectedPrepare`` (filter at
    input 1) each request ``FlatSize(filter)`` bytes to unpack the filter into.
    """
    del model
    weights = _input(subgraph, op, 1)
    if _type(weights) != "int4":
        return ()
    return (ScratchRequest(size_bytes=_elements(weights), purpose="unpacked int4 filter"),)


def _transpose_conv(model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """kernels/transpose_conv.cc ``TransposeConvPrepare`` then ``CalculateOpData``.

    Inputs: 0 output shape, 1 filter, 2 input, 3 bias (optional). An int8 input asks for one int32
    accumulator per output element, an int16 input for one int64; an int16 input with an int16
    bias then asks for the bias widened to int64.
    """
    del model
    input_type = _type(_input(subgraph, op, 2))
    output_elements = _elements(_output(subgraph, op, 0))
    if input_type == "int8":
        return (ScratchRequest(size_bytes=output_elements * INT32_BYTES, purpose="TRANSPOSE_CONV int32 accumulators"),)
    if input_type != "int16":
        return ()
    requests = [ScratchRequest(size_bytes=output_elements * INT64_BYTES, purpose="TRANSPOSE_CONV int64 accumulators")]
    bias = _input(subgraph, op, 3)
    if _type(bias) == "int16":
        requests.append(ScratchRequest(size_bytes=_elements(bias) * INT64_BYTES, purpose="TRANSPOSE_CONV int64 bias"))
    return tuple(requests)


def _mirror_pad(model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """kernels/mirror_pad.cc ``MirrorPadPrepare``: two ``int`` per input dimension, output's first."""
    del model
    size = _rank(_input(subgraph, op, 0)) * INT32_BYTES
    return (
        ScratchRequest(size_bytes=size, purpose="MIRROR_PAD output dimension sizes"),
        ScratchRequest(size_bytes=size, purpose="MIRROR_PAD input dimension sizes"),
    )


def _reduce_iterators(subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ScratchRequest]:
    """The two index buffers of every reduce Prepare: one ``int`` per input dimension, per axis."""
    return (
        ScratchRequest(size_bytes=_rank(_input(subgraph, op, 0)) * INT32_BYTES, purpose="reduce input iterator"),
        ScratchRequest(size_bytes=_elements(_input(subgraph, op, 1)) * INT32_BYTES, purpose="reduce resolved axes"),
    )


def _mean_or_sum(model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """kernels/reduce_common.cc ``PrepareMeanOrSumHelper`` (MEAN, SUM).

    int8 and int16 inputs first ask for one int32 accumulator per output element; then every type
    asks for the iterator (input rank) and resolved-axis (axis elements) ``int`` buffers.
    """
    del model
    requests: list[ScratchRequest] = []
    if _type(_input(subgraph, op, 0)) in ("int8", "int16"):
        accumulators = _elements(_output(subgraph, op, 0)) * INT32_BYTES
        requests.append(ScratchRequest(size_bytes=accumulators, purpose="reduce int32 accumulators"))
    return (*requests, *_reduce_iterators(subgraph, op))


def _reduce_generic(model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """kernels/reduce_common.cc ``PrepareMinMaxHelper`` (REDUCE_MAX, REDUCE_MIN) and
    ``PrepareAllHelper`` (REDUCE_ALL): input-rank and axis-count ``int`` buffers, any type."""
    del model
    return _reduce_iterators(subgraph, op)


def _detection_postprocess(model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """kernels/detection_postprocess.cc ``DetectionPostProcessPrepare``: eleven buffers.

    ``num_boxes`` is dimension 1 of the box encodings (input 0); ``max_detections`` and
    ``num_classes`` come from the custom options (``DetectionPostProcessInit``). All sizes are
    static: they depend only on shapes and options, never on the detections found at run time.
    """
    del model
    options = custom_options(op)
    max_detections = _int_option(options, "max_detections")
    num_classes = _int_option(options, "num_classes")
    boxes = _dim(_input(subgraph, op, 0), 1)
    predictions = _input(subgraph, op, 1)
    per_box = boxes * FLOAT32_BYTES
    per_detection = max_detections * boxes * FLOAT32_BYTES
    sizes = (
        ("active candidates", boxes),
        ("decoded boxes", boxes * BOX_COORDINATES * FLOAT32_BYTES),
        ("scores", _dim(predictions, 1) * _dim(predictions, 2) * FLOAT32_BYTES),
        ("score buffer", per_box),
        ("keep scores", per_box),
        ("scores after regular NMS", per_detection),
        ("sorted values", per_detection),
        ("keep indices", boxes * INT32_BYTES),
        ("sorted indices", max_detections * boxes * INT32_BYTES),
        ("buffer", max(num_classes, max_detections) * boxes * INT32_BYTES),
        ("selected", min(boxes, max_detections) * boxes * INT32_BYTES),
    )
    return tuple(ScratchRequest(size_bytes=size, purpose=f"DETECTION_POSTPROCESS {name}") for name, size in sizes)


ScratchFunction = Callable[[Model, Subgraph, Operator], tuple[ScratchRequest, ...]]

#: Op name -> its reference kernel's scratch rule; ops not listed request no scratch.
SCRATCH_RULES: dict[str, ScratchFunction] = {
    "ADD_N": _add_n,
    "CONV_2D": _int4_filter,
    "DEPTHWISE_CONV_2D": _int4_filter,
    "FULLY_CONNECTED": _int4_filter,
    "TRANSPOSE_CONV": _transpose_conv,
    "MIRROR_PAD": _mirror_pad,
    "MEAN": _mean_or_sum,
    "SUM": _mean_or_sum,
    "REDUCE_MAX": _reduce_generic,
    "REDUCE_MIN": _reduce_generic,
    "REDUCE_ALL": _reduce_generic,
    "SVDF": _svdf,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": _lstm,
    "CUSTOM:SignalRfft": _rfft,
    "CUSTOM:TFLite_Detection_PostProcess": _detection_postprocess,
}


def reference_scratch(model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """The scratch buffers the reference kernel of ``op`` requests in Prepare, in order.

    Examples
    --------
    >>> from arena.model.records import Tensor, Operator, Subgraph
    >>> t = lambda i, shape: Tensor(index=i, name=f"t{i}", shape=shape, type_code=9, buffer=0,
    ...                             has_data=False, is_variable=False)
    >>> op = Operator(index=0, opcode_index=0, builtin_code=106, op_name="MIRROR_PAD",
    ...               custom_code=None, version=1, inputs=(0, 1), outputs=(2,))
    >>> graph = Subgraph(index=0, name="", tensors=(t(0, (1, 8, 8, 3)), t(1, (4, 2)),
    ...                  t(2, (1, 10, 10, 3))), operators=(op,), inputs=(0,), outputs=(2,))
    >>> [r.size_bytes for r in reference_scratch(None, graph, op)]
    [16, 16]
    """
    rule = SCRATCH_RULES.get(op.op_name)
    return rule(model, subgraph, op) if rule else ()
