"""Write a rewritten graph into a .tflite: new operator list, added tensors, ops and constants.

The shrink rules (:mod:`arena.shrink`) describe a rewrite as plain data (:class:`GraphRewrite`);
this module is the only place that turns it into flatbuffer bytes. It uses the same re-rooting
technique as :mod:`arena.export.offline_model`: the original file is kept byte for byte behind a
new front holding a new root ``Model`` table, a new subgraph 0 table, and vectors of operator
codes, buffers, tensors and operators. Every old table that survives (tensors, operators, weights,
quantization parameters, signatures, metadata) is referenced where it already is, so nothing the
rewrite does not mention changes. Old tensor indices stay valid: new tensors are appended.

Field slots follow tensorflow/lite/schema/schema.fbs (``Tensor``, ``Operator``, ``SubGraph``,
``OperatorCode``, ``Buffer``, ``Model`` and the option tables used here).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from arena.errors import ArenaError, ModelFormatError
from arena.model.reader import TFLITE_IDENTIFIER, read_model_bytes
from arena.model.records import Model
from arena.model.writer import offset_vector

#: Alignment of constant data (schema.fbs ``Buffer.data (force_align: 16)``).
_DATA_ALIGNMENT = 16
#: Model table slots (schema.fbs field order).
_MODEL_SLOTS = 8
_SLOT_VERSION, _SLOT_OPCODES, _SLOT_SUBGRAPHS, _SLOT_BUFFERS = 0, 1, 2, 4
#: Option tables this writer can build: union type name -> ordered (field, flatbuffer kind, default).
_OPTION_FIELDS: dict[str, tuple[tuple[str, str, int], ...]] = {
    "Conv2DOptions": (
        ("padding", "b", 0),
        ("stride_w", "i", 0),
        ("stride_h", "i", 0),
        ("fused_activation_function", "b", 0),
        ("dilation_w_factor", "i", 1),
        ("dilation_h_factor", "i", 1),
        ("quantized_bias_type", "b", 0),
    ),
    "DepthwiseConv2DOptions": (
        ("padding", "b", 0),
        ("stride_w", "i", 0),
        ("stride_h", "i", 0),
        ("depth_multiplier", "i", 0),
        ("fused_activation_function", "b", 0),
        ("dilation_w_factor", "i", 1),
        ("dilation_h_factor", "i", 1),
    ),
    "ConcatenationOptions": (("axis", "i", 0), ("fused_activation_function", "b", 0)),
    "AddOptions": (("fused_activation_function", "b", 0), ("pot_scale_int16", "B", 1)),
    "PadOptions": (),
    "StridedSliceOptions": (
        ("begin_mask", "i", 0),
        ("end_mask", "i", 0),
        ("ellipsis_mask", "i", 0),
        ("new_axis_mask", "i", 0),
        ("shrink_axis_mask", "i", 0),
        ("offset", "B", 0),
    ),
}
_DECODE_ERRORS = (struct.error, IndexError, ValueError, TypeError, OverflowError, AttributeError)


class RewriteError(ArenaError):
    """A rewrite that does not fit the model (bad tensor reference, unknown op or options)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NewTensor:
    """A tensor to append to subgraph 0; ``data`` makes it a constant (its own new buffer).

    ``quantization_of`` names an existing tensor whose quantization table the new one shares
    (same scale and zero point, by reference).
    """

    name: str
    shape: tuple[int, ...]
    type_code: int
    quantization_of: int | None = None
    data: bytes | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewOp:
    """A new operator: a builtin by name, tensor indices (old or appended) and option values."""

    op_name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options_type: str | None = None
    options: Mapping[str, int] = field(default_factory=dict)
    version: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphRewrite:
    """Subgraph 0's new operator list: ints are old operator indices kept as they are.

    ``retired`` tensors are old ones no op refers to any more: they become zero-element tensors
    (shape ``[0]``), which TFLM does not plan, instead of dead weight in the arena (TFLM plans an
    unreferenced tensor with lifetime [-1, -1]).
    """

    operators: tuple[int | NewOp, ...]
    tensors: tuple[NewTensor, ...] = ()
    retired: tuple[int, ...] = ()


