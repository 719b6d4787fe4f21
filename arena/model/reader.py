"""Read a .tflite flatbuffer into arena's records; the only module that touches the schema.

The generated schema module comes from the ``tflite`` package (not vendored). Everything the
flatbuffers runtime can raise on a truncated or hostile file is translated here into one
``ModelFormatError`` naming the file and the table being read.

A hostile file can make the generated accessors do unbounded work without ever reading past the
end: a vector length of 2^31 makes a loop run 2^31 times, and thousands of tables pointing at
the same large vector make every one of them decode it again. So every table vector is checked
to fit in the file before it is walked, and every vector and string decoded is charged to a
budget of about twice the file's size (the parts of a well-formed file do not overlap, so it
decodes to less than its own size), which bounds the reader's time and memory by the file's
size, whatever the offsets claim.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import re
import struct
from pathlib import Path
from typing import Any

from arena._io import read_bounded
from arena.errors import ModelFormatError, UnsupportedModelError
from arena.model.records import (
    Metadata,
    Model,
    Operator,
    Quantization,
    Subgraph,
    Tensor,
)

#: The flatbuffer file identifier of TFLite models (schema.fbs: ``file_identifier "TFL3"``).
TFLITE_IDENTIFIER = b"TFL3"
#: schema.fbs ``BuiltinOperator.CUSTOM``.
CUSTOM_CODE = 32
#: Exceptions the flatbuffers runtime raises when offsets or lengths point outside the file.
_DECODE_ERRORS = (struct.error, IndexError, ValueError, UnicodeDecodeError, TypeError, OverflowError)
#: Largest flatbuffer: its offsets are signed 32-bit (flatbuffers ``FLATBUFFERS_MAX_BUFFER_SIZE``).
MAX_MODEL_BYTES = 2**31 - 1
#: TFLM counts a tensor's elements in an ``int`` (``ElementCount``,
#: tensorflow/lite/micro/micro_utils.h), so a shape with more elements cannot be run.
MAX_TENSOR_ELEMENTS = 2**31 - 1
#: Most dims a tensor may have. TFLM's ``RuntimeShape`` holds at most 6
#: (tensorflow/lite/kernels/internal/runtime_shape.h, ``kMaxSmallSize``); anything far above is
#: hostile, and bounding it keeps the per-tensor work of every later stage small.
MAX_TENSOR_RANK = 64
#: Slack of the decode budget over twice the file size, for tiny files with shared vectors.
_BUDGET_SLACK_BYTES = 1 << 20
#: vtable slots (schema.fbs field order: slot = 4 + 2 * field id) of the strings read through
#: :meth:`_Decoder.string`, which checks their length against the file before copying.
_SLOT_MODEL_DESCRIPTION = 10
_SLOT_OPCODE_CUSTOM_CODE = 6
_SLOT_SUBGRAPH_NAME = 12
_SLOT_TENSOR_NAME = 10
_SLOT_METADATA_NAME = 4


class _Decoder:
    """Bounds-checked, budgeted reads of one file's vectors and strings; never escapes this module.

    Identical vectors shared by many tables (legal, and what ``models/generate.py`` writes) are
    decoded once and the tuple reused, but every read is still charged, so that the total work of
    the reader and of every stage after it stays proportional to the file's size.
    """

    def __init__(self, data: bytes, label: str) -> None:
        self.size = len(data)
        self.data = data
        self.label = label
        self.left = 2 * len(data) + _BUDGET_SLACK_BYTES
        self.cache: dict[tuple[int, str, int], tuple[Any, ...]] = {}
        self.place = "model table"

    def charge(self, nbytes: int, what: str) -> None:
        self.left -= nbytes
        if self.left < 0:
            raise ValueError(
                f"{what}: vectors and strings add up to more than twice the file's {self.size} bytes"
                " (tables share or overlap their data)"
            )

    def count(self, length: int, last: Any, what: str) -> int:
        """The length of a vector of tables, once its last entry is proven inside the file."""
        if length:
            if 4 * length > self.size:
                raise IndexError(f"{what}: {length} entries cannot fit in a {self.size}-byte file")
            self.charge(4 * length, what)
            last(length - 1)  # reads the entry's offset: struct.error past the end of the file
        return length

    def values(self, array: Any, what: str) -> tuple[Any, ...]:
        """A ``...AsNumpy()`` view (0 when the vector is absent) as a tuple of Python numbers."""
        if isinstance(array, int):
            return ()
        self.charge(array.nbytes, what)
        key = (array.__array_interface__["data"][0], array.dtype.str, len(array))
        cached = self.cache.get(key)
        if cached is None:
            cached = self.cache[key] = tuple(array.tolist())
        return cached

    def string(self, table: Any, slot: int, what: str) -> str:
        """The string field at vtable ``slot`` of ``table`` ("" when absent), printable."""
        tab = table._tab
        offset = tab.Offset(slot)
        if not offset:
            return ""
        start = tab.Indirect(tab.Pos + offset)
        length = int.from_bytes(self.data[start : start + 4], "little")
        if start + 4 > self.size or start + 4 + length > self.size:
            raise IndexError(f"{what}: string of {length} bytes at byte {start} runs past the end")
        self.charge(length, what)
        return _printable(bytes(self.data[start + 4 : start + 4 + length]).decode("utf-8", "replace"))


def _printable(text: str) -> str:
    """``text`` with control characters escaped: names end up in one-line messages and reports."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _schema() -> Any:
    import tflite

    return tflite


