"""Hostile models built from scratch: damage a byte mutation of a real model rarely reaches.

Deep and exponential subgraph call graphs, 2^40-element tensors, a rank of 100,000, broken
``OfflineMemoryAllocation`` metadata, thousands of tables sharing one large vector, names with
control characters. Each case is a small, valid flatbuffer whose *content* is hostile; the
builder writes it with the ``tflite`` package's generated builder functions.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import flatbuffers
import numpy as np
import tflite

from fuzz_layout import locate_fields

_OP = tflite.BuiltinOperator
_OPTIONS = tflite.BuiltinOptions


@dataclass
class T:
    """A tensor: int8 activation unless told otherwise; ``buffer`` > 0 points at data."""

    shape: Sequence[int]
    type_code: int = 9
    buffer: int = 0
    name: str = "t"
    variable: bool = False
    scale: Sequence[float] = ()


@dataclass
class Op:
    """An operator: index into the model's codes, tensor indices, optional options table."""

    code: int
    inputs: Sequence[int]
    outputs: Sequence[int]
    options: tuple[str, dict[str, int]] | None = None
    intermediates: Sequence[int] = ()
    custom_options: bytes = b""


@dataclass
class G:
    tensors: list[T]
    ops: list[Op] = field(default_factory=list)
    inputs: Sequence[int] = ()
    outputs: Sequence[int] = ()


def _table(b: flatbuffers.Builder, name: str, **fields: object) -> int:
    getattr(tflite, f"{name}Start")(b)
    for key, value in fields.items():
        if value is not None:
            getattr(tflite, f"{name}Add{key}")(b, value)
    return int(getattr(tflite, f"{name}End")(b))


def _ints(b: flatbuffers.Builder, values: Sequence[int]) -> int:
    return int(b.CreateNumpyVector(np.asarray(values, np.int32)))


