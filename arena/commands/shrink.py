"""``arena shrink``: rewrite a model so its planned head is smaller, and prove the result.

Steps, each measured against the exact allocator's head of the unmodified model:

0. ``reorder`` (only when it lowers the head): subgraph 0's ops in the topological order with the
   smallest live-bytes peak (:mod:`arena.shrink.reorder`);
1. ``alias``: in-place aliasing (:mod:`arena.shrink.alias`) planned with alias groups
   (:mod:`arena.shrink.grouped`);
2. ``overlap``: plus partial overlap of conv/depthwise/pad outputs with their dying input
   (:mod:`arena.shrink.overlap`), pairwise or chained, whichever packs smaller;
3. ``patches``: row-band splits of conv/depthwise chains (:mod:`arena.shrink.patches`), chosen
   greedily (best head, then fewest MACs) while the MACs added stay within ``max_mac_overhead``,
   re-planned with the aliases of the rewritten graph (the concatenation pieces land in place).

The rewritten model carries the plan as ``OfflineMemoryAllocation`` metadata. Proof: the
value-level simulator (:mod:`arena.proofs.alias_simulate`) and, when ``prove`` is set, real TFLM
running original and shrunk models on seeded inputs with the kernels the model was shrunk for
(:mod:`arena.proofs.shrink_runtime`: the ``tflite-micro`` wheel for the reference kernels, TFLM +
CMSIS-NN on an emulated Cortex-M for CMSIS-NN): outputs must be bit-identical and TFLM's reported
head must equal the plan's. Which rules a library gets: reorder and patches (graph rewrites whose
values do not depend on the kernels' memory access) and alias (checked in both libraries'
source) wherever a runtime can prove the result; overlap, which rests on a kernel's raster
access order, for the reference kernels and the CMSIS-NN DSP paths read to follow it
(:mod:`arena.shrink.overlap`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from arena.allocators import BEST_ALLOCATOR, DEVICE_ALLOCATOR
from arena.errors import ArenaError
from arena.kernels import DEFAULT_KERNELS, resolve_kernels
from arena.lifetimes import LifetimeTable
from arena.model.reader import read_model, read_model_bytes
from arena.model.records import Model
from arena.proofs.shrink_proof import TflmProof
from arena.proofs.shrink_runtime import Progress, ShrinkProver, provable_libraries, prover_for
from arena.shrink.alias import Alias, find_aliases
from arena.shrink.grouped import GroupedPlan, plan_shaped
from arena.shrink.overlap import OVERLAP_LIBRARIES
from arena.targets import Target

#: Band counts tried (TFLM's CONCATENATION takes at most 10 inputs: kernels/concatenation.cc).
BAND_COUNTS = (2, 3, 4, 5, 6, 8, 10)
#: Most splits applied one after another.
MAX_SPLITS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class ShrinkStep:
    """One applied step: the head after it, MACs added by it, and what it did."""

    name: str
    head_bytes: int
    macs_added: int
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ShrinkResult:
    """What ``arena shrink`` did to one model, and its proof."""

    model: str
    kernels: str
    head_before_bytes: int
    tflm_head_before_bytes: int
    head_after_bytes: int
    macs_before: int
    macs_after: int
    steps: tuple[ShrinkStep, ...]
    aliases: tuple[Alias, ...]
    simulation_problems: tuple[str, ...]
    tflm: TflmProof | None
    model_bytes: bytes = field(repr=False, compare=False)
    budget_bytes: int | None = None

    @property
    def proven(self) -> bool:
        """True when the simulator found nothing and (if run) TFLM agreed bit for bit and on the head."""
        return not self.simulation_problems and (self.tflm is None or self.tflm.ok)

    @property
    def fits_budget(self) -> bool:
        """True without a budget, else when the head after shrinking is within it."""
        return self.budget_bytes is None or self.head_after_bytes <= self.budget_bytes

    @property
    def ok(self) -> bool:
        """Proven and within the budget."""
        return self.proven and self.fits_budget


@dataclass(frozen=True, slots=True, kw_only=True)
class _Candidate:
    data: bytes
    model: Model
    head_bytes: int
    macs: int
    detail: str


def _evaluate(data: bytes, label: str, kernels: str, time_limit_seconds: float | None) -> tuple[Model, int]:
    """The rewritten model and its smallest head (``time_limit_seconds`` None: first-fit only)."""
    from arena.lifetimes import derive_lifetimes

    model = read_model_bytes(data, label)
    table = derive_lifetimes(model, kernels)
    return model, _best_plan(model, table, time_limit_seconds).peak_bytes


def _step_plans(model: Model, table: LifetimeTable, time_limit_seconds: float | None) -> list[tuple[str, GroupedPlan]]:
    """The best plan after each in-place step: ``alias`` (none or aliases), ``overlap`` (plus overlaps)."""
    from arena.shrink.overlap import find_overlaps

    aliases = find_aliases(model, table.kernels)
    taken = frozenset(a.source for a in aliases)
    pairs = find_overlaps(model, table, taken)
    chains = find_overlaps(model, table, taken, chain=True)

    def best(*relation_sets: tuple[Alias, ...]) -> GroupedPlan:
        plans = [
            plan_shaped(
                model, table, r, time_limit_seconds=time_limit_seconds or 0.0, exact=time_limit_seconds is not None
            )
            for r in relation_sets
        ]
        return min(plans, key=lambda p: (p.peak_bytes, len(p.aliases)))

    alias_plan = best((), aliases)
    overlap_plan = best(aliases + pairs, aliases + chains)
    return [("alias", alias_plan), ("overlap", min(alias_plan, overlap_plan, key=lambda p: p.peak_bytes))]


def _best_plan(model: Model, table: LifetimeTable, time_limit_seconds: float | None) -> GroupedPlan:
    """The smallest plan over every combination of in-place relations tried."""
    return _step_plans(model, table, time_limit_seconds)[-1][1]


def _best_split(current: _Candidate, label: str, kernels: str, mac_limit: int, budget: int | None) -> _Candidate | None:
    from arena.cost.macs import count_model
    from arena.model.rewrite import rewrite_graph
    from arena.shrink.patches import split_chain, splittable_chains

    best: _Candidate | None = None
    for first, last in splittable_chains(current.model):
        for end in range(first + 1, last + 1):
            for bands in BAND_COUNTS:
                split = split_chain(current.model, first, end, bands)
                if split is None:
                    continue
                data = rewrite_graph(current.data, split.rewrite, label=label)
                macs = count_model(read_model_bytes(data, label)).macs
                if macs > mac_limit:
                    continue
                model, head = _evaluate(data, label, kernels, None)
                if head >= current.head_bytes:
                    continue
                candidate = _Candidate(data=data, model=model, head_bytes=head, macs=macs, detail=split.description)
                if best is None or _better(candidate, best, budget):
                    best = candidate
    return best


def _reorder(original: Model, label: str, kernels: str, head: int) -> tuple[Model, int] | None:
    """The model with subgraph 0's ops in the best order (:mod:`arena.shrink.reorder`), if its head drops."""
    from arena.model.rewrite import GraphRewrite, rewrite_graph
    from arena.plan.pipeline import plan_model
    from arena.shrink.reorder import best_order, order_peak

    count = len(original.subgraphs[0].operators)
    found = best_order(original)
    if found is None or found[0] >= order_peak(original, tuple(range(count))):
        return None
    data = rewrite_graph(original.data, GraphRewrite(operators=found[1]), label=label)
    model = read_model_bytes(data, label)
    planned = plan_model(model, allocator=BEST_ALLOCATOR, kernels=kernels, time_limit_seconds=20.0)
    return (model, planned.plan.peak_bytes) if planned.plan.peak_bytes < head else None


