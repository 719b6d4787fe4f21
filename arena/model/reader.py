"""Read a .tflite flatbuffer into arena's records; the only module that touches the schema.

The generated schema module comes from the ``tflite`` package (not vendored). Everything the
flatbuffers runtime can raise on a truncated or hostile file is translated here into one
``ModelFormatError`` naming the file and the table being read.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import re
import struct
from pathlib import Path
from typing import Any

from arena.errors import ModelFormatError
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
    skip = ("Init", "GetRootAs")
    pairs = []
    for attr, member in vars(options_class).items():
        if attr.startswith("_") or attr.startswith(skip) or not callable(member):
            continue
        if attr.endswith(("IsNone", "Length", "BufferHasIdentifier")):
            continue
        if len(inspect.signature(member).parameters) != 1:
            continue
        key = attr[: -len("AsNumpy")] if attr.endswith("AsNumpy") else attr
        pairs.append((attr, _snake(key)))
    return tuple(pairs)


def _read_options(table: Any, union_enum: str, type_code: int) -> tuple[str | None, dict[str, object]]:
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
            value = tuple(value.tolist())
        if isinstance(value, int | float | bool | bytes | tuple):
            values[key] = value
    return class_name, values


def _ints(array: Any) -> tuple[int, ...]:
    """A flatbuffers ``...AsNumpy()`` result (0 when the vector is absent) as a tuple."""
    return () if isinstance(array, int) else tuple(int(v) for v in array.tolist())


def _quantization(fb_tensor: Any) -> Quantization | None:
    params = fb_tensor.Quantization()
    if params is None or params.ScaleIsNone():
        return None
    scales = params.ScaleAsNumpy()
    zeros = params.ZeroPointAsNumpy()
    return Quantization(
        scale=() if isinstance(scales, int) else tuple(float(s) for s in scales.tolist()),
        zero_point=_ints(zeros),
        quantized_dimension=int(params.QuantizedDimension()),
    )


def _tensor(fb_model: Any, fb_tensor: Any, index: int, buffer_sizes: dict[int, bool]) -> Tensor:
    buffer_index = int(fb_tensor.Buffer())
    if buffer_index not in buffer_sizes:
        fb_buffer = fb_model.Buffers(buffer_index) if buffer_index < fb_model.BuffersLength() else None
        buffer_sizes[buffer_index] = fb_buffer is not None and fb_buffer.DataLength() > 0
    raw_name = fb_tensor.Name()
    return Tensor(
        index=index,
        name=raw_name.decode("utf-8", "replace") if raw_name else f"tensor_{index}",
        shape=_ints(fb_tensor.ShapeAsNumpy()),
        type_code=int(fb_tensor.Type()),
        buffer=buffer_index,
        has_data=buffer_sizes[buffer_index],
        is_variable=bool(fb_tensor.IsVariable()),
        quantization=_quantization(fb_tensor),
    )


def _operator(fb_op: Any, index: int, opcodes: list[tuple[int, str, str | None, int]]) -> Operator:
    opcode_index = int(fb_op.OpcodeIndex())
    if not 0 <= opcode_index < len(opcodes):
        raise IndexError(f"opcode index {opcode_index} out of range")
    builtin, op_name, custom, version = opcodes[opcode_index]
    options_type, options = _read_options(
        fb_op.BuiltinOptions(), "BuiltinOptions", int(fb_op.BuiltinOptionsType())
    )
    if options_type is None:
        options_type, options = _read_options(
            fb_op.BuiltinOptions2(), "BuiltinOptions2", int(fb_op.BuiltinOptions2Type())
        )
    custom_options = fb_op.CustomOptionsAsNumpy()
    return Operator(
        index=index,
        opcode_index=opcode_index,
        builtin_code=builtin,
        op_name=op_name,
        custom_code=custom,
        version=version,
        inputs=_ints(fb_op.InputsAsNumpy()),
        outputs=_ints(fb_op.OutputsAsNumpy()),
        intermediates=_ints(fb_op.IntermediatesAsNumpy()),
        options_type=options_type,
        options=options,
        custom_options=b"" if isinstance(custom_options, int) else custom_options.tobytes(),
    )


def _opcodes(fb_model: Any) -> list[tuple[int, str, str | None, int]]:
    """(builtin code, display name, custom code, version) per operator code.

    The builtin code is the larger of ``builtin_code`` and ``deprecated_builtin_code``, the
    schema's own rule for files written before and after codes passed 127.
    """
    names = _enum_names("BuiltinOperator")
    codes = []
    for i in range(fb_model.OperatorCodesLength()):
        fb_code = fb_model.OperatorCodes(i)
        builtin = max(int(fb_code.BuiltinCode()), int(fb_code.DeprecatedBuiltinCode()))
        custom = fb_code.CustomCode()
        custom_name = custom.decode("utf-8", "replace") if custom else None
        if builtin == CUSTOM_CODE:
            display = f"CUSTOM:{custom_name or '?'}"
        else:
            display = names.get(builtin, f"BUILTIN_{builtin}")
        codes.append((builtin, display, custom_name, int(fb_code.Version())))
    return codes


def _subgraph(fb_model: Any, index: int, opcodes: list[Any], buffer_sizes: dict[int, bool]) -> Subgraph:
    fb_subgraph = fb_model.Subgraphs(index)
    raw_name = fb_subgraph.Name()
    tensors = tuple(
        _tensor(fb_model, fb_subgraph.Tensors(t), t, buffer_sizes)
        for t in range(fb_subgraph.TensorsLength())
    )
    operators = tuple(
        _operator(fb_subgraph.Operators(o), o, opcodes) for o in range(fb_subgraph.OperatorsLength())
    )
    return Subgraph(
        index=index,
        name=raw_name.decode("utf-8", "replace") if raw_name else "",
        tensors=tensors,
        operators=operators,
        inputs=_ints(fb_subgraph.InputsAsNumpy()),
        outputs=_ints(fb_subgraph.OutputsAsNumpy()),
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
    stage = "model table"
    try:
        fb_model = _schema().Model.GetRootAs(data, 0)
        stage = "operator codes"
        opcodes = _opcodes(fb_model)
        buffer_sizes: dict[int, bool] = {}
        subgraphs = []
        for index in range(fb_model.SubgraphsLength()):
            stage = f"subgraph {index}"
            subgraphs.append(_subgraph(fb_model, index, opcodes, buffer_sizes))
        stage = "metadata"
        metadata = tuple(
            Metadata(
                name=(fb_model.Metadata(i).Name() or b"").decode("utf-8", "replace"),
                buffer=int(fb_model.Metadata(i).Buffer()),
            )
            for i in range(fb_model.MetadataLength())
        )
        description = (fb_model.Description() or b"").decode("utf-8", "replace")
        version = int(fb_model.Version())
        buffer_count = int(fb_model.BuffersLength())
    except _DECODE_ERRORS as error:
        raise ModelFormatError(
            f"{label}: corrupt or truncated TFLite model while reading {stage} ({error})"
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
        metadata=metadata,
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
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        raise ModelFormatError(f"{Path(path).name}: cannot read model file ({reason})") from error
    return read_model_bytes(data, str(path))


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
        raise ModelFormatError(
            f"{model.display_name}: cannot read buffer {buffer_index} ({error})"
        ) from error
