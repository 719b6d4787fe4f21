"""How every JSON document names a planned buffer: index, kind, subgraph, tensor and full name.

A clobber or a violation that says only "buffer 7" makes a user count rows; one that says
"tensor 12 of subgraph 0, 'model/conv2d_3/Relu6'" can be searched for in Netron. Every renderer
that refers to a buffer uses :func:`buffer_reference`, so the fields agree across commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arena.allocators.validate import Violation
from arena.lifetimes import BufferOrigin


def buffer_reference(origins: Sequence[BufferOrigin], index: int) -> dict[str, Any]:
    """The buffer at ``index`` of the problem: kind, subgraph, tensor (in its subgraph and global), op, name.

    ``tensor`` is the index within ``subgraph`` (what Netron and the flatbuffer show),
    ``global_tensor`` the running index over all subgraphs (the plan file's ``tensor``); both
    are null for a scratch buffer, whose ``op`` is the op that requested it.
    """
    if not 0 <= index < len(origins):
        return {"buffer": index, "kind": None, "subgraph": None, "tensor": None, "global_tensor": None, "op": None}
    origin = origins[index]
    return {
        "buffer": index,
        "kind": str(origin.kind),
        "subgraph": origin.subgraph,
        "tensor": origin.tensor,
        "global_tensor": origin.global_tensor,
        "op": origin.op,
        "name": origin.name,
    }


def violation_document(origins: Sequence[BufferOrigin], violation: Violation) -> dict[str, Any]:
    """A validator finding with its buffers spelled out."""
    return {
        "kind": str(violation.kind),
        "message": violation.message,
        "buffers": [buffer_reference(origins, i) for i in violation.buffers],
        "steps": None if violation.steps is None else list(violation.steps),
        "byte_range": None if violation.byte_range is None else list(violation.byte_range),
    }