def _better(a: _Candidate, b: _Candidate, budget: int | None) -> bool:
    """Without a budget the smaller head wins (then fewer MACs); with one, fewest MACs among fits."""
    if budget is not None:
        fits_a, fits_b = a.head_bytes <= budget, b.head_bytes <= budget
        if fits_a != fits_b:
            return fits_a
        if fits_a:
            return (a.macs, a.head_bytes) < (b.macs, b.head_bytes)
    return (a.head_bytes, a.macs) < (b.head_bytes, b.macs)


def shrink_model(
    path: str | Path,
    *,
    kernels: str | None = None,
    target: Target | None = None,
    max_mac_overhead: float = 0.10,
    budget_bytes: int | None = None,
    prove: bool = True,
    seed: int = 0,
    patches: bool = True,
    sources: str | Path | None = None,
    jobs: int = 2,
    progress: Progress | None = None,
) -> ShrinkResult:
    """Shrink the model at ``path``; see the module docstring for the steps and the proof.

    ``kernels`` is a library family or name (None: the target's default, else reference). With
    ``prove``, CMSIS-NN results are run on an emulated core (its TFLM library built from the
    tarballs in ``sources`` first, or reused; ``jobs`` and ``progress`` for that build).

    Raises
    ------
    ArenaError
        For an unreadable or unsupported model, a negative ``max_mac_overhead``, or, with
        ``prove``, a library no runtime here runs or an emulator that cannot be set up.
    """
    from arena.cost.macs import count_model
    from arena.lifetimes import derive_lifetimes
    from arena.plan.pipeline import plan_model

    if max_mac_overhead < 0:
        raise ArenaError(f"--max-mac-overhead must be >= 0, got {max_mac_overhead:g}")
    original = read_model(path)
    label = original.display_name
    family = kernels or (target.default_kernels if target is not None else DEFAULT_KERNELS)
    library = resolve_kernels(family, target.kernel_isa if target is not None else None)
    prover = None
    if prove:  # before the search: a missing toolchain or unprovable library fails at once
        core = target.core if target is not None else None
        prover = prover_for(library, target_core=core, sources=sources, jobs=jobs, progress=progress)
    rewrites = library in provable_libraries()  # graph rewrites only where a run can prove them
    patches = patches and rewrites
    base = plan_model(original, allocator=BEST_ALLOCATOR, kernels=library, time_limit_seconds=20.0)
    macs_before = count_model(original).macs
    steps: list[ShrinkStep] = []
    work, table = original, base.table
    reordered = _reorder(original, label, library, base.plan.peak_bytes) if rewrites else None
    if reordered is not None:
        work, head = reordered
        table = derive_lifetimes(work, library)
        steps.append(ShrinkStep(name="reorder", head_bytes=head, macs_added=0, detail="ops in a smaller-peak order"))
    for name, plan in _step_plans(work, table, 20.0):
        counts: dict[str, int] = {}
        for alias in plan.aliases:
            counts[alias.kind.value] = counts.get(alias.kind.value, 0) + 1
        detail = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "none apply"
        if name == "overlap" and library not in OVERLAP_LIBRARIES:
            detail = f"not for {library}: its kernels' access order was not checked for it"
        steps.append(ShrinkStep(name=name, head_bytes=min(plan.peak_bytes, steps[-1].head_bytes if steps else
                                base.plan.peak_bytes), macs_added=0, detail=detail))  # fmt: skip
    head = steps[-1].head_bytes
    current = _Candidate(data=work.data, model=work, head_bytes=head, macs=macs_before, detail="")
    mac_limit = int(macs_before * (1 + max_mac_overhead))
    for _ in range(MAX_SPLITS if patches else 0):
        if budget_bytes is not None and current.head_bytes <= budget_bytes:
            break
        found = _best_split(current, label, base.table.kernels, mac_limit, budget_bytes)
        if found is None:
            break
        _, exact_head = _evaluate(found.data, label, base.table.kernels, 5.0)  # ranked by first fit; re-plan
        found = dataclasses.replace(found, head_bytes=min(exact_head, found.head_bytes))
        if found.head_bytes >= current.head_bytes:
            break
        steps.append(
            ShrinkStep(name="patches", head_bytes=found.head_bytes, macs_added=found.macs - current.macs,
                       detail=found.detail)
        )  # fmt: skip
        current = found
    return _finish(original, base.plan.peak_bytes, base.tflm_head_bytes, current, steps, macs_before,
                   kernels=base.table.kernels, budget_bytes=budget_bytes, prover=prover, seed=seed)  # fmt: skip


