"""In-place aliasing: an op's output placed on the bytes of an input that dies at that op.

Each rule names the TFLM kernel behaviour that makes sharing bytes safe (tflite-micro 90b983c2):

* ``RESHAPE`` / ``SQUEEZE`` / ``EXPAND_DIMS``: tensorflow/lite/micro/kernels/reshape.cc skips its
  ``memcpy`` when input and output have the same address (squeeze and expand_dims are registered
  on the same kernel in this TFLM); output at the input's offset.
* ``CONCATENATION`` on an axis with only size-1 dims before it, all inputs and the output with the
  same type, scale and zero point: the reference kernel
  (tensorflow/lite/kernels/internal/reference/concatenation.h) then copies each input once,
  contiguously, to its place in the output; an input placed exactly at that place is copied
  onto itself (every byte keeps its value). Inputs at their places in the output.
* ``ADD`` / ``MUL`` / ``SUB`` int8 without broadcast: reference integer_ops add.h / mul.h and
  sub.cc's elementwise loops compute ``output[i]`` from ``input1[i]`` and ``input2[i]`` only, read
  before the write of the same ``i``, so the output can start at the dying input's address.

The same holds with CMSIS-NN (4ab83cc3, the revision TFLM pins), checked in its source: TFLM has
no CMSIS-NN RESHAPE, CONCATENATION or SUB, so the kernels above run; its ADD and MUL wrappers
(tensorflow/lite/micro/kernels/cmsis_nn/add.cc, mul.cc) call ``arm_elementwise_add_s8`` /
``arm_elementwise_mul_s8`` without broadcast, whose scalar, DSP and MVE loops all load elements
``i..i+3`` of both inputs before they store elements ``i..i+3`` of the output, so an output at its
input's very address reads every element before overwriting it.
A tensor that is the graph's input or output, a constant, or read by any later op is never a source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from math import prod

from arena.model.records import Model, Subgraph, Tensor

#: Type sizes in bytes by schema TensorType code (int8, uint8, int16, int32, float32, bool).
_TYPE_BYTES = {9: 1, 3: 1, 7: 2, 2: 4, 0: 4, 6: 1}
_RESHAPES = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS"})
_ELEMENTWISE = frozenset({"ADD", "MUL", "SUB"})
#: The kernel libraries whose source these rules were checked against.
PROVEN_LIBRARIES = frozenset({"reference", "cmsis-nn-dsp", "cmsis-nn-mve", "cmsis-nn-plain"})


class AliasKind(StrEnum):
    """Why an output may share an input's bytes (the JSON strings)."""

    RESHAPE = "reshape"
    CONCAT_PIECE = "concat-piece"
    ELEMENTWISE = "elementwise"
    OVERLAP = "overlap"  # arena.shrink.overlap: output starts byte_offset below the input


@dataclass(frozen=True, slots=True, kw_only=True)
class Alias:
    """``source`` (an input of ``op``) lives at ``target``'s offset + ``byte_offset``."""

    op: int
    kind: AliasKind
    source: int
    target: int
    byte_offset: int


def tensor_bytes(tensor: Tensor) -> int:
    """Bytes of a tensor (0 when its type is one these rules do not handle)."""
    return prod(tensor.shape) * _TYPE_BYTES.get(tensor.type_code, 0)


def _same_quant(a: Tensor, b: Tensor) -> bool:
    qa, qb = a.quantization, b.quantization
    if qa is None or qb is None:
        return qa is qb
    return qa.scale == qb.scale and qa.zero_point == qb.zero_point


def _last_reader(graph: Subgraph) -> dict[int, int]:
    last: dict[int, int] = {}
    for op in graph.operators:
        for t in op.inputs:
            if t >= 0:
                last[t] = op.index
    return last


