"""``arena export``: the files a firmware build needs, all rendered before any is written.

The plan the device runs is the one TFLM makes from the exported model: with the ``tflm``
allocator that is the unmodified model; with any other allocator the plan's tensor offsets are
embedded as ``OfflineMemoryAllocation`` metadata and TFLM places the kernel scratch buffers
around them. So the sizes in the header are re-derived from the exported model itself, never
from the plan alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from arena.allocators import BEST_ALLOCATOR
from arena.errors import ArenaError
from arena.model.reader import read_model, read_model_bytes
from arena.plan.embed import embed_plan, plan_tensor_offsets
from arena.plan.firmware import ArenaExport, c_identifier
from arena.plan.pipeline import PlanResult, plan_model
from arena.targets import Target


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportBundle:
    """The plan as made, the plan TFLM realises from the exported model, and the exported model."""

    planned: PlanResult
    realized: PlanResult
    arena: ArenaExport
    model_bytes: bytes
    embedded: bool

    @property
    def fits_budget(self) -> bool:
        """True without a budget, or when the total arena is within it."""
        budget = self.arena.budget_bytes
        return budget is None or self.arena.total_bytes <= budget


def build_export(
    model: str | Path,
    *,
    target: Target,
    allocator: str = BEST_ALLOCATOR,
    kernels: str | None = None,
    budget_bytes: int | None = None,
    prefix: str | None = None,
) -> ExportBundle:
    """Plan ``model`` for ``target``, embed the plan when needed, and size what TFLM will do.

    Raises
    ------
    ArenaError
        For an unreadable or unsupported model, or one with no tensors to plan.
    """
    loaded = read_model(model)
    if loaded.tensor_count == 0:
        raise ArenaError(f"{loaded.display_name}: the model has no tensors to export a plan for")
    planned = plan_model(loaded, allocator=allocator, kernels=kernels, target=target)
    embedded = allocator != "tflm"
    exported_bytes = embed_plan(planned) if embedded else loaded.data
    exported = read_model_bytes(exported_bytes, loaded.path)
    realized = plan_model(exported, allocator="tflm", kernels=planned.table.kernels, target=target)
    sizing = realized.sizing
    assert sizing is not None, "planned for a target, so sized"
    names = tuple(t.name for g in loaded.subgraphs for t in g.tensors)
    arena = ArenaExport(
        prefix=c_identifier(prefix or Path(loaded.path).stem),
        model_name=loaded.display_name,
        model_sha256=hashlib.sha256(exported_bytes).hexdigest(),
        model_bytes=len(exported_bytes),
        target=target.name,
        kernels=realized.table.kernels,
        allocator=allocator,
        head_bytes=sizing.head_bytes,
        tail_bytes=sizing.tail_bytes,
        total_bytes=sizing.total_bytes,
        budget_bytes=budget_bytes,
        tensor_offsets=tuple(plan_tensor_offsets(realized)),
        tensor_names=names,
    )
    return ExportBundle(planned=planned, realized=realized, arena=arena, model_bytes=exported_bytes, embedded=embedded)