@functools.cache
def _enum_names(enum_class_name: str) -> dict[int, str]:
    enum_class = getattr(_schema(), enum_class_name)
    return {v: k for k, v in vars(enum_class).items() if not k.startswith("_")}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@functools.cache
def _option_accessors(class_name: str) -> tuple[tuple[str, str], ...]:
    """(accessor, key) pairs of an options table: scalars, and vectors via ``...AsNumpy``."""
    options_class = getattr(_schema(), class_name)
    pairs = []
    for attr, member in vars(options_class).items():
        # "Init" itself, not every name starting so: CallOnceOptions.InitSubgraphIndex is a field.
        if attr.startswith(("_", "GetRootAs")) or attr == "Init" or not callable(member):
            continue
        if attr.endswith(("IsNone", "Length", "BufferHasIdentifier")):
            continue
        if len(inspect.signature(member).parameters) != 1:
            continue
        key = attr[: -len("AsNumpy")] if attr.endswith("AsNumpy") else attr
        pairs.append((attr, _snake(key)))
    return tuple(pairs)


def _read_options(
    decoder: _Decoder, table: Any, union_enum: str, type_code: int
) -> tuple[str | None, dict[str, object]]:
    if type_code == 0 or table is None:
        return None, {}
    class_name = _enum_names(union_enum).get(type_code)
    if class_name is None or not hasattr(_schema(), class_name):
        return f"{union_enum}#{type_code}", {}
    options = getattr(_schema(), class_name)()
    options.Init(table.Bytes, table.Pos)
    values: dict[str, object] = {}
    for accessor, key in _option_accessors(class_name):
        value = getattr(options, accessor)()
        if hasattr(value, "tolist"):
            value = decoder.values(value, f"{class_name}.{key}")
        elif isinstance(value, bytes):
            decoder.charge(len(value), f"{class_name}.{key}")
        if isinstance(value, int | float | bool | bytes | tuple):
            values[key] = value
    return class_name, values


def _quantization(decoder: _Decoder, fb_tensor: Any) -> Quantization | None:
    params = fb_tensor.Quantization()
    if params is None or params.ScaleIsNone():
        return None
    return Quantization(
        scale=decoder.values(params.ScaleAsNumpy(), "quantization scale"),
        zero_point=decoder.values(params.ZeroPointAsNumpy(), "quantization zero point"),
        quantized_dimension=int(params.QuantizedDimension()),
    )


def _has_too_many_elements(shape: tuple[int, ...]) -> bool:
    """True when the dims multiply to more than TFLM's ``int`` holds (stops multiplying early)."""
    if 0 in shape:
        return False
    count = 1
    for dim in shape:
        count *= abs(dim)
        if count > MAX_TENSOR_ELEMENTS:
            return True
    return False


def _check_shape(decoder: _Decoder, subgraph: int, index: int, name: str, shape: tuple[int, ...]) -> None:
    problem = None
    if len(shape) > MAX_TENSOR_RANK:
        problem = f"{len(shape)} dims, more than the {MAX_TENSOR_RANK} arena accepts"
    elif _has_too_many_elements(shape):
        problem = f"more than {MAX_TENSOR_ELEMENTS:,} elements (TFLM counts elements in an int)"
    if problem is not None:
        shown = ", ".join(str(d) for d in shape[:8]) + (", ..." if len(shape) > 8 else "")
        raise UnsupportedModelError(
            f"{decoder.label}: subgraph {subgraph}, tensor {index} '{name[:60]}': shape [{shown}] has {problem}"
        )