def find_aliases(model: Model, kernels: str = "reference") -> tuple[Alias, ...]:
    """Every in-place alias the rules above allow in subgraph 0 (each tensor the source of one at most).

    Examples
    --------
    >>> from arena.model.records import Operator, Tensor, Subgraph, Model
    >>> t = [Tensor(index=i, name=f"t{i}", shape=(1, 4), type_code=9, buffer=0, has_data=False,
    ...             is_variable=False) for i in range(4)]
    >>> ops = (Operator(index=0, opcode_index=0, builtin_code=0, op_name="RELU", custom_code=None,
    ...                 version=1, inputs=(0,), outputs=(1,)),
    ...        Operator(index=1, opcode_index=1, builtin_code=22, op_name="RESHAPE", custom_code=None,
    ...                 version=1, inputs=(1,), outputs=(2,)),
    ...        Operator(index=2, opcode_index=0, builtin_code=0, op_name="RELU", custom_code=None,
    ...                 version=1, inputs=(2,), outputs=(3,)))
    >>> g = Subgraph(index=0, name="", tensors=tuple(t), operators=ops, inputs=(0,), outputs=(3,))
    >>> m = Model(path="m", sha256="", size_bytes=0, version=3, description="", subgraphs=(g,),
    ...           metadata=(), buffer_count=1, data=b"")
    >>> [(a.kind.value, a.source, a.target) for a in find_aliases(m)]
    [('reshape', 1, 2)]
    >>> [a.kind.value for a in find_aliases(m, "cmsis-nn-dsp")]
    ['reshape']
    >>> find_aliases(m, "cmsis-nn")   # a family, not a library build: nothing is assumed
    ()
    """
    if kernels not in PROVEN_LIBRARIES:
        return ()
    graph = model.subgraphs[0]
    last = _last_reader(graph)
    boundary = set(graph.inputs) | set(graph.outputs)
    aliases: list[Alias] = []
    used: set[int] = set()

    def is_source(t: int, op_index: int) -> bool:
        tensor = graph.tensors[t] if 0 <= t < len(graph.tensors) else None
        return (
            tensor is not None
            and not tensor.has_data
            and not tensor.is_variable
            and t not in boundary
            and t not in used
            and last.get(t) == op_index
            and tensor_bytes(tensor) > 0
        )

    for op in graph.operators:
        if len(op.outputs) != 1 or not op.inputs:
            continue
        out = graph.tensors[op.outputs[0]]
        found = _op_aliases(graph, op.index, out, is_source)
        used.update(a.source for a in found)
        aliases.extend(found)
    return tuple(aliases)


def _op_aliases(graph: Subgraph, op_index: int, out: Tensor, is_source: Callable[[int, int], bool]) -> list[Alias]:
    op = graph.operators[op_index]
    x = op.inputs[0]
    if op.op_name in _RESHAPES:
        if is_source(x, op_index) and tensor_bytes(graph.tensors[x]) == tensor_bytes(out):
            return [Alias(op=op_index, kind=AliasKind.RESHAPE, source=x, target=out.index, byte_offset=0)]
        return []
    if op.op_name in _ELEMENTWISE:
        if out.type_code != 9 or len(op.inputs) != 2:
            return []
        for t in op.inputs:
            if graph.tensors[t].shape == out.shape and graph.tensors[t].type_code == 9 and is_source(t, op_index):
                return [Alias(op=op_index, kind=AliasKind.ELEMENTWISE, source=t, target=out.index, byte_offset=0)]
        return []
    if op.op_name == "CONCATENATION":
        axis = int(str(op.options.get("axis", 0)))
        axis = axis + len(out.shape) if axis < 0 else axis
        if prod(out.shape[:axis]) != 1 or op.options.get("fused_activation_function", 0) != 0:
            return []
        pieces = [graph.tensors[t] for t in op.inputs]
        if any(p.type_code != out.type_code or not _same_quant(p, out) for p in pieces):
            return []
        found, offset = [], 0
        for t, piece in zip(op.inputs, pieces, strict=True):
            if is_source(t, op_index) and t not in op.inputs[: op.inputs.index(t)]:
                found.append(
                    Alias(op=op_index, kind=AliasKind.CONCAT_PIECE, source=t, target=out.index, byte_offset=offset)
                )
            offset += tensor_bytes(piece)
        return found
    return []


__all__ = ["PROVEN_LIBRARIES", "Alias", "AliasKind", "find_aliases", "tensor_bytes"]
