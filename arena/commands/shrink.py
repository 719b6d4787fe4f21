"""``arena shrink``: rewrite a model so its planned head is smaller, and prove the result.

Steps, each measured against the exact allocator's head of the unmodified model:

0. ``reorder`` (only when it lowers the head): subgraph 0's ops in the topological order with the
   smallest live-bytes peak (:mod:`arena.shrink.reorder`);
1. ``alias``: in-place aliasing (:mod:`arena.shrink.alias`) planned with alias groups
   (:mod:`arena.shrink.grouped`);
2. ``overlap``: plus partial overlap of conv/depthwise/pad outputs with their dying input
   (:mod:`arena.shrink.overlap`), pairwise, chained or pairs grown towards chains, whichever
   packs smaller;
3. ``patches``: row-band splits of conv/depthwise chains and residual regions
   (:mod:`arena.shrink.patches`, :mod:`arena.shrink.regions`; a region's halos recomputed or
   carried from band to band), one per round while the MACs
   added stay within ``max_mac_overhead``, found where the model needs the most memory and
   ranked by the plan that would be kept (:mod:`arena.shrink.search`, :func:`_best_split`),
   re-planned with the aliases of the rewritten graph (the concatenation pieces land in place).
   The best model seen is kept; the two best are realized in TFLM's planner first.

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

from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from arena.allocators import BEST_ALLOCATOR, DEVICE_ALLOCATOR
from arena.errors import ArenaError
from arena.kernels import DEFAULT_KERNELS, resolve_kernels
from arena.model.reader import read_model, read_model_bytes
from arena.model.records import Model
from arena.proofs.shrink_proof import TflmProof
from arena.proofs.shrink_runtime import Progress, ShrinkProver, provable_libraries, prover_for
from arena.shrink.alias import Alias
from arena.shrink.grouped import GroupedPlan
from arena.shrink.overlap import OVERLAP_LIBRARIES
from arena.shrink.scratch import pin_scratch
from arena.shrink.search import (
    BAND_COUNTS,
    POLISH_MOVES,
    Evaluated,
    candidate_regions,
    candidate_spans,
    evaluate,
    evaluated,
    kept_head,
    relation_sets,
    step_plans,
)
from arena.targets import Target

if TYPE_CHECKING:
    from arena.plan.pipeline import PlanResult

#: Most splits applied one after another (the best model seen on the way is kept).
MAX_SPLITS = 8
#: Lowering splits planned as for keeps per step: the best this many by first fit, and by need.
SHRINK_SHORTLIST = 3
#: The exact allocator's time per relation set when a shortlisted split is planned.
KEPT_SECONDS = 2.0
#: The best models seen that are realized in TFLM's planner before the smallest is kept.
REALIZED_MODELS = 2


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
    found: Evaluated
    macs: int
    detail: str
    #: The head believed: the kept plan's for a shortlisted or accepted model, else first fit's.
    head_bytes: int


def _best_split(current: _Candidate, label: str, kernels: str, mac_limit: int, budget: int | None) -> _Candidate | None:
    """The best row-band split of a span at or next to the current peak (:mod:`arena.shrink.search`).

    Two kinds: splits that lower the head, and splits that only level it (the peak is at several
    places and one split removes one of them). Lowering ones are found by their need (a floor
    under any packing) and first-fit head, and the few best by either are planned as for keeps
    (:func:`arena.shrink.search.kept_head`): first fit misjudges a split whose bands pack well
    only with chained overlaps. A costly lowering split spent on one peak of many can leave no
    MACs for the others, so a free levelling split wins over it when what it leaves at its own
    steps is already below the head the costly split reaches.
    """
    from arena.cost.macs import count_model
    from arena.model.rewrite import rewrite_graph
    from arena.shrink.patches import split_chain
    from arena.shrink.regions import split_region

    pool: list[_Candidate] = []
    levelling: _Candidate | None = None
    # Levelling pays only where the model's own need sets the head (not the packing), and only for
    # free: a split that adds no MACs (a pointwise convolution, a depthwise one feeding it).
    need_bound = bool(current.found.profile) and current.head_bytes <= current.found.profile[0]
    spans = [(split_chain, span) for span in candidate_spans(current.found.model, current.found.peak_ops)]
    regions = list(candidate_regions(current.found.model, current.found.peak_ops))
    spans += [(partial(split_region, carry=False), span) for span in regions]
    spans += [(partial(split_region, carry=True), span) for span in regions]
    for splitter, (first, last) in spans:
        for bands in BAND_COUNTS:
            split = splitter(current.found.model, first, last, bands)
            if split is None:
                continue
            data = rewrite_graph(current.found.data, split.rewrite, label=label, model=current.found.model)
            model = read_model_bytes(data, label)
            macs = count_model(model).macs
            if macs > mac_limit:
                continue
            free = macs == current.macs

            def worth(profile: tuple[int, ...], free: bool = free) -> bool:
                # The need is a floor under any packing: skip packing what can neither lower the
                # head nor level it.
                lowers = profile[0] < current.head_bytes if profile else True
                return lowers or (need_bound and free and _fewer_peaks(profile, current.found.profile))

            found = evaluate(data, label, kernels, None, model, worth)
            if found is None:
                continue
            candidate = _Candidate(found=found, macs=macs, detail=split.description, head_bytes=found.head_bytes)
            if found.profile and found.profile[0] < current.head_bytes:
                pool.append(candidate)
            elif (
                need_bound
                and free
                and found.rank < current.found.rank
                and _fewer_peaks(found.profile, current.found.profile)
                and (levelling is None or found.rank < levelling.found.rank)
            ):
                levelling = candidate
    by_fit = sorted(pool, key=lambda c: (c.head_bytes, c.macs, c.found.profile))[:SHRINK_SHORTLIST]
    by_need = sorted(pool, key=lambda c: (c.found.profile, c.macs))[:SHRINK_SHORTLIST]
    lowering: _Candidate | None = None
    for candidate in {id(c): c for c in (*by_fit, *by_need)}.values():
        head = kept_head(candidate.found.model, kernels, KEPT_SECONDS)
        candidate = replace(candidate, head_bytes=min(head, candidate.head_bytes))
        if candidate.head_bytes < current.head_bytes and (lowering is None or _better(candidate, lowering, budget)):
            lowering = candidate
    if lowering is not None and levelling is not None and budget is None:
        # Levelling wins over a lowering split that costs MACs when what it leaves at its own
        # steps is already below the head that split reaches: a path to a smaller head.
        peak = current.found.profile[0]
        level = next((need for need in levelling.found.profile if need < peak), 0)
        if lowering.macs > current.macs and level < lowering.head_bytes:
            return levelling
    return lowering or levelling


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


def _fewer_peaks(profile: tuple[int, ...], than: tuple[int, ...]) -> bool:
    """True when ``profile`` needs less at its peak than ``than``, or as much at fewer steps."""
    if not profile or not than or profile[0] != than[0]:
        return bool(profile and than) and profile[0] < than[0]
    return profile.count(profile[0]) < than.count(than[0])


def _better(a: _Candidate, b: _Candidate, budget: int | None) -> bool:
    """Without a budget the smaller head wins (then fewer steps at it, then fewer MACs); with one,
    fewest MACs among fits."""
    if budget is not None:
        fits_a, fits_b = a.head_bytes <= budget, b.head_bytes <= budget
        if fits_a != fits_b:
            return fits_a
        if fits_a:
            return (a.macs, a.head_bytes) < (b.macs, b.head_bytes)
    return (a.head_bytes, a.macs, a.found.profile) < (b.head_bytes, b.macs, b.found.profile)


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
    for name, plan in step_plans(work, table, 20.0):
        counts: dict[str, int] = {}
        for alias in plan.aliases:
            counts[alias.kind.value] = counts.get(alias.kind.value, 0) + 1
        detail = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "none apply"
        if name == "overlap" and library not in OVERLAP_LIBRARIES:
            detail = f"not for {library}: its kernels' access order was not checked for it"
        steps.append(ShrinkStep(name=name, head_bytes=min(plan.peak_bytes, steps[-1].head_bytes if steps else
                                base.plan.peak_bytes), macs_added=0, detail=detail))  # fmt: skip
    first_fit = evaluated(work.data, label, library, None)
    start = _Candidate(found=first_fit, macs=macs_before, detail="", head_bytes=steps[-1].head_bytes)
    current = start
    # (head reported, candidate, steps so far): the best model seen is kept, not the last one.
    seen = [(start.head_bytes, start, len(steps))]
    mac_limit = int(macs_before * (1 + max_mac_overhead))
    for round_ in range(MAX_SPLITS if patches else 0):
        if budget_bytes is not None and min(head for head, _, _ in seen) <= budget_bytes:
            break
        if progress is not None:
            progress(f"shrink: searching row-band splits, round {round_ + 1} of at most {MAX_SPLITS}, "
                     f"head {min(h for h, _, _ in seen):,} B")  # fmt: skip
        found = _best_split(current, label, base.table.kernels, mac_limit, budget_bytes)
        if found is None:
            break
        head = found.head_bytes  # a lowering split's is its kept plan's already
        steps.append(ShrinkStep(name="patches", head_bytes=head, macs_added=found.macs - current.macs,
                                detail=found.detail))  # fmt: skip
        seen.append((head, found, len(steps)))
        current = found
    if budget_bytes is not None and any(head <= budget_bytes for head, _, _ in seen):
        _, current, kept = min((s for s in seen if s[0] <= budget_bytes), key=lambda s: (s[1].macs, s[0]))
        realized = _realization(current, base.table.kernels, label)
    else:
        # What TFLM realizes can differ from the plan (it places kernel scratch itself), so the few
        # best models seen are realized and the smallest realized head wins.
        best = sorted(seen, key=lambda s: (s[0], s[1].macs))[:REALIZED_MODELS]
        tried = [(_realization(c, base.table.kernels, label), c, n) for _, c, n in best]
        realized, current, kept = min(tried, key=lambda t: (t[0][2].plan.peak_bytes, t[1].macs))
    del steps[kept:]
    return _finish(original, base.plan.peak_bytes, base.tflm_head_bytes, current, realized, steps, macs_before,
                   kernels=base.table.kernels, budget_bytes=budget_bytes, prover=prover, seed=seed)  # fmt: skip


_Realized = tuple[GroupedPlan, bytes, "PlanResult"]


def _realization(current: _Candidate, kernels: str, label: str) -> _Realized:
    """The plan of ``current`` to embed, the embedded model, and what TFLM's planner makes of it.

    Only tensors can be embedded: TFLM places kernel scratch (CMSIS-NN im2col buffers) itself, in
    the holes the offline tensors leave, so a tighter plan can realize a larger head. Each step's
    plan as kept (exact or polished first fit) and as plain first fit leaves them, each also packed
    around the scratch pinned where TFLM will place it, is realized, and the smallest realized head
    wins.
    """
    from arena.lifetimes import BufferKind, derive_lifetimes
    from arena.model.writer import embed_offline_plan
    from arena.plan.pipeline import plan_model

    table = derive_lifetimes(current.found.model, kernels)

    def realize(grouped: GroupedPlan) -> _Realized:
        offsets = [-1] * current.found.model.tensor_count
        for origin, offset in zip(table.origins, grouped.offsets, strict=True):
            if origin.kind is BufferKind.TENSOR and origin.global_tensor is not None:
                offsets[origin.global_tensor] = offset
        embedded = embed_offline_plan(current.found.data, offsets, label=label)
        # TFLM's own planner honours the embedded offline plan: this is what the device will do.
        return grouped, embedded, plan_model(read_model_bytes(embedded, label), allocator=DEVICE_ALLOCATOR,
                                             kernels=kernels)  # fmt: skip

    model = current.found.model
    relations = relation_sets(model, table)  # found once for every packing
    # Also packed around the kernel scratch pinned where TFLM will put it (arena.shrink.scratch).
    pinned = pin_scratch(table)
    tables = (table,) if pinned is None else (table, pinned)
    plans = [plan for packed in tables for limit, polish in ((20.0, POLISH_MOVES), (None, 0))
             for _, plan in step_plans(model, packed, limit, polish=polish, relations=relations)]  # fmt: skip
    return min((realize(plan) for plan in plans), key=lambda c: (c[2].plan.peak_bytes, len(c[0].aliases)))


def _finish(
    original: Model,
    head_before: int,
    tflm_before: int,
    current: _Candidate,
    realization: _Realized,
    steps: list[ShrinkStep],
    macs_before: int,
    *,
    kernels: str,
    budget_bytes: int | None,
    prover: ShrinkProver | None,
    seed: int,
) -> ShrinkResult:
    """Simulate the realized plan and (optionally) run the embedded model in real TFLM."""
    from arena.proofs.alias_simulate import simulate_aliased

    grouped, embedded, realized = realization
    simulation = simulate_aliased(realized.model, realized.table, realized.plan.offsets, grouped.aliases)
    head_after = realized.plan.peak_bytes
    tflm = prover(original, embedded, seed=seed) if prover is not None else None
    return ShrinkResult(
        model=original.display_name,
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


__all__ = ["ShrinkResult", "ShrinkStep", "shrink_model"]
