"""A plan's tensor offsets as the offline plan TFLM reads, and the model carrying it.

The plan knows buffers; TFLM's ``OfflineMemoryAllocation`` knows tensors of all subgraphs in
order. This is the one place that maps one to the other; the bytes are written by
:mod:`arena.model.writer`.
"""

from __future__ import annotations

from arena.lifetimes import BufferKind
from arena.model.offline_plan import ONLINE
from arena.model.writer import embed_offline_plan
from arena.plan.pipeline import PlanResult


def plan_tensor_offsets(result: PlanResult) -> list[int]:
    """One offset per tensor of all subgraphs in order, ``-1`` for tensors the plan does not hold.

    Constants, variables (unless the model's own offline plan placed them) and zero-size tensors
    are not planned, so they get -1; scratch buffers cannot be offline-planned and are left out.

    Examples
    --------
    >>> from pathlib import Path
    >>> from arena.plan.pipeline import plan_model
    >>> result = plan_model(Path(__file__).parents[2] / "models" / "kws_ds_cnn_int8.tflite")
    >>> offsets = plan_tensor_offsets(result)
    >>> len(offsets) == result.model.tensor_count, offsets.count(-1) < len(offsets)
    (True, True)
    """
    offsets = [ONLINE] * result.model.tensor_count
    for origin, offset in zip(result.table.origins, result.plan.offsets, strict=True):
        if origin.kind is BufferKind.TENSOR and origin.global_tensor is not None:
            offsets[origin.global_tensor] = offset
    return offsets


def embed_plan(result: PlanResult) -> bytes:
    """The result's model with its plan's tensor offsets embedded (see :func:`embed_offline_plan`)."""
    return embed_offline_plan(result.model.data, plan_tensor_offsets(result), label=result.model.display_name)
