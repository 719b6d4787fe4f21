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

from arena.errors import ArenaError
from arena.export.c_source import ArenaExport, c_identifier, render_header, render_model_array, render_source
from arena.export.offline_model import embed_plan, plan_tensor_offsets
from arena.model.reader import read_model, read_model_bytes
from arena.planning import PlanResult, plan_model
from arena.targets import Target


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportBundle:
    """The plan as made, the plan TFLM realises from the exported model, and every file's text."""

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

    def header(self) -> str:
        """The arena header."""
        return render_header(self.arena)

    def source(self, header_name: str) -> str:
        """The arena source, including ``header_name``."""
        return render_source(self.arena, header_name)

    def model_array(self) -> str:
        """The exported model as a C array."""
        return render_model_array(self.model_bytes, self.arena.prefix, self.arena.model_name)


def build_export(
    model: str | Path,
    *,
    target: Target,
    allocator: str = "tflm",
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


def render_export_summary(bundle: ExportBundle, written: list[str]) -> str:
    """What was written and the numbers firmware needs, against TFLM's default plan."""
    arena = bundle.arena
    sizing = bundle.realized.sizing
    assert sizing is not None
    tflm_total = bundle.planned.sizing.tflm_total_bytes if bundle.planned.sizing else arena.total_bytes
    lines = [
        f"model        {arena.model_name} -> {'plan embedded' if bundle.embedded else 'unmodified (TFLM plans it)'}",
        f"target       {arena.target} ({arena.kernels} kernels), allocator {arena.allocator}",
        f"arena        {arena.total_bytes:,} B = head {arena.head_bytes:,} + tail {arena.tail_bytes:,}"
        + (f" + {sizing.minimum.transient_bytes:,} commit transient" if sizing.minimum.transient_bytes else ""),
    ]
    if tflm_total != arena.total_bytes:
        lines.append(f"TFLM default {tflm_total:,} B: the exported plan saves {tflm_total - arena.total_bytes:,} B")
    if arena.budget_bytes is not None:
        verdict = "fits" if bundle.fits_budget else f"EXCEEDS by {arena.total_bytes - arena.budget_bytes:,} B"
        lines.append(f"budget       {arena.budget_bytes:,} B: {verdict} (the header static-asserts it)")
    lines += [f"wrote        {path}" for path in written]
    lines += [f"note         {note}" for note in sizing.notes]
    return "\n".join(lines) + "\n"
