"""arena's own frozen view of a .tflite model: what planning, costing and export need.

The records hold sizes, shapes, types and graph structure, never weight bytes: a constant
tensor only says that it has data. The raw file stays available as a read-only memoryview on the
``Model`` for the few consumers that need buffer contents (metadata, export).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

# Schema ``TensorType`` code -> (name, bytes per element as TFLM counts them; None = TFLM cannot
# size it). From tensorflow/lite/schema/schema.fbs and TfLiteTypeSizeOf in
# tensorflow/lite/micro/memory_helpers.cc (int4 is stored one element per byte in the arena).
TENSOR_TYPES: dict[int, tuple[str, int | None]] = {
    0: ("float32", 4),
    1: ("float16", 2),
    2: ("int32", 4),
    3: ("uint8", 1),
    4: ("int64", 8),
    5: ("string", None),
    6: ("bool", 1),
    7: ("int16", 2),
    8: ("complex64", 8),
    9: ("int8", 1),
    10: ("float64", 8),
    11: ("complex128", 16),
    12: ("uint64", 8),
    13: ("resource", 4),
    14: ("variant", None),
    15: ("uint32", 4),
    16: ("uint16", 2),
    17: ("int4", 1),
    18: ("bfloat16", 2),
}


def tensor_type_name(code: int) -> str:
    """The schema's name for a tensor type code, or ``type<N>`` for codes it does not define."""
    return TENSOR_TYPES.get(code, (f"type{code}", None))[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class Quantization:
    """Affine quantization parameters (per tensor, or per channel along ``quantized_dimension``)."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    quantized_dimension: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Tensor:
    """A tensor of one subgraph; ``has_data`` marks a constant whose bytes live in the model."""

    index: int
    name: str
    shape: tuple[int, ...]
    type_code: int
    buffer: int
    has_data: bool
    is_variable: bool
    quantization: Quantization | None = None

    @property
    def type_name(self) -> str:
        """Lower-case schema type name, e.g. ``int8``."""
        return tensor_type_name(self.type_code)

    @property
    def element_count(self) -> int:
        """Number of elements; a tensor with no shape is a scalar (one element), as in TFLM.

        A zero dim short-cuts the product, so a long shape of huge dims ending in 0 costs nothing.
        """
        return 0 if 0 in self.shape else math.prod(self.shape)

    @property
    def byte_size(self) -> int | None:
        """Bytes TFLM reserves for it (elements x type size), None when TFLM cannot size the type.

        Examples
        --------
        >>> Tensor(index=0, name="x", shape=(1, 49, 10, 1), type_code=9, buffer=0,
        ...        has_data=False, is_variable=False).byte_size
        490
        """
        item = TENSOR_TYPES.get(self.type_code, ("", None))[1]
        return None if item is None else self.element_count * item


@dataclass(frozen=True, slots=True, kw_only=True)
class Operator:
    """One node: its op (``op_name`` is the builtin name or ``CUSTOM:<code>``) and tensor indices.

    ``inputs`` may contain -1 for an omitted optional input. ``options`` holds the builtin
    options table as snake_case scalars and tuples; ``custom_options`` the raw bytes of a custom
    op's options (a flexbuffer for TFLM's signal ops).
    """

    index: int
    opcode_index: int
    builtin_code: int
    op_name: str
    custom_code: str | None
    version: int
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    intermediates: tuple[int, ...] = ()
    options_type: str | None = None
    options: Mapping[str, object] = field(default_factory=dict)
    custom_options: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class Subgraph:
    """Tensors and operators in execution order, with the graph's input and output tensors."""

    index: int
    name: str
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Metadata:
    """A named metadata entry pointing at a model buffer (e.g. ``OfflineMemoryAllocation``)."""

    name: str
    buffer: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Model:
    """A loaded .tflite file. ``data`` is the file's bytes, shared, never copied per tensor."""

    path: str
    sha256: str
    size_bytes: int
    version: int
    description: str
    subgraphs: tuple[Subgraph, ...]
    metadata: tuple[Metadata, ...]
    buffer_count: int
    data: bytes = field(repr=False, compare=False)

    @property
    def display_name(self) -> str:
        """The file name, used to start every message about this model."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def tensor_count(self) -> int:
        """Tensors over all subgraphs (the length TFLM expects of an offline plan)."""
        return sum(len(s.tensors) for s in self.subgraphs)

    @property
    def operator_count(self) -> int:
        """Operators over all subgraphs."""
        return sum(len(s.operators) for s in self.subgraphs)

    def metadata_named(self, name: str) -> Metadata | None:
        """The first metadata entry with exactly this name (TFLM's own matching rule)."""
        return next((m for m in self.metadata if m.name == name), None)
