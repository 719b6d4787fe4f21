"""Where the fields of a .tflite file are: byte positions found through the flatbuffers vtables.

The fuzzer mutates fields, not just bytes, so it needs to know that bytes 812..815 are the
length of subgraph 0's tensor vector and byte 1040 is the second dim of tensor 7's shape. This
module walks a model with the ``tflite`` package's generated accessors and records, for every
table it reaches, the table's vtable offset, its vtable entries, and each field it knows:
scalars (tensor type, buffer index, opcode index, options fields...), references (the uoffset
of a vector, string or sub-table), vector lengths and vector elements (shape dims, tensor
indices of op and graph inputs and outputs), plus the words of an ``OfflineMemoryAllocation``
metadata buffer.

A field's vtable slot is ``4 + 2 * field id`` (flatbuffers' layout); the slots of the core tables
are listed below from tensorflow/lite/schema/schema.fbs, and those of the options tables are read
from the generated accessors' source, so every options table is covered without a list.
"""

from __future__ import annotations

import functools
import inspect
import re
import struct
from dataclasses import dataclass
from typing import Any

import tflite

#: struct formats of the generated ``...Flags`` scalar types.
SCALAR_FORMATS = {
    "Bool": "<B",
    "Int8": "<b",
    "Uint8": "<B",
    "Int16": "<h",
    "Uint16": "<H",
    "Int32": "<i",
    "Uint32": "<I",
    "Int64": "<q",
    "Uint64": "<Q",
    "Float32": "<f",
    "Float64": "<d",
}

#: Field slots of the core tables (schema.fbs field order: slot = 4 + 2 * id).
MODEL_SLOTS = {"version": 4, "operator_codes": 6, "subgraphs": 8, "description": 10, "buffers": 12, "metadata": 16}
SUBGRAPH_SLOTS = {"tensors": 4, "inputs": 6, "outputs": 8, "operators": 10, "name": 12}
TENSOR_SLOTS = {
    "shape": 4,
    "type": 6,
    "buffer": 8,
    "name": 10,
    "quantization": 12,
    "is_variable": 14,
    "shape_signature": 18,
}
QUANT_SLOTS = {"scale": 8, "zero_point": 10, "quantized_dimension": 16}
OPERATOR_SLOTS = {
    "opcode_index": 4,
    "inputs": 6,
    "outputs": 8,
    "builtin_options_type": 10,
    "builtin_options": 12,
    "custom_options": 14,
    "intermediates": 20,
}
OPCODE_SLOTS = {"deprecated_builtin_code": 4, "custom_code": 6, "version": 8, "builtin_code": 10}
BUFFER_SLOTS = {"data": 4}
METADATA_SLOTS = {"name": 4, "buffer": 6}

_SCALAR_ACCESSOR = re.compile(
    r"def (\w+)\(self\):\n\s+o = flatbuffers\.number_types\.UOffsetTFlags\.py_type\(self\._tab\.Offset\((\d+)\)\)"
    r"\n\s+if o != 0:\n\s+return (?:bool\()?self\._tab\.Get\(flatbuffers\.number_types\.(\w+)Flags"
)


@dataclass(frozen=True, slots=True)
class Field:
    """One field's bytes: ``role`` says what they mean, ``where`` names the place for reports.

    ``extent`` is role-specific context: the element size for a vector length, the number of
    tensors for a tensor index, the vector's element count for a reference.
    """

    role: str
    where: str
    pos: int
    fmt: str
    extent: int = 0


@functools.cache
def option_scalars(class_name: str) -> tuple[tuple[str, int, str], ...]:
    """(accessor, slot, struct format) of every scalar field of a generated table class."""
    source = inspect.getsource(getattr(tflite, class_name))
    return tuple(
        (name, int(slot), SCALAR_FORMATS[flags])
        for name, slot, flags in _SCALAR_ACCESSOR.findall(source)
        if flags in SCALAR_FORMATS
    )


@functools.cache
def _options_class_names() -> dict[int, str]:
    return {v: k for k, v in vars(tflite.BuiltinOptions).items() if not k.startswith("_")}


