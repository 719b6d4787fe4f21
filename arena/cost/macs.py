"""What each operator computes: multiply-accumulates (MACs) and element operations, from shapes.

Two counts per operator feed the cycle model (:mod:`arena.cost.cycles`):

* ``macs``: multiply-accumulates of the op's matrix work (conv, depthwise, fully connected,
  batch matmul, transpose conv, LSTM and SVDF gates). Zero padding is counted, as the published
  MLPerf Tiny figures count it: every output position multiplies the whole filter window.
* ``elements``: the per-element work beside the MACs. For a MAC op, one per output element (the
  bias, requantization and store epilogue); for pooling, one per input element each window reads
  (output elements x window); for softmax and reductions, one per input element; for elementwise
  ops, data movement and anything else, one per output element.

Operators are grouped into kinds (:class:`OpKind`); the cycle model has coefficients per kind.
Shapes come from the tensor records; a shape the rule needs that is missing or negative is an
``ArenaError`` naming the model, subgraph, op and input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from arena.errors import ArenaError
from arena.model.records import Model, Operator, Subgraph, Tensor


class OpKind(StrEnum):
    """Cost classes of operators; the value is the key in the coefficient file and in JSON."""

    CONV = "conv"
    DEPTHWISE = "depthwise"
    FULLY_CONNECTED = "fully_connected"
    RECURRENT = "recurrent"
    POOL = "pool"
    ELEMENTWISE = "elementwise"
    SOFTMAX = "softmax"
    REDUCE = "reduce"
    DATA_MOVEMENT = "data_movement"
    OTHER = "other"


#: Kinds whose ``macs`` are non-zero (matrix work).
MAC_KINDS = frozenset({OpKind.CONV, OpKind.DEPTHWISE, OpKind.FULLY_CONNECTED, OpKind.RECURRENT})

_KIND_OF: dict[str, OpKind] = {
    "CONV_2D": OpKind.CONV,
    "TRANSPOSE_CONV": OpKind.CONV,
    "DEPTHWISE_CONV_2D": OpKind.DEPTHWISE,
    "FULLY_CONNECTED": OpKind.FULLY_CONNECTED,
    "BATCH_MATMUL": OpKind.FULLY_CONNECTED,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": OpKind.RECURRENT,
    "SVDF": OpKind.RECURRENT,
    "AVERAGE_POOL_2D": OpKind.POOL,
    "MAX_POOL_2D": OpKind.POOL,
    "L2_POOL_2D": OpKind.POOL,
    "SOFTMAX": OpKind.SOFTMAX,
    "LOG_SOFTMAX": OpKind.SOFTMAX,
}
for _name in (
    "MEAN",
    "SUM",
    "REDUCE_MAX",
    "REDUCE_MIN",
    "REDUCE_PROD",
    "REDUCE_ANY",
    "REDUCE_ALL",
    "ARG_MAX",
    "ARG_MIN",
    "CUMSUM",
    "L2_NORMALIZATION",
):
    _KIND_OF[_name] = OpKind.REDUCE
# QUANTIZE, DEQUANTIZE and CAST rescale every element (a multiply and shift each), so they cost
# like arithmetic, not like a copy.
for _name in (
    "ADD",
    "SUB",
    "MUL",
    "DIV",
    "SQUARED_DIFFERENCE",
    "MAXIMUM",
    "MINIMUM",
    "ADD_N",
    "FLOOR_DIV",
    "FLOOR_MOD",
    "RELU",
    "RELU6",
    "RELU_N1_TO_1",
    "RELU_0_TO_1",
    "LEAKY_RELU",
    "PRELU",
    "HARD_SWISH",
    "LOGISTIC",
    "TANH",
    "ELU",
    "EXP",
    "LOG",
    "SQRT",
    "RSQRT",
    "SQUARE",
    "ABS",
    "NEG",
    "SIN",
    "COS",
    "FLOOR",
    "CEIL",
    "ROUND",
    "EQUAL",
    "NOT_EQUAL",
    "GREATER",
    "GREATER_EQUAL",
    "LESS",
    "LESS_EQUAL",
    "LOGICAL_AND",
    "LOGICAL_OR",
    "LOGICAL_NOT",
    "SELECT",
    "SELECT_V2",
    "QUANTIZE",
    "DEQUANTIZE",
    "CAST",
    "RESIZE_BILINEAR",
):
    _KIND_OF[_name] = OpKind.ELEMENTWISE
for _name in (
    "RESHAPE",
    "SQUEEZE",
    "EXPAND_DIMS",
    "CONCATENATION",
    "PAD",
    "PADV2",
    "MIRROR_PAD",
    "TRANSPOSE",
    "SLICE",
    "STRIDED_SLICE",
    "SPLIT",
    "SPLIT_V",
    "PACK",
    "UNPACK",
    "GATHER",
    "GATHER_ND",
    "SPACE_TO_DEPTH",
    "DEPTH_TO_SPACE",
    "SPACE_TO_BATCH_ND",
    "BATCH_TO_SPACE_ND",
    "BROADCAST_TO",
    "BROADCAST_ARGS",
    "TILE",
    "REVERSE_V2",
    "RESIZE_NEAREST_NEIGHBOR",
    "FILL",
    "ZEROS_LIKE",
    "SHAPE",
    "EMBEDDING_LOOKUP",
    "DYNAMIC_UPDATE_SLICE",
):
    _KIND_OF[_name] = OpKind.DATA_MOVEMENT

# UNIDIRECTIONAL_SEQUENCE_LSTM input slots (tensorflow/lite/kernels/lstm_shared.h): the four
# input-to-gate and four recurrent-to-gate weight matrices, and the projection weights.
_LSTM_INPUT_WEIGHTS = (1, 2, 3, 4)
_LSTM_RECURRENT_WEIGHTS = (5, 6, 7, 8)
_LSTM_PROJECTION_WEIGHTS = 16


def op_kind(op_name: str) -> OpKind:
    """The cost class of an operator name; ``OTHER`` for custom, control-flow and unknown ops.

    Examples
    --------
    >>> op_kind("DEPTHWISE_CONV_2D"), op_kind("RESHAPE"), op_kind("CUSTOM:SignalRfft")
    (<OpKind.DEPTHWISE: 'depthwise'>, <OpKind.DATA_MOVEMENT: 'data_movement'>, <OpKind.OTHER: 'other'>)
    """
    return _KIND_OF.get(op_name, OpKind.OTHER)


@dataclass(frozen=True, slots=True, kw_only=True)
class OpCount:
    """The work of one operator: its kind, MACs and element operations."""

    subgraph_index: int
    op_index: int
    op_name: str
    kind: OpKind
    macs: int
    elements: int
    #: Type of the first input (``int8``, ``float32``...), "" when the op has none.
    input_type: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCounts:
    """Per-operator counts in execution order (subgraph by subgraph), with model totals.

    ``parameters`` and ``constant_bytes`` count each constant buffer once (the elements and bytes
    of tensors with data, deduplicated by buffer index); ``model_bytes`` is the file size, which
    adds the graph structure and metadata the flash also holds.
    """

    model_name: str
    ops: tuple[OpCount, ...]
    parameters: int
    constant_bytes: int
    model_bytes: int

    @property
    def macs(self) -> int:
        """Multiply-accumulates over all operators."""
        return sum(op.macs for op in self.ops)

    @property
    def elements(self) -> int:
        """Element operations over all operators."""
        return sum(op.elements for op in self.ops)


class _Shapes:
    """Checked tensor lookups for one operator, so every message names the place."""

    def __init__(self, model: Model, subgraph: Subgraph, op: Operator) -> None:
        self._subgraph = subgraph
        self._op = op
        self._where = f"{model.display_name}: subgraph {subgraph.index}, op {op.index} ({op.op_name})"

    def error(self, what: str) -> ArenaError:
        return ArenaError(f"{self._where}: {what}")

    def _tensor(self, indices: tuple[int, ...], slot: int, role: str) -> Tensor | None:
        if slot >= len(indices) or indices[slot] < 0:
            return None
        index = indices[slot]
        if index >= len(self._subgraph.tensors):
            raise self.error(f"{role} {slot} refers to tensor {index}, beyond the subgraph's tensors")
        return self._subgraph.tensors[index]

    def input_type(self) -> str:
        found = self.optional_input(0)
        return "" if found is None else found.type_name

    def optional_input(self, slot: int) -> Tensor | None:
        return self._tensor(self._op.inputs, slot, "input")

    def input(self, slot: int, what: str, rank: int | None = None) -> tuple[int, ...]:
        found = self.optional_input(slot)
        if found is None:
            raise self.error(f"needs {what} at input {slot}")
        return self._checked(found, f"{what} (input {slot})", rank)

    def output_elements(self) -> int:
        found = self._tensor(self._op.outputs, 0, "output")
        if found is None:
            raise self.error("has no output tensor")
        return math.prod(self._checked(found, "output 0", None))

    def option(self, key: str) -> int:
        value = self._op.options.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise self.error(f"option {key} is {value!r}, expected a positive integer")
        return value

    def _checked(self, tensor: Tensor, what: str, rank: int | None) -> tuple[int, ...]:
        if any(dim < 0 for dim in tensor.shape):
            raise self.error(f"{what} has a negative dimension in shape {list(tensor.shape)}")
        if rank is not None and len(tensor.shape) != rank:
            raise self.error(f"{what} has shape {list(tensor.shape)}, expected rank {rank}")
        return tensor.shape


def _lstm(shapes: _Shapes) -> tuple[int, int]:
    """Per step: every gate matrix times its vector; per cell: gate activations and updates."""
    sequence = shapes.input(0, "the input sequence")
    if not sequence or sequence[-1] == 0:
        raise shapes.error(f"input sequence has shape {list(sequence)}, expected [..., n_input]")
    steps = math.prod(sequence) // sequence[-1]
    weight_elements = 0
    gates = 0
    for slot in (*_LSTM_INPUT_WEIGHTS, *_LSTM_RECURRENT_WEIGHTS, _LSTM_PROJECTION_WEIGHTS):
        if shapes.optional_input(slot) is not None:
            weight_elements += math.prod(shapes.input(slot, "a weight matrix", rank=2))
            gates += 1 if slot in _LSTM_INPUT_WEIGHTS else 0
    n_cell = shapes.input(2, "the input-to-forget weights", rank=2)[0]
    # Each step: one activation per gate and cell, then the cell update and the hidden output.
    return steps * weight_elements, steps * n_cell * (gates + 2)


def _svdf(shapes: _Shapes, output_elements: int) -> tuple[int, int]:
    """Feature matmul (filters x input) and time matmul (filters x memory), per batch row."""
    batch = shapes.input(0, "the input", rank=2)[0]
    filters, input_size = shapes.input(1, "the feature weights", rank=2)
    time_filters, memory = shapes.input(2, "the time weights", rank=2)
    if time_filters != filters:
        raise shapes.error(f"time weights have {time_filters} filters, feature weights {filters}")
    # The state shifts by one frame each invoke (filters x memory copies), then the rank sum.
    return batch * filters * (input_size + memory), batch * filters * memory + output_elements


def _counts(shapes: _Shapes, op: Operator, kind: OpKind) -> tuple[int, int]:
    """(macs, elements) of one operator by the rules in the module docstring."""
    output = shapes.output_elements()
    name = op.op_name
    if name == "CONV_2D":
        _, height, width, depth = shapes.input(1, "a filter", rank=4)
        return output * height * width * depth, output
    if name == "DEPTHWISE_CONV_2D":
        _, height, width, _ = shapes.input(1, "a filter", rank=4)
        return output * height * width, output
    if name == "TRANSPOSE_CONV":
        channels, height, width, _ = shapes.input(1, "a filter", rank=4)
        return math.prod(shapes.input(2, "the input")) * height * width * channels, output
    if name == "FULLY_CONNECTED":
        depth = shapes.input(1, "a weight matrix", rank=2)[1]
        return output * depth, output
    if name == "BATCH_MATMUL":
        left = shapes.input(0, "the left matrix")
        if len(left) < 2:
            raise shapes.error(f"left matrix has shape {list(left)}, expected rank 2 or more")
        return output * (left[-2] if op.options.get("adj_x") else left[-1]), output
    if name == "UNIDIRECTIONAL_SEQUENCE_LSTM":
        return _lstm(shapes)
    if name == "SVDF":
        return _svdf(shapes, output)
    if kind is OpKind.POOL:
        return 0, output * shapes.option("filter_width") * shapes.option("filter_height")
    if kind in (OpKind.SOFTMAX, OpKind.REDUCE):
        return 0, math.prod(shapes.input(0, "the input"))
    return 0, output


def count_op(model: Model, subgraph: Subgraph, op: Operator) -> OpCount:
    """MACs and element operations of one operator.

    Parameters
    ----------
    model, subgraph, op
        The operator and where it sits (used in error messages).

    Returns
    -------
    OpCount
        The op's kind, ``macs`` and ``elements`` (see the module docstring for each rule).

    Raises
    ------
    ArenaError
        When a shape the rule needs is missing, negative or of the wrong rank.

    Examples
    --------
    A 3x3 convolution from 8 to 16 channels over an 8x8 output: each of the 8 x 8 x 16 outputs
    multiplies a 3 x 3 x 8 window, so 1,024 x 72 = 73,728 MACs.

    >>> from arena.model.records import Model, Operator, Subgraph, Tensor
    >>> def t(i, shape):
    ...     return Tensor(index=i, name=f"t{i}", shape=shape, type_code=9, buffer=0,
    ...                   has_data=False, is_variable=False)
    >>> conv = Operator(index=0, opcode_index=0, builtin_code=3, op_name="CONV_2D",
    ...                 custom_code=None, version=1, inputs=(0, 1, 2), outputs=(3,))
    >>> graph = Subgraph(index=0, name="", operators=(conv,), inputs=(0,), outputs=(3,),
    ...     tensors=(t(0, (1, 8, 8, 8)), t(1, (16, 3, 3, 8)), t(2, (16,)), t(3, (1, 8, 8, 16))))
    >>> model = Model(path="m.tflite", sha256="", size_bytes=0, version=3, description="",
    ...               subgraphs=(graph,), metadata=(), buffer_count=0, data=b"")
    >>> count = count_op(model, graph, conv)
    >>> count.kind, count.macs, count.elements
    (<OpKind.CONV: 'conv'>, 73728, 1024)
    """
    kind = op_kind(op.op_name)
    shapes = _Shapes(model, subgraph, op)
    macs, elements = _counts(shapes, op, kind)
    return OpCount(
        subgraph_index=subgraph.index,
        op_index=op.index,
        op_name=op.op_name,
        kind=kind,
        macs=macs,
        elements=elements,
        input_type=shapes.input_type(),
    )


def _constants(model: Model) -> tuple[int, int]:
    """(elements, bytes) of constant tensors, each buffer counted once."""
    seen: set[int] = set()
    elements = size_bytes = 0
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors:
            if not tensor.has_data or tensor.buffer in seen:
                continue
            seen.add(tensor.buffer)
            elements += tensor.element_count
            size_bytes += tensor.byte_size or 0
    return elements, size_bytes


def count_model(model: Model) -> ModelCounts:
    """Counts for every operator of every subgraph, in execution order, and the model totals.

    Each operator is counted once; a subgraph that IF or WHILE runs several times, or not at
    all, is still counted once (the caller warns about models with more than one subgraph).

    Raises
    ------
    ArenaError
        When an operator's shapes do not fit its rule (see :func:`count_op`).
    """
    ops = tuple(count_op(model, subgraph, op) for subgraph in model.subgraphs for op in subgraph.operators)
    parameters, constant_bytes = _constants(model)
    return ModelCounts(
        model_name=model.display_name,
        ops=ops,
        parameters=parameters,
        constant_bytes=constant_bytes,
        model_bytes=model.size_bytes,
    )
