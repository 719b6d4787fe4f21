"""Write a plan into a model: the ``OfflineMemoryAllocation`` metadata TFLM reads at allocation.

TFLM places every tensor whose offline offset is not -1 at that offset from the head start
(tensorflow/lite/micro/micro_allocation_info.cc, ``GetOfflinePlannedOffsets``), so a model
carrying a plan makes the device use it. Scratch buffers cannot be planned offline: TFLM's greedy
planner places them around the fixed tensors at allocation time.

How the model is rewritten (re-rooting, not re-serialising): the original file is kept byte for
byte and a small new front is put before it, holding a new root ``Model`` table, new ``buffers``
and ``metadata`` vectors, the new metadata entry and its buffer. Flatbuffer offsets are relative
and point forward, so every table of the original (tensors, operators, weights, signatures,
fields this code does not know) stays valid where it is, now reachable from the new root. The
original starts at a multiple of 16 bytes in the output, so constant data keeps the 16-byte
alignment converters gave it. Only the old root table and its two vectors become dead bytes.
This module and the reader are the only code that touches flatbuffers.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arena.errors import EmbedError, ModelFormatError
from arena.model.offline_plan import OFFLINE_PLAN_METADATA, ONLINE, OfflinePlan, encode_offline_plan
from arena.model.reader import TFLITE_IDENTIFIER, read_model_bytes
from arena.model.records import Model

#: Alignment kept for the original bytes and the plan data: TFLM's ``MicroArenaBufferAlignment``
#: and the converter's buffer alignment (schema.fbs ``Buffer.data (force_align: 16)``).
DATA_ALIGNMENT = 16
#: Slots of the schema's ``Model`` table (tensorflow/lite/schema/schema.fbs), in field order.
_MODEL_FIELDS = (
    "version",
    "operator_codes",
    "subgraphs",
    "description",
    "buffers",
    "metadata_buffer",
    "metadata",
    "signature_defs",
)
_SLOT_VERSION, _SLOT_BUFFERS, _SLOT_METADATA = 0, 4, 6
#: What the flatbuffers runtime raises when an offset points outside the file.
_DECODE_ERRORS = (struct.error, IndexError, ValueError, TypeError, OverflowError)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Root:
    """The original root table: absolute file positions of its fields, by slot."""

    version: int | None
    targets: dict[int, int]
    buffers: tuple[int, ...]
    metadata: tuple[tuple[str, int, int], ...]  # (name, buffer index, table position)


def embed_offline_plan(model_bytes: bytes, offsets_per_tensor: Sequence[int], *, label: str = "model") -> bytes:
    """The model with an ``OfflineMemoryAllocation`` entry ``[0, subgraphs, n, offsets...]``.

    An entry already there (Vela writes one) is replaced: its buffer is reused when nothing else
    refers to it, else the plan goes into a new buffer. Tensors, operators, weights and all other
    metadata are unchanged; the original bytes appear unmodified, 16-byte aligned, in the output.

    Parameters
    ----------
    model_bytes
        A .tflite flatbuffer.
    offsets_per_tensor
        One offset per tensor over all subgraphs in order (``Model.tensor_count`` of them); -1
        lets TFLM plan that tensor online (always for constants, variables and zero-size ones).
    label
        The model's name for messages.

    Raises
    ------
    ModelFormatError
        When ``model_bytes`` is not a readable model.
    EmbedError
        When the offsets do not match the tensor count or one is below -1, or when the model
        keeps buffer data outside the flatbuffer (absolute offsets a new front would break).

    Examples
    --------
    >>> from pathlib import Path
    >>> from arena.model import read_model_bytes, read_offline_plan
    >>> data = (Path(__file__).parents[2] / "models" / "kws_ds_cnn_int8.tflite").read_bytes()
    >>> n = read_model_bytes(data).tensor_count
    >>> out = embed_offline_plan(data, [-1] * n)
    >>> read_offline_plan(read_model_bytes(out)).offsets == (-1,) * n
    True
    >>> data in out   # the original, byte for byte, behind a new root table
    True
    """
    data = bytes(model_bytes)
    model = read_model_bytes(data, label)
    offsets = _checked_offsets(model, offsets_per_tensor)
    words = encode_offline_plan(OfflinePlan(version=0, subgraph_count=len(model.subgraphs), offsets=offsets))
    try:
        root = _read_root(data, model)
    except _DECODE_ERRORS as error:
        raise ModelFormatError(f"{model.display_name}: corrupt model table or buffers ({error})") from error
    return _build(data, root, words, _plan_buffer_index(model, root))


def _checked_offsets(model: Model, offsets: Sequence[int]) -> tuple[int, ...]:
    if len(offsets) != model.tensor_count:
        raise EmbedError(
            f"{model.display_name}: {len(offsets)} offline offsets for {model.tensor_count} tensors"
            " (TFLM needs one per tensor of every subgraph)"
        )
    values = tuple(int(o) for o in offsets)
    bad = next((i for i, o in enumerate(values) if o < ONLINE), None)
    if bad is not None:
        raise EmbedError(f"{model.display_name}: offline offset of tensor {bad} is {values[bad]} (must be >= -1)")
    return values


def _u32(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from("<I", data, pos)[0]
    return value


def _read_root(data: bytes, model: Model) -> _Root:
    """Field positions of the root table, its buffer tables and its metadata entries."""
    import tflite

    root = _u32(data, 0)
    vtable = root - struct.unpack_from("<i", data, root)[0]
    slots = (struct.unpack_from("<H", data, vtable)[0] - 4) // 2
    fields = {s: struct.unpack_from("<H", data, vtable + 4 + 2 * s)[0] for s in range(slots)}
    unknown = [s for s, at in fields.items() if at and s >= len(_MODEL_FIELDS)]
    if unknown:
        raise EmbedError(
            f"{model.display_name}: model table has field {unknown[0]} unknown to this schema; cannot re-root it"
        )
    version = _u32(data, root + fields[_SLOT_VERSION]) if fields.get(_SLOT_VERSION) else None
    targets = {s: root + at + _u32(data, root + at) for s, at in fields.items() if at and s != _SLOT_VERSION}
    fb_model = tflite.Model.GetRootAs(data, 0)
    buffers = []
    for index in range(fb_model.BuffersLength()):
        fb_buffer = fb_model.Buffers(index)
        if fb_buffer.Offset() > 1:
            raise EmbedError(
                f"{model.display_name}: buffer {index} keeps its data outside the flatbuffer"
                " (offset field); models over 2 GB are not supported"
            )
        buffers.append(fb_buffer._tab.Pos)
    metadata = tuple(
        (
            (fb_model.Metadata(i).Name() or b"").decode("utf-8", "replace"),
            int(fb_model.Metadata(i).Buffer()),
            fb_model.Metadata(i)._tab.Pos,
        )
        for i in range(fb_model.MetadataLength())
    )
    return _Root(version=version, targets=targets, buffers=tuple(buffers), metadata=metadata)


def _plan_buffer_index(model: Model, root: _Root) -> int:
    """Reuse the buffer of an existing plan entry when only that entry refers to it; else append."""
    existing = [buffer for name, buffer, _ in root.metadata if name == OFFLINE_PLAN_METADATA]
    if existing:
        candidate = existing[0]
        in_use = {t.buffer for s in model.subgraphs for t in s.tensors}
        in_use |= {buffer for name, buffer, _ in root.metadata if name != OFFLINE_PLAN_METADATA}
        if 0 < candidate < len(root.buffers) and candidate not in in_use:
            return candidate
    return max(len(root.buffers), 1)  # buffer 0 is the schema's empty sentinel


def _build(data: bytes, root: _Root, words: bytes, plan_buffer: int) -> bytes:
    import flatbuffers

    builder = flatbuffers.Builder(len(data) + len(words) + 1024)
    builder.Prep(DATA_ALIGNMENT, len(data))  # the original ends (and so starts) 16-aligned
    builder.head -= len(data)
    builder.Bytes[builder.head : builder.head + len(data)] = data
    base = builder.Offset()

    def old(position: int) -> int:  # builder offset of an object at ``position`` in the original
        return int(base) - position

    builder.StartVector(1, len(words), DATA_ALIGNMENT)
    builder.head -= len(words)
    builder.Bytes[builder.head : builder.head + len(words)] = words
    plan_data = builder.EndVector()
    builder.StartObject(1)
    builder.PrependUOffsetTRelativeSlot(0, plan_data, 0)
    plan_table = builder.EndObject()
    buffer_tables = [old(p) for p in root.buffers]
    if not buffer_tables:
        builder.StartObject(1)
        buffer_tables.append(builder.EndObject())
    if plan_buffer < len(buffer_tables):
        buffer_tables[plan_buffer] = plan_table
    else:
        buffer_tables.append(plan_table)
    metadata_tables = _metadata_tables(builder, root, plan_buffer, old)
    vectors = {
        _SLOT_BUFFERS: offset_vector(builder, buffer_tables),
        _SLOT_METADATA: offset_vector(builder, metadata_tables),
    }
    builder.ForceDefaults(True)  # keep a version field that the original had, even if 0
    builder.StartObject(len(_MODEL_FIELDS))
    if root.version is not None:
        builder.PrependUint32Slot(_SLOT_VERSION, root.version, 0)
    for slot in range(1, len(_MODEL_FIELDS)):
        if slot in vectors:
            builder.PrependUOffsetTRelativeSlot(slot, vectors[slot], 0)
        elif slot in root.targets:
            builder.PrependUOffsetTRelativeSlot(slot, old(root.targets[slot]), 0)
    builder.Finish(builder.EndObject(), file_identifier=TFLITE_IDENTIFIER)
    return bytes(builder.Output())


def _metadata_tables(builder: Any, root: _Root, plan_buffer: int, old: Any) -> list[int]:
    """Old entries in order, the first plan entry replaced (later duplicates dropped), or appended."""
    name = builder.CreateString(OFFLINE_PLAN_METADATA)
    builder.StartObject(2)
    builder.PrependUOffsetTRelativeSlot(0, name, 0)
    builder.PrependUint32Slot(1, plan_buffer, 0)
    entry = builder.EndObject()
    tables: list[int] = []
    placed = False
    for entry_name, _, position in root.metadata:
        if entry_name != OFFLINE_PLAN_METADATA:
            tables.append(old(position))
        elif not placed:
            tables.append(entry)
            placed = True
    if not placed:
        tables.append(entry)
    return tables


def offset_vector(builder: Any, tables: Sequence[int]) -> int:
    """A vector of table offsets (written back to front, as flatbuffers builds)."""
    builder.StartVector(4, len(tables), 4)
    for table in reversed(tables):
        builder.PrependUOffsetTRelative(table)
    vector: int = builder.EndVector()
    return vector


__all__ = ["DATA_ALIGNMENT", "embed_offline_plan"]