class _Walker:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.fields: list[Field] = []
        self.seen_tables: set[int] = set()

    def u32(self, pos: int) -> int:
        return int(struct.unpack_from("<I", self.data, pos)[0])

    def add(self, role: str, where: str, pos: int, fmt: str, extent: int = 0) -> None:
        if 0 <= pos and pos + struct.calcsize(fmt) <= len(self.data):
            self.fields.append(Field(role, where, pos, fmt, extent))

    def table(self, tab: Any, where: str) -> None:
        """The table's vtable offset and vtable entries (once per table position)."""
        if tab.Pos in self.seen_tables:
            return
        self.seen_tables.add(tab.Pos)
        self.add("soffset", f"{where} vtable offset", tab.Pos, "<i")
        vtable = tab.Pos - struct.unpack_from("<i", self.data, tab.Pos)[0]
        size = struct.unpack_from("<H", self.data, vtable)[0]
        self.add("vtable_size", f"{where} vtable size", vtable, "<H")
        self.add("vtable_object_size", f"{where} object size", vtable + 2, "<H")
        for slot in range(4, size, 2):
            self.add("vtable_entry", f"{where} vtable slot {slot}", vtable + slot, "<H")

    def slot(self, tab: Any, slot: int) -> int | None:
        offset = tab.Offset(slot)
        return tab.Pos + offset if offset else None

    def scalar(self, tab: Any, slot: int, role: str, where: str, fmt: str, extent: int = 0) -> None:
        pos = self.slot(tab, slot)
        if pos is not None:
            self.add(role, where, pos, fmt, extent)

    def reference(self, tab: Any, slot: int, where: str) -> int | None:
        """Record the uoffset at ``slot``; return the position it points to."""
        pos = self.slot(tab, slot)
        if pos is None:
            return None
        self.add("uoffset", f"{where} reference", pos, "<I")
        return pos + self.u32(pos)

    def vector(
        self, tab: Any, slot: int, where: str, element_fmt: str, element_role: str | None, extent: int = 0
    ) -> int:
        """Record a vector's reference, length and (if ``element_role``) its elements; return n."""
        start = self.reference(tab, slot, where)
        if start is None:
            return 0
        count = self.u32(start)
        width = struct.calcsize(element_fmt)
        self.add("vector_length", f"{where} length", start, "<I", width)
        if element_role is not None:
            for index in range(count):
                self.add(element_role, f"{where}[{index}]", start + 4 + index * width, element_fmt, extent)
        return count

    def string(self, tab: Any, slot: int, where: str) -> None:
        start = self.reference(tab, slot, where)
        if start is not None:
            self.add("string_length", f"{where} length", start, "<I", 1)


def locate_fields(data: bytes) -> list[Field]:
    """Every field of the model in ``data`` that the walk reaches, in file-walk order.

    Raises whatever the generated accessors raise on a file they cannot walk (use it on
    well-formed models, before mutating them).
    """
    w = _Walker(data)
    w.add("root", "root table offset", 0, "<I")
    model = tflite.Model.GetRootAs(data, 0)
    w.table(model._tab, "model")
    w.scalar(model._tab, MODEL_SLOTS["version"], "scalar", "model version", "<I")
    w.string(model._tab, MODEL_SLOTS["description"], "model description")
    _walk_opcodes(w, model)
    _walk_buffers(w, model)
    w.vector(model._tab, MODEL_SLOTS["subgraphs"], "subgraphs", "<I", None)
    for s in range(model.SubgraphsLength()):
        _walk_subgraph(w, model.Subgraphs(s), s, model.OperatorCodesLength())
    _walk_metadata(w, model)
    return w.fields


def _walk_opcodes(w: _Walker, model: Any) -> None:
    w.vector(model._tab, MODEL_SLOTS["operator_codes"], "operator codes", "<I", None)
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        where = f"operator code {i}"
        w.table(code._tab, where)
        w.scalar(code._tab, OPCODE_SLOTS["deprecated_builtin_code"], "builtin_code", f"{where} deprecated code", "<b")
        w.scalar(code._tab, OPCODE_SLOTS["builtin_code"], "builtin_code", f"{where} builtin code", "<i")
        w.scalar(code._tab, OPCODE_SLOTS["version"], "scalar", f"{where} version", "<i")
        w.string(code._tab, OPCODE_SLOTS["custom_code"], f"{where} custom code")


def _walk_buffers(w: _Walker, model: Any) -> None:
    w.vector(model._tab, MODEL_SLOTS["buffers"], "buffers", "<I", None)
    for b in range(model.BuffersLength()):
        buffer = model.Buffers(b)
        w.table(buffer._tab, f"buffer {b}")
        w.vector(buffer._tab, BUFFER_SLOTS["data"], f"buffer {b} data", "<B", None)