def _u32(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from("<I", data, pos)[0]
    return value


def _field_targets(data: bytes, table: int) -> dict[int, int]:
    """Absolute positions of a table's offset fields by slot (scalars are read separately)."""
    vtable = table - struct.unpack_from("<i", data, table)[0]
    slots = (struct.unpack_from("<H", data, vtable)[0] - 4) // 2
    return {s: at for s in range(slots) if (at := struct.unpack_from("<H", data, vtable + 4 + 2 * s)[0])}


def _vector_start(data: bytes, table: int, field_at: int) -> int:
    return table + field_at + _u32(data, table + field_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Old:
    root: int
    root_fields: dict[int, int]
    opcodes: tuple[int, ...]
    opcode_keys: tuple[tuple[int, int], ...]  # (builtin code, version)
    buffers: tuple[int, ...]
    subgraphs: tuple[int, ...]
    tensors: tuple[int, ...]
    operators: tuple[int, ...]
    quantization: tuple[int | None, ...]
    subgraph_fields: dict[int, int]


def _read_old(data: bytes) -> _Old:
    import tflite

    model = tflite.Model.GetRootAs(data, 0)
    graph = model.Subgraphs(0)
    root = _u32(data, 0)
    opcodes, keys = [], []
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        opcodes.append(code._tab.Pos)
        builtin = max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))
        keys.append((builtin, int(code.Version())))
    quant = []
    for i in range(graph.TensorsLength()):
        q = graph.Tensors(i).Quantization()
        quant.append(None if q is None else q._tab.Pos)
    return _Old(
        root=root,
        root_fields=_field_targets(data, root),
        opcodes=tuple(opcodes),
        opcode_keys=tuple(keys),
        buffers=tuple(model.Buffers(i)._tab.Pos for i in range(model.BuffersLength())),
        subgraphs=tuple(model.Subgraphs(i)._tab.Pos for i in range(model.SubgraphsLength())),
        tensors=tuple(graph.Tensors(i)._tab.Pos for i in range(graph.TensorsLength())),
        operators=tuple(graph.Operators(i)._tab.Pos for i in range(graph.OperatorsLength())),
        quantization=tuple(quant),
        subgraph_fields=_field_targets(data, graph._tab.Pos),
    )


def rewrite_graph(
    model_bytes: bytes, rewrite: GraphRewrite, *, label: str = "model", model: Model | None = None
) -> bytes:
    """The model with subgraph 0's operators (and appended tensors) replaced as ``rewrite`` says.

    Parameters
    ----------
    model_bytes
        A .tflite flatbuffer.
    rewrite
        The new operator list; old operators by index, new ones as :class:`NewOp`.
    label
        The model's name for messages.
    model
        ``model_bytes`` already read, when the caller has it (a search rewriting one model many
        times saves reading it again for each).

    Raises
    ------
    ModelFormatError
        When ``model_bytes`` is not a readable model.
    RewriteError
        When the rewrite names a tensor that does not exist, an unknown builtin, or options this
        writer cannot build.

    Examples
    --------
    >>> from pathlib import Path
    >>> data = (Path(__file__).parents[2] / "models" / "kws_ds_cnn_int8.tflite").read_bytes()
    >>> m = read_model_bytes(data)
    >>> same = rewrite_graph(data, GraphRewrite(operators=tuple(range(len(m.subgraphs[0].operators)))))
    >>> [op.op_name for op in read_model_bytes(same).subgraphs[0].operators] == [
    ...     op.op_name for op in m.subgraphs[0].operators]
    True
    """
    data = bytes(model_bytes)
    model = model if model is not None else read_model_bytes(data, label)
    count = len(model.subgraphs[0].tensors) + len(rewrite.tensors)
    for op in rewrite.operators:
        if isinstance(op, int):
            if not 0 <= op < len(model.subgraphs[0].operators):
                raise RewriteError(f"{label}: rewrite keeps operator {op}, which does not exist")
        elif any(not -1 <= t < count or t in rewrite.retired for t in (*op.inputs, *op.outputs)):
            raise RewriteError(f"{label}: new {op.op_name} refers to a tensor outside 0..{count - 1}")
    try:
        old = _read_old(data)
    except _DECODE_ERRORS as error:
        raise ModelFormatError(f"{label}: corrupt model tables ({error})") from error
    return _build(data, old, rewrite, label)