def _finish(
    original: Model,
    head_before: int,
    tflm_before: int,
    current: _Candidate,
    steps: list[ShrinkStep],
    macs_before: int,
    *,
    kernels: str,
    budget_bytes: int | None,
    prover: ShrinkProver | None,
    seed: int,
) -> ShrinkResult:
    """Embed the final plan, re-derive what TFLM will do with it, simulate and (optionally) run it."""
    from arena.lifetimes import BufferKind, derive_lifetimes
    from arena.model.writer import embed_offline_plan
    from arena.plan.pipeline import PlanResult, plan_model
    from arena.proofs.alias_simulate import simulate_aliased

    label = original.display_name
    table = derive_lifetimes(current.model, kernels)

    def realize(grouped: GroupedPlan) -> tuple[GroupedPlan, bytes, PlanResult]:
        offsets = [-1] * current.model.tensor_count
        for origin, offset in zip(table.origins, grouped.offsets, strict=True):
            if origin.kind is BufferKind.TENSOR and origin.global_tensor is not None:
                offsets[origin.global_tensor] = offset
        embedded = embed_offline_plan(current.data, offsets, label=label)
        # TFLM's own planner honours the embedded offline plan: this is what the device will do.
        return grouped, embedded, plan_model(read_model_bytes(embedded, label), allocator=DEVICE_ALLOCATOR,
                                             kernels=kernels)  # fmt: skip

    # Only tensors can be embedded: TFLM places kernel scratch (CMSIS-NN im2col buffers) itself, in
    # the holes the offline tensors leave, so a tighter plan can realize a larger head. Each step's
    # plan is realized and the smallest realized head wins.
    candidates = [realize(plan) for _, plan in _step_plans(current.model, table, 20.0)]
    grouped, embedded, realized = min(candidates, key=lambda c: (c[2].plan.peak_bytes, len(c[0].aliases)))
    simulation = simulate_aliased(realized.model, realized.table, realized.plan.offsets, grouped.aliases)
    head_after = realized.plan.peak_bytes
    tflm = prover(original, embedded, seed=seed) if prover is not None else None
    return ShrinkResult(
        model=label,
        kernels=kernels,
        head_before_bytes=head_before,
        tflm_head_before_bytes=tflm_before,
        head_after_bytes=head_after,
        macs_before=macs_before,
        macs_after=current.macs,
        steps=tuple(steps),
        aliases=grouped.aliases,
        simulation_problems=simulation.problems,
        tflm=None if tflm is None else tflm.against(head_after),
        model_bytes=embedded,
        budget_bytes=budget_bytes,
    )


__all__ = ["BAND_COUNTS", "ShrinkResult", "ShrinkStep", "shrink_model"]
