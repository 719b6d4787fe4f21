"""The shape of a kernel library, shared by every library module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from arena.model.records import Model, Operator, Subgraph


@dataclass(frozen=True, slots=True, kw_only=True)
class ScratchRequest:
    """One ``RequestScratchBufferInArena`` call: raw bytes (TFLM aligns them to 16 itself)."""

    size_bytes: int
    purpose: str


#: Why TFLM built with this library cannot run the op, or None when it can.
SupportCheck = Callable[[Model, Subgraph, Operator], str | None]
#: The scratch buffers the op's Prepare requests, in request order.
ScratchRule = Callable[[Model, Subgraph, Operator], tuple[ScratchRequest, ...]]


@dataclass(frozen=True, slots=True, kw_only=True)
class KernelLibrary:
    """A named set of kernels: which ops it runs and what scratch each requests."""

    name: str
    description: str
    unsupported_reason: SupportCheck
    scratch_requests: ScratchRule