def _int_vector(builder: Any, values: Sequence[int]) -> int:
    builder.StartVector(4, len(values), 4)
    for value in reversed(values):
        builder.PrependInt32(int(value))
    vector: int = builder.EndVector()
    return vector


def _options_table(builder: Any, op: NewOp, label: str) -> tuple[int, int]:
    import tflite

    if op.options_type is None:
        return 0, 0
    fields = _OPTION_FIELDS.get(op.options_type)
    if fields is None:
        raise RewriteError(f"{label}: cannot write {op.options_type} for a new {op.op_name}")
    builder.StartObject(len(fields))
    for slot, (name, kind, default) in enumerate(fields):
        value = int(op.options.get(name, default))
        if kind == "i":
            builder.PrependInt32Slot(slot, value, default)
        elif kind == "b":
            builder.PrependInt8Slot(slot, value, default)
        else:
            builder.PrependBoolSlot(slot, bool(value), bool(default))
    return int(getattr(tflite.BuiltinOptions, op.options_type)), int(builder.EndObject())


def _build(data: bytes, old: _Old, rewrite: GraphRewrite, label: str) -> bytes:
    import flatbuffers
    import tflite

    builder = flatbuffers.Builder(len(data) + 4096)
    builder.Prep(_DATA_ALIGNMENT, len(data))
    builder.head -= len(data)
    builder.Bytes[builder.head : builder.head + len(data)] = data
    base = builder.Offset()

    def old_ref(position: int) -> int:
        return int(base) - position

    buffer_tables = [old_ref(p) for p in old.buffers]
    tensor_tables = [old_ref(p) for p in old.tensors]
    for index in rewrite.retired:
        name = builder.CreateString(f"arena_retired_{index}")
        shape = _int_vector(builder, (0,))
        builder.StartObject(4)
        builder.PrependUOffsetTRelativeSlot(0, shape, 0)
        builder.PrependInt8Slot(1, 9, -1)  # INT8
        builder.PrependUint32Slot(2, 0, 0xFFFFFFFF)
        builder.PrependUOffsetTRelativeSlot(3, name, 0)
        tensor_tables[index] = builder.EndObject()
    for tensor in rewrite.tensors:
        buffer_index = 0
        if tensor.data is not None:
            builder.StartVector(1, len(tensor.data), _DATA_ALIGNMENT)
            builder.head -= len(tensor.data)
            builder.Bytes[builder.head : builder.head + len(tensor.data)] = tensor.data
            payload = builder.EndVector()
            builder.StartObject(3)
            builder.PrependUOffsetTRelativeSlot(0, payload, 0)
            buffer_index = len(buffer_tables)
            buffer_tables.append(builder.EndObject())
        name = builder.CreateString(tensor.name)
        shape = _int_vector(builder, tensor.shape)
        quant = None if tensor.quantization_of is None else old.quantization[tensor.quantization_of]
        builder.StartObject(5)
        builder.PrependUOffsetTRelativeSlot(0, shape, 0)
        builder.PrependInt8Slot(1, tensor.type_code, -1)  # force: the type is always written
        builder.PrependUint32Slot(2, buffer_index, 0xFFFFFFFF)
        builder.PrependUOffsetTRelativeSlot(3, name, 0)
        if quant is not None:
            builder.PrependUOffsetTRelativeSlot(4, old_ref(quant), 0)
        tensor_tables.append(builder.EndObject())
    opcode_tables = [old_ref(p) for p in old.opcodes]
    opcode_index = {key: i for i, key in reversed(list(enumerate(old.opcode_keys)))}
    op_tables = []
    for op in rewrite.operators:
        if isinstance(op, int):
            op_tables.append(old_ref(old.operators[op]))
            continue
        code = getattr(tflite.BuiltinOperator, op.op_name, None)
        if code is None:
            raise RewriteError(f"{label}: unknown builtin operator {op.op_name}")
        key = (int(code), op.version)
        if key not in opcode_index:
            builder.StartObject(4)
            builder.PrependInt8Slot(0, min(int(code), 127), 0)
            builder.PrependInt32Slot(2, op.version, 1)
            builder.PrependInt32Slot(3, int(code), 0)
            opcode_index[key] = len(opcode_tables)
            opcode_tables.append(builder.EndObject())
        options_type, options = _options_table(builder, op, label)
        inputs, outputs = _int_vector(builder, op.inputs), _int_vector(builder, op.outputs)
        builder.StartObject(5)
        builder.PrependUint32Slot(0, opcode_index[key], 0xFFFFFFFF)
        builder.PrependUOffsetTRelativeSlot(1, inputs, 0)
        builder.PrependUOffsetTRelativeSlot(2, outputs, 0)
        if options:
            builder.PrependUint8Slot(3, options_type, 0)
            builder.PrependUOffsetTRelativeSlot(4, options, 0)
        op_tables.append(builder.EndObject())
    vectors = {
        0: offset_vector(builder, tensor_tables),
        3: offset_vector(builder, op_tables),
    }
    graph0 = old.subgraphs[0]
    builder.StartObject(max(6, max(old.subgraph_fields, default=0) + 1))
    for slot, at in old.subgraph_fields.items():
        if slot in vectors:
            continue
        if slot in (1, 2, 4):  # inputs, outputs, name: offsets into the original
            builder.PrependUOffsetTRelativeSlot(slot, old_ref(_vector_start(data, graph0, at)), 0)
        elif slot == 5:  # debug_metadata_index: a scalar
            builder.PrependInt32Slot(slot, struct.unpack_from("<i", data, graph0 + at)[0], -1)
    for slot, vector in vectors.items():
        builder.PrependUOffsetTRelativeSlot(slot, vector, 0)
    new_graph = builder.EndObject()
    root_vectors = {
        _SLOT_OPCODES: offset_vector(builder, opcode_tables),
        _SLOT_SUBGRAPHS: offset_vector(builder, [new_graph, *(old_ref(p) for p in old.subgraphs[1:])]),
        _SLOT_BUFFERS: offset_vector(builder, buffer_tables),
    }
    builder.ForceDefaults(True)
    builder.StartObject(_MODEL_SLOTS)
    for slot, at in old.root_fields.items():
        if slot == _SLOT_VERSION:
            builder.PrependUint32Slot(slot, _u32(data, old.root + at), 0)
        elif slot not in root_vectors and slot < _MODEL_SLOTS:
            builder.PrependUOffsetTRelativeSlot(slot, old_ref(_vector_start(data, old.root, at)), 0)
    for slot, vector in root_vectors.items():
        builder.PrependUOffsetTRelativeSlot(slot, vector, 0)
    builder.Finish(builder.EndObject(), file_identifier=TFLITE_IDENTIFIER)
    out = bytes(builder.Output())
    read_model_bytes(out, label)  # the writer's own check: what it wrote reads back
    return out


def int32_bytes(values: Sequence[int]) -> bytes:
    """Little-endian int32 words, the layout of an int32 constant tensor's buffer.

    >>> int32_bytes([1, -1]).hex()
    '01000000ffffffff'
    """
    return struct.pack(f"<{len(values)}i", *values)


__all__ = ["GraphRewrite", "NewOp", "NewTensor", "RewriteError", "int32_bytes", "rewrite_graph"]