def _tables(b: flatbuffers.Builder, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        b.PrependUOffsetTRelative(offset)
    return int(b.EndVector())


def _opcode(b: flatbuffers.Builder, code: int | str) -> int:
    """A builtin code, or a custom op's name."""
    if isinstance(code, str):
        return _table(
            b,
            "OperatorCode",
            DeprecatedBuiltinCode=_OP.CUSTOM,
            BuiltinCode=_OP.CUSTOM,
            CustomCode=b.CreateString(code),
            Version=1,
        )
    return _table(b, "OperatorCode", DeprecatedBuiltinCode=min(code, 127), BuiltinCode=code, Version=1)


def build(
    graphs: list[G],
    codes: Sequence[int | str],
    *,
    buffers: Sequence[bytes] = (),
    metadata: Sequence[tuple[str, int]] = (),
    shared_name: str | None = None,
) -> bytes:
    """A .tflite file: buffer 0 empty, then ``buffers``; ``metadata`` (name, buffer index) pairs."""
    b = flatbuffers.Builder(1 << 16)
    data = [_table(b, "Buffer", Data=b.CreateByteVector(raw) if raw else None) for raw in (b"", *buffers)]
    shared = b.CreateString(shared_name) if shared_name is not None else None
    subgraphs = []
    for graph in graphs:
        tensors = []
        for t in graph.tensors:
            quant = None
            if t.scale:
                scale = b.CreateNumpyVector(np.asarray(t.scale, np.float32))
                quant = _table(
                    b,
                    "QuantizationParameters",
                    Scale=scale,
                    ZeroPoint=b.CreateNumpyVector(np.zeros(len(t.scale), np.int64)),
                )
            tensors.append(
                _table(
                    b,
                    "Tensor",
                    Shape=_ints(b, t.shape),
                    Type=t.type_code,
                    Buffer=t.buffer,
                    Name=shared if shared is not None else b.CreateString(t.name),
                    IsVariable=t.variable,
                    Quantization=quant,
                )
            )
        ops = []
        for op in graph.ops:
            options_type, options = 0, None
            if op.options is not None:
                options_type = getattr(_OPTIONS, op.options[0])
                options = _table(b, op.options[0], **op.options[1])
            ops.append(
                _table(
                    b,
                    "Operator",
                    OpcodeIndex=op.code,
                    Inputs=_ints(b, op.inputs),
                    Outputs=_ints(b, op.outputs),
                    Intermediates=_ints(b, op.intermediates),
                    BuiltinOptionsType=options_type,
                    BuiltinOptions=options,
                    CustomOptions=b.CreateByteVector(op.custom_options) if op.custom_options else None,
                )
            )
        subgraphs.append(
            _table(
                b,
                "SubGraph",
                Tensors=_tables(b, tensors),
                Operators=_tables(b, ops),
                Inputs=_ints(b, graph.inputs),
                Outputs=_ints(b, graph.outputs),
            )
        )
    opcodes = [_opcode(b, code) for code in codes]
    entries = [_table(b, "Metadata", Name=b.CreateString(name), Buffer=index) for name, index in metadata]
    model = _table(
        b,
        "Model",
        Version=3,
        OperatorCodes=_tables(b, opcodes),
        Subgraphs=_tables(b, subgraphs),
        Buffers=_tables(b, data),
        Metadata=_tables(b, entries) if entries else None,
    )
    b.Finish(model, file_identifier=b"TFL3")
    return bytes(b.Output())


def _chain(length: int = 3, shape: Sequence[int] = (1, 16)) -> G:
    """``length`` RELU ops in a row over int8 tensors (code 0 must be RELU)."""
    tensors = [T(shape, name=f"x{i}") for i in range(length + 1)]
    ops = [Op(0, [i], [i + 1]) for i in range(length)]
    return G(tensors, ops, inputs=[0], outputs=[length])


def _offline(words: Sequence[int], tensors: int = 4) -> bytes:
    return build(
        [_chain(tensors - 1)],
        [_OP.RELU],
        buffers=[struct.pack(f"<{len(words)}i", *words)],
        metadata=[("OfflineMemoryAllocation", 1)],
    )


def _calls(subgraphs: int, calls_per_level: int, option: str = "CallOnceOptions") -> bytes:
    """Subgraph i calls subgraph i + 1 ``calls_per_level`` times; the last is a plain RELU chain."""
    graphs = []
    for level in range(subgraphs - 1):
        if option == "IfOptions":
            fields = {"ThenSubgraphIndex": level + 1, "ElseSubgraphIndex": level + 1}
            ops = [Op(1, [0], [], (option, fields)) for _ in range(calls_per_level)]
            graphs.append(G([T((1,), type_code=6, name="cond")], ops, inputs=[0]))
        else:
            ops = [Op(1, [], [], (option, {"InitSubgraphIndex": level + 1})) for _ in range(calls_per_level)]
            graphs.append(G([T((1, 4))], ops))
    graphs.append(_chain(1))
    code = _OP.IF if option == "IfOptions" else _OP.CALL_ONCE
    return build(graphs, [_OP.RELU, code])


def _overlapping_scales(tensors: int = 1000, length: int = 30_000) -> bytes:
    """Every tensor's quantization scale vector moved into one constant's data, each at its own
    offset (or all at one), so that the vectors overlap: a 130 KB file claiming 30 million floats."""
    region = struct.pack(f"<{length + tensors}i", *([length] * (length + tensors)))
    graph = G(
        [T((1, 4), name=f"t{i}", scale=[0.5]) for i in range(tensors)] + [T((len(region),), buffer=1, name="c")],
        outputs=[0],
    )
    data = bytearray(build([graph], [_OP.RELU], buffers=[region]))
    start = bytes(data).find(region)
    refs = [f for f in locate_fields(bytes(data)) if f.role == "uoffset" and f.where.endswith("scale reference")]
    for i, ref in enumerate(refs):
        target = start + 4 * i if i % 2 == 0 else start  # overlapping (even) or shared (odd) vectors
        struct.pack_into("<I", data, ref.pos, target - ref.pos)
    return bytes(data)


def flexbuffer_fan_out(width: int, layers: int) -> bytes:
    """A flexbuffer of a few KB whose vectors all point at one vector below: ``width ** (layers + 1)``
    ints once decoded in full (16-bit offsets, so ``width * (layers + 1)`` stays under 32,768)."""
    blob = bytearray(struct.pack("<H", width))
    below, below_type = len(blob), (11 << 2) | 1  # FBT_VECTOR_INT, 16-bit
    blob += b"\x01\x00" * width
    for _ in range(layers):
        blob += struct.pack("<H", width)
        start = len(blob)
        for _ in range(width):
            blob += struct.pack("<H", len(blob) - below)
        blob += bytes([below_type]) * width + b"\x00" * (width % 2)
        below, below_type = start, (10 << 2) | 1  # FBT_VECTOR, 16-bit
    blob += struct.pack("<H", len(blob) - below) + bytes([below_type, 2])
    return bytes(blob)


def custom_op_model(name: str, custom_options: bytes) -> bytes:
    """One custom op reading a (1, 512) int8 tensor into a (1, 257, 2) one."""
    graph = G([T((1, 512)), T((1, 257, 2))], [Op(0, [0], [1], custom_options=custom_options)], [0], [1])
    return build([graph], [name])


def _claimed_length(role_where: str, value: int) -> bytes:
    data = bytearray(build([_chain(3)], [_OP.RELU]))
    item = next(f for f in locate_fields(bytes(data)) if f.role == "vector_length" and f.where == role_where)
    struct.pack_into("<I", data, item.pos, value)
    return bytes(data)


#: name -> (builder, what the outcome must contain: "planned" or a fragment of the error message)
HOSTILE_MODELS: dict[str, tuple[Callable[[], bytes], str]] = {
    "no subgraphs": (lambda: build([], [_OP.RELU]), "no subgraphs"),
    "empty main subgraph": (lambda: build([G([])], [_OP.RELU]), "planned"),
    "op reads a missing tensor": (
        lambda: build([G([T((4,)), T((4,))], [Op(0, [7], [1])], [0], [1])], [_OP.RELU]),
        "does not exist",
    ),
    "op writes tensor -1": (
        lambda: build([G([T((4,)), T((4,))], [Op(0, [0], [-1])], [0], [1])], [_OP.RELU]),
        "does not exist",
    ),
    "opcode index out of range": (
        lambda: build([G([T((4,)), T((4,))], [Op(3, [0], [1])], [0], [1])], [_OP.RELU]),
        "opcode index",
    ),
    "duplicate outputs": (
        lambda: build([G([T((4,)), T((4,))], [Op(0, [0], [1, 1])], [0], [1, 1, 0])], [_OP.RELU]),
        "planned",
    ),
    "intermediate -1 in an empty subgraph": (
        lambda: build([G([], [Op(0, [], [], intermediates=[-1])])], [_OP.RELU]),
        "planned",
    ),
    "2^40-element activation": (lambda: build([_chain(2, (1024, 1024, 1024, 1024))], [_OP.RELU]), "elements"),
    "2^40-element constant with 16 bytes of data": (
        lambda: build([G([T((1 << 20, 1 << 20), buffer=1)])], [_OP.RELU], buffers=[b"\0" * 16]),
        "elements",
    ),
    "rank 100,000": (lambda: build([_chain(1, (1,) * 100_000)], [_OP.RELU]), "dims"),
    "huge dims times zero": (lambda: build([_chain(1, (0x7FFFFFFF,) * 60 + (0,))], [_OP.RELU]), "planned"),
    "2^31-byte tensor": (lambda: build([_chain(1, (0x7FFFFFFF,))], [_OP.RELU]), "more than TFLM's planner"),
    "two 1 GiB tensors live together": (lambda: build([_chain(1, (1 << 30,))], [_OP.RELU]), "live at step"),
    "two 512 MiB tensors": (lambda: build([_chain(1, (1 << 29,))], [_OP.RELU]), "planned"),
    "call chain 1,000 deep": (lambda: _calls(1000, 1), "nesting depth"),
    "call chain 40 deep": (lambda: _calls(40, 1), "planned"),
    "2^40-step schedule (IF doubling)": (lambda: _calls(41, 2, "IfOptions"), "op steps"),
    "WHILE calls itself": (
        lambda: build(
            [
                G(
                    [T((4,))],
                    [Op(1, [0], [0], ("WhileOptions", {"CondSubgraphIndex": 0, "BodySubgraphIndex": 0}))],
                    [0],
                    [0],
                )
            ],
            [_OP.RELU, _OP.WHILE],
        ),
        "cycle",
    ),
    "IF calls a missing subgraph": (
        lambda: build(
            [G([T((1,), type_code=6)], [Op(1, [0], [], ("IfOptions", {"ThenSubgraphIndex": 9}))], [0])],
            [_OP.RELU, _OP.IF],
        ),
        "does not exist",
    ),
    "offline plan: count one short": (lambda: _offline([0, 1, 3, 0, 16, 32]), "offsets but"),
    "offline plan: count 2^31-1": (lambda: _offline([0, 1, 0x7FFFFFFF, 0, 16, 32, 48]), "declares"),
    "offline plan: negative count": (lambda: _offline([0, 1, -4, 0, 16, 32, 48]), "declares"),
    "offline plan: 8 bytes": (lambda: _offline([0, 1]), "needs at least"),
    "offline plan: offset -7": (lambda: _offline([0, 1, 4, 0, -7, 32, 48]), "offline-planned offset"),
    "offline plan: offset near 2^31": (lambda: _offline([0, 1, 4, 0, 0x7FFFFFF0, 32, 48]), "offline-planned offset"),
    "offline plan: metadata buffer out of range": (
        lambda: build([_chain(3)], [_OP.RELU], metadata=[("OfflineMemoryAllocation", 9)]),
        "buffer 9",
    ),
    "tensor vector claims 2^31-1 entries": (
        lambda: _claimed_length("subgraph 0 tensors length", 0x7FFFFFFF),
        "cannot fit",
    ),
    "operator vector claims 2^30 entries": (
        lambda: _claimed_length("subgraph 0 operators length", 1 << 30),
        "cannot fit",
    ),
    "shape vector claims 2^31 dims": (lambda: _claimed_length("subgraph 0 tensor 1 shape length", 1 << 31), "corrupt"),
    "4,000 tensors share one 100 KB name": (
        lambda: build([_chain(4000)], [_OP.RELU], shared_name="n" * 100_000),
        "twice the file",
    ),
    "overlapping scale vectors": (_overlapping_scales, "twice the file"),
    "control characters in a name": (
        lambda: build([G([T((-3, 4), name="evil\nname\x1b[31m\r")], [], [0], [0])], [_OP.RELU]),
        "negative dimension",
    ),
}