def _walk_subgraph(w: _Walker, graph: Any, s: int, opcode_count: int) -> None:
    where = f"subgraph {s}"
    w.table(graph._tab, where)
    tensors = graph.TensorsLength()
    w.vector(graph._tab, SUBGRAPH_SLOTS["tensors"], f"{where} tensors", "<I", None)
    w.vector(graph._tab, SUBGRAPH_SLOTS["inputs"], f"{where} inputs", "<i", "tensor_index", tensors)
    w.vector(graph._tab, SUBGRAPH_SLOTS["outputs"], f"{where} outputs", "<i", "tensor_index", tensors)
    w.vector(graph._tab, SUBGRAPH_SLOTS["operators"], f"{where} operators", "<I", None)
    w.string(graph._tab, SUBGRAPH_SLOTS["name"], f"{where} name")
    for t in range(tensors):
        _walk_tensor(w, graph.Tensors(t), f"{where} tensor {t}")
    for o in range(graph.OperatorsLength()):
        _walk_operator(w, graph.Operators(o), f"{where} op {o}", tensors, opcode_count)


def _walk_tensor(w: _Walker, tensor: Any, where: str) -> None:
    w.table(tensor._tab, where)
    w.vector(tensor._tab, TENSOR_SLOTS["shape"], f"{where} shape", "<i", "shape_dim")
    w.vector(tensor._tab, TENSOR_SLOTS["shape_signature"], f"{where} shape signature", "<i", "shape_dim")
    w.scalar(tensor._tab, TENSOR_SLOTS["type"], "tensor_type", f"{where} type", "<b")
    w.scalar(tensor._tab, TENSOR_SLOTS["buffer"], "buffer_index", f"{where} buffer", "<I")
    w.scalar(tensor._tab, TENSOR_SLOTS["is_variable"], "flag", f"{where} is_variable", "<B")
    w.string(tensor._tab, TENSOR_SLOTS["name"], f"{where} name")
    quant = tensor.Quantization()
    if quant is not None:
        w.reference(tensor._tab, TENSOR_SLOTS["quantization"], f"{where} quantization")
        w.table(quant._tab, f"{where} quantization")
        w.vector(quant._tab, QUANT_SLOTS["scale"], f"{where} scale", "<f", "float")
        w.vector(quant._tab, QUANT_SLOTS["zero_point"], f"{where} zero point", "<q", None)
        w.scalar(quant._tab, QUANT_SLOTS["quantized_dimension"], "axis", f"{where} quantized dimension", "<i")


def _walk_operator(w: _Walker, op: Any, where: str, tensors: int, opcode_count: int) -> None:
    w.table(op._tab, where)
    w.scalar(op._tab, OPERATOR_SLOTS["opcode_index"], "opcode_index", f"{where} opcode index", "<I", opcode_count)
    w.vector(op._tab, OPERATOR_SLOTS["inputs"], f"{where} inputs", "<i", "tensor_index", tensors)
    w.vector(op._tab, OPERATOR_SLOTS["outputs"], f"{where} outputs", "<i", "tensor_index", tensors)
    w.vector(op._tab, OPERATOR_SLOTS["intermediates"], f"{where} intermediates", "<i", "tensor_index", tensors)
    w.vector(op._tab, OPERATOR_SLOTS["custom_options"], f"{where} custom options", "<B", None)
    w.scalar(op._tab, OPERATOR_SLOTS["builtin_options_type"], "options_type", f"{where} options type", "<B")
    class_name = _options_class_names().get(op.BuiltinOptionsType())
    table = op.BuiltinOptions()
    if class_name is None or table is None:
        return
    w.reference(op._tab, OPERATOR_SLOTS["builtin_options"], f"{where} options")
    w.table(table, f"{where} {class_name}")
    for name, slot, fmt in option_scalars(class_name):
        w.scalar(table, slot, "option", f"{where} {class_name}.{name}", fmt)


def _walk_metadata(w: _Walker, model: Any) -> None:
    w.vector(model._tab, MODEL_SLOTS["metadata"], "metadata", "<I", None)
    for m in range(model.MetadataLength()):
        entry = model.Metadata(m)
        where = f"metadata {m}"
        w.table(entry._tab, where)
        w.string(entry._tab, METADATA_SLOTS["name"], f"{where} name")
        w.scalar(entry._tab, METADATA_SLOTS["buffer"], "buffer_index", f"{where} buffer", "<I")
        if entry.Name() != b"OfflineMemoryAllocation" or entry.Buffer() >= model.BuffersLength():
            continue
        buffer = model.Buffers(entry.Buffer())
        offset = buffer._tab.Offset(BUFFER_SLOTS["data"])
        if not offset:
            continue
        start = buffer._tab.Vector(offset)
        names = ("version", "subgraph count", "offset count")
        for k in range(buffer.DataLength() // 4):
            label = names[k] if k < 3 else f"offset {k - 3}"
            w.add("offline_word", f"{where} OfflineMemoryAllocation {label}", start + 4 * k, "<i", k)
