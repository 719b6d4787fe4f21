"""The ``OfflineMemoryAllocation`` metadata: an arena plan carried inside the model.

Layout (tensorflow/lite/micro/micro_allocation_info.cc, ``GetOfflinePlannedOffsets``):
little-endian int32 words ``[version, subgraph_count, n, offset_0 .. offset_{n-1}]`` with one
offset per tensor over all subgraphs in order, ``-1`` meaning "plan this tensor online".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from arena.errors import UnsupportedModelError
from arena.model.reader import buffer_bytes
from arena.model.records import Model

#: Metadata name TFLM looks for (exact match).
OFFLINE_PLAN_METADATA = "OfflineMemoryAllocation"
#: Offset value TFLM reads as "plan online" (``kOnlinePlannedBuffer``).
ONLINE = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class OfflinePlan:
    """The decoded metadata: one offset (or ``ONLINE``) per tensor, all subgraphs in order."""

    version: int
    subgraph_count: int
    offsets: tuple[int, ...]


def decode_offline_plan(words: bytes | memoryview, label: str = "model") -> OfflinePlan:
    """Decode the metadata buffer, rejecting one too short for the count it declares.

    Examples
    --------
    >>> import struct
    >>> decode_offline_plan(struct.pack("<6i", 0, 1, 3, 0, -1, 16))
    OfflinePlan(version=0, subgraph_count=1, offsets=(0, -1, 16))
    """
    raw = bytes(words)
    if len(raw) < 12:
        raise UnsupportedModelError(
            f"{label}: {OFFLINE_PLAN_METADATA} metadata has {len(raw)} bytes, needs at least 12"
        )
    version, subgraph_count, count = struct.unpack_from("<iii", raw, 0)
    if count < 0 or 12 + 4 * count > len(raw):
        raise UnsupportedModelError(
            f"{label}: {OFFLINE_PLAN_METADATA} metadata declares {count} offsets but holds {(len(raw) - 12) // 4}"
        )
    offsets = struct.unpack_from(f"<{count}i", raw, 12)
    return OfflinePlan(version=version, subgraph_count=subgraph_count, offsets=tuple(offsets))


def encode_offline_plan(plan: OfflinePlan) -> bytes:
    """The metadata buffer for ``plan`` (inverse of :func:`decode_offline_plan`).

    Examples
    --------
    >>> p = OfflinePlan(version=0, subgraph_count=1, offsets=(0, -1))
    >>> decode_offline_plan(encode_offline_plan(p)) == p
    True
    """
    header = struct.pack("<iii", plan.version, plan.subgraph_count, len(plan.offsets))
    return header + struct.pack(f"<{len(plan.offsets)}i", *plan.offsets)


def read_offline_plan(model: Model) -> OfflinePlan | None:
    """The model's offline plan, or None; checked as TFLM checks it (one offset per tensor).

    Raises
    ------
    UnsupportedModelError
        When the metadata is malformed or its count differs from the model's tensor count, which
        makes TFLM's allocation fail.
    """
    entry = model.metadata_named(OFFLINE_PLAN_METADATA)
    if entry is None:
        return None
    plan = decode_offline_plan(buffer_bytes(model, entry.buffer), model.display_name)
    if len(plan.offsets) != model.tensor_count:
        raise UnsupportedModelError(
            f"{model.display_name}: {OFFLINE_PLAN_METADATA} has {len(plan.offsets)} offsets but"
            f" the model has {model.tensor_count} tensors (TFLM rejects this)"
        )
    return plan