def _tensor(
    decoder: _Decoder, fb_model: Any, fb_tensor: Any, subgraph: int, index: int, buffer_sizes: dict[int, bool]
) -> Tensor:
    buffer_index = int(fb_tensor.Buffer())
    if buffer_index not in buffer_sizes:
        fb_buffer = fb_model.Buffers(buffer_index) if buffer_index < fb_model.BuffersLength() else None
        buffer_sizes[buffer_index] = fb_buffer is not None and fb_buffer.DataLength() > 0
    name = decoder.string(fb_tensor, _SLOT_TENSOR_NAME, "tensor name") or f"tensor_{index}"
    shape = decoder.values(fb_tensor.ShapeAsNumpy(), "tensor shape")
    _check_shape(decoder, subgraph, index, name, shape)
    return Tensor(
        index=index,
        name=name,
        shape=shape,
        type_code=int(fb_tensor.Type()),
        buffer=buffer_index,
        has_data=buffer_sizes[buffer_index],
        is_variable=bool(fb_tensor.IsVariable()),
        quantization=_quantization(decoder, fb_tensor),
    )


def _operator(decoder: _Decoder, fb_op: Any, index: int, opcodes: list[tuple[int, str, str | None, int]]) -> Operator:
    opcode_index = int(fb_op.OpcodeIndex())
    if not 0 <= opcode_index < len(opcodes):
        raise IndexError(f"opcode index {opcode_index} out of range ({len(opcodes)} operator codes)")
    builtin, op_name, custom, version = opcodes[opcode_index]
    options_type, options = _read_options(
        decoder, fb_op.BuiltinOptions(), "BuiltinOptions", int(fb_op.BuiltinOptionsType())
    )
    if options_type is None:
        options_type, options = _read_options(
            decoder, fb_op.BuiltinOptions2(), "BuiltinOptions2", int(fb_op.BuiltinOptions2Type())
        )
    custom_options = fb_op.CustomOptionsAsNumpy()
    if not isinstance(custom_options, int):
        decoder.charge(custom_options.nbytes, "custom options")
    return Operator(
        index=index,
        opcode_index=opcode_index,
        builtin_code=builtin,
        op_name=op_name,
        custom_code=custom,
        version=version,
        inputs=decoder.values(fb_op.InputsAsNumpy(), "op inputs"),
        outputs=decoder.values(fb_op.OutputsAsNumpy(), "op outputs"),
        intermediates=decoder.values(fb_op.IntermediatesAsNumpy(), "op intermediates"),
        options_type=options_type,
        options=options,
        custom_options=b"" if isinstance(custom_options, int) else custom_options.tobytes(),
    )


def _opcodes(decoder: _Decoder, fb_model: Any) -> list[tuple[int, str, str | None, int]]:
    """(builtin code, display name, custom code, version) per operator code.

    The builtin code is the larger of ``builtin_code`` and ``deprecated_builtin_code``, the
    schema's own rule for files written before and after codes passed 127.
    """
    names = _enum_names("BuiltinOperator")
    codes = []
    count = decoder.count(fb_model.OperatorCodesLength(), fb_model.OperatorCodes, "operator codes")
    for i in range(count):
        decoder.place = f"operator code {i}"
        fb_code = fb_model.OperatorCodes(i)
        builtin = max(int(fb_code.BuiltinCode()), int(fb_code.DeprecatedBuiltinCode()))
        custom_name = decoder.string(fb_code, _SLOT_OPCODE_CUSTOM_CODE, "custom code") or None
        if builtin == CUSTOM_CODE:
            display = f"CUSTOM:{custom_name or '?'}"
        else:
            display = names.get(builtin, f"BUILTIN_{builtin}")
        codes.append((builtin, display, custom_name, int(fb_code.Version())))
    return codes


def _subgraph(
    decoder: _Decoder, fb_model: Any, index: int, opcodes: list[Any], buffer_sizes: dict[int, bool]
) -> Subgraph:
    fb_subgraph = fb_model.Subgraphs(index)
    where = f"subgraph {index}"
    tensors = []
    decoder.place = f"{where} tensors"
    for t in range(decoder.count(fb_subgraph.TensorsLength(), fb_subgraph.Tensors, f"{where} tensors")):
        decoder.place = f"{where}, tensor {t}"
        tensors.append(_tensor(decoder, fb_model, fb_subgraph.Tensors(t), index, t, buffer_sizes))
    operators = []
    decoder.place = f"{where} operators"
    for o in range(decoder.count(fb_subgraph.OperatorsLength(), fb_subgraph.Operators, f"{where} operators")):
        decoder.place = f"{where}, op {o}"
        operators.append(_operator(decoder, fb_subgraph.Operators(o), o, opcodes))
    decoder.place = where
    return Subgraph(
        index=index,
        name=decoder.string(fb_subgraph, _SLOT_SUBGRAPH_NAME, "subgraph name"),
        tensors=tuple(tensors),
        operators=tuple(operators),
        inputs=decoder.values(fb_subgraph.InputsAsNumpy(), "subgraph inputs"),
        outputs=decoder.values(fb_subgraph.OutputsAsNumpy(), "subgraph outputs"),
    )


def _check_header(data: bytes, label: str) -> None:
    if len(data) < 8:
        raise ModelFormatError(f"{label}: not a TFLite model ({len(data)} bytes is too short)")
    identifier = data[4:8]
    if identifier != TFLITE_IDENTIFIER:
        raise ModelFormatError(
            f"{label}: not a TFLite model (file identifier {identifier!r}, expected {TFLITE_IDENTIFIER!r})"
        )
    root = int.from_bytes(data[0:4], "little")
    if root + 4 > len(data):
        raise ModelFormatError(
            f"{label}: truncated TFLite model (root table at byte {root}, file has {len(data)} bytes)"
        )


def read_model_bytes(data: bytes, path: str = "<bytes>") -> Model:
    """Parse TFLite flatbuffer ``data``; ``path`` is only used to name the model in messages.

    Raises
    ------
    ModelFormatError
        When the bytes are not a TFLite flatbuffer or any table points outside them.
    """
    label = Path(path).name
    _check_header(data, label)
    decoder = _Decoder(data, label)
    try:
        fb_model = _schema().Model.GetRootAs(data, 0)
        decoder.place = "buffers"
        buffer_count = decoder.count(fb_model.BuffersLength(), fb_model.Buffers, "buffers")
        decoder.place = "operator codes"
        opcodes = _opcodes(decoder, fb_model)
        buffer_sizes: dict[int, bool] = {}
        subgraphs = []
        decoder.place = "subgraphs"
        for index in range(decoder.count(fb_model.SubgraphsLength(), fb_model.Subgraphs, "subgraphs")):
            decoder.place = f"subgraph {index}"
            subgraphs.append(_subgraph(decoder, fb_model, index, opcodes, buffer_sizes))
        decoder.place = "metadata"
        metadata = []
        for i in range(decoder.count(fb_model.MetadataLength(), fb_model.Metadata, "metadata")):
            decoder.place = f"metadata {i}"
            entry = fb_model.Metadata(i)
            name = decoder.string(entry, _SLOT_METADATA_NAME, "metadata name")
            metadata.append(Metadata(name=name, buffer=int(entry.Buffer())))
        decoder.place = "model table"
        description = decoder.string(fb_model, _SLOT_MODEL_DESCRIPTION, "description")
        version = int(fb_model.Version())
    except _DECODE_ERRORS as error:
        raise ModelFormatError(
            f"{label}: corrupt or truncated TFLite model while reading {decoder.place} ({error})"
        ) from error
    if not subgraphs:
        raise ModelFormatError(f"{label}: TFLite model has no subgraphs")
    return Model(
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        version=version,
        description=description,
        subgraphs=tuple(subgraphs),
        metadata=tuple(metadata),
        buffer_count=buffer_count,
        data=data,
    )


def read_model(path: str | Path) -> Model:
    """Read and parse the .tflite file at ``path``.

    Raises
    ------
    ModelFormatError
        When the file cannot be read or is not a valid TFLite flatbuffer.
    """
    label = Path(path).name
    try:
        data = _read_file(Path(path), label)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ModelFormatError(f"{label}: cannot read model file ({reason})") from error
    return read_model_bytes(data, str(path))


def _read_file(path: Path, label: str) -> bytes:
    """The file's bytes, refusing devices and files past what a flatbuffer can hold."""
    return read_bounded(path, MAX_MODEL_BYTES, label, ModelFormatError)


def buffer_bytes(model: Model, buffer_index: int) -> memoryview:
    """The bytes of model buffer ``buffer_index``, as a view into the file (no copy).

    Raises
    ------
    ModelFormatError
        When the buffer index or its data vector lies outside the file.
    """
    try:
        fb_model = _schema().Model.GetRootAs(model.data, 0)
        if not 0 <= buffer_index < fb_model.BuffersLength():
            raise IndexError(f"buffer {buffer_index} of {fb_model.BuffersLength()}")
        fb_buffer = fb_model.Buffers(buffer_index)
        length = int(fb_buffer.DataLength())
        if length == 0:
            return memoryview(b"")
        start = fb_buffer._tab.Vector(fb_buffer._tab.Offset(4))
        if start + length > len(model.data):
            raise IndexError(f"data [{start}, {start + length}) past end of file")
        return memoryview(model.data)[start : start + length]
    except _DECODE_ERRORS as error:
        raise ModelFormatError(f"{model.display_name}: cannot read buffer {buffer_index} ({error})") from error
