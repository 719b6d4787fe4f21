"""The search behind ``arena shrink``: plan a rewritten model, find where its head is, split there.

Why a search of its own: a model whose peak sits at several places (KWS's four pointwise layers
each hold two 8,000-byte tensors) has no single split that lowers its head, so a greedy step that
only accepts a lower head stops at once. Each step here is ranked by the head, then by how many
steps of the plan reach it, so splitting one of four equal peaks is progress; the caller keeps the
best model seen, not the last. Candidate splits are the row-band splits of
:mod:`arena.shrink.patches` over spans of a splittable run that contain an op at a peak step
(every prefix of a run, as before, and shorter spans anywhere in it, single ops included).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from arena.lifetimes import LifetimeTable
from arena.model.records import Model
from arena.shrink.alias import Alias, AliasKind, find_aliases
from arena.shrink.grouped import GroupedPlan, plan_shaped, step_needs

#: Band counts tried (TFLM's CONCATENATION takes at most 10 inputs: kernels/concatenation.cc).
BAND_COUNTS = (2, 3, 4, 5, 6, 8, 10)
#: Longest span tried that does not start a run (every prefix of a run is tried whatever its length).
MAX_INNER_SPAN = 6
#: Most ops in a residual region tried (:mod:`arena.shrink.regions`).
MAX_REGION_OPS = 8
#: Order moves tried on the packing of a plan that is kept (:func:`arena.shrink.grouped.plan_shaped`).
POLISH_MOVES = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluated:
    """A (rewritten) model, its best plan, and where the model needs the most memory."""

    data: bytes
    model: Model
    plan: GroupedPlan
    #: Ops at the steps that need the most bytes (:func:`arena.shrink.grouped.step_needs`).
    peak_ops: frozenset[int]
    #: Every step's need, highest first: compared as a whole it ranks plans with the same head by
    #: how many steps still need the most, then how much the others need.
    profile: tuple[int, ...]

    @property
    def head_bytes(self) -> int:
        """The plan's head."""
        return self.plan.peak_bytes

    @property
    def rank(self) -> tuple[int, tuple[int, ...]]:
        """Smaller is better: the head, then the need profile."""
        return (self.plan.peak_bytes, self.profile)


def relation_sets(model: Model, table: LifetimeTable) -> tuple[tuple[Alias, ...], ...]:
    """The in-place relation sets tried: none, aliases, aliases + pairwise or chained overlaps."""
    from arena.shrink.overlap import find_overlaps

    aliases = _without_carried_rows(model, find_aliases(model, table.kernels))
    taken = frozenset(a.source for a in aliases)
    pairs = find_overlaps(model, table, taken)
    chains = find_overlaps(model, table, taken, chain=True)
    return ((), aliases, aliases + pairs, aliases + chains)


def _without_carried_rows(model: Model, aliases: tuple[Alias, ...]) -> tuple[Alias, ...]:
    """``aliases`` less the concatenation pieces that are row slices (the carried halo rows of
    :mod:`arena.shrink.regions`).

    Why: a carry is cut during band k-1 and joins band k's window; in place there, it ties band k's
    whole group to band k-1's time, so consecutive bands pack as stacked blocks. Copied, it costs
    its few rows once. Measured on IC ResNet ops 0..7 in 10 carried bands: first fit with grown
    overlaps 23,040 B with the carries in place, 20,528 B without; person detection ops 0..6:
    29,184 B and 24,576 B.
    """
    graph = model.subgraphs[0]
    sliced = {t for op in graph.operators if op.op_name == "STRIDED_SLICE" for t in op.outputs}
    return tuple(a for a in aliases if not (a.kind is AliasKind.CONCAT_PIECE and a.source in sliced))


def step_plans(
    model: Model,
    table: LifetimeTable,
    time_limit_seconds: float | None,
    *,
    cumulative: bool = True,
    relations: tuple[tuple[Alias, ...], ...] | None = None,
    polish: int = 0,
) -> list[tuple[str, GroupedPlan]]:
    """The best plan after each in-place step: ``alias`` (none or aliases), ``overlap`` (plus overlaps).

    ``time_limit_seconds`` None packs by first fit only (fast enough to rank many candidates).
    ``cumulative`` False gives the overlap step's own plan even when it is no smaller.
    ``relations``: :func:`relation_sets`, when the caller has them. ``polish``: order moves per
    packing (:func:`arena.shrink.grouped.plan_shaped`), for the plan that is kept.
    """
    none, aliases, pairs, chains = relations if relations is not None else relation_sets(model, table)

    def best(*sets: tuple[Alias, ...]) -> GroupedPlan:
        plans = [
            plan_shaped(
                model,
                table,
                r,
                time_limit_seconds=time_limit_seconds or 0.0,
                exact=time_limit_seconds is not None,
                polish=polish,
            )
            for r in sets
        ]
        return min(plans, key=lambda p: (p.peak_bytes, len(p.aliases)))

    alias_plan = best(none, aliases)
    # Planning for keeps (not ranking): also the pairs grown link by link towards the chains.
    grown = (grow_overlaps(model, table, pairs, chains),) if time_limit_seconds is not None else ()
    overlap_plan = best(pairs, chains, *grown)
    if cumulative:
        overlap_plan = min(alias_plan, overlap_plan, key=lambda p: p.peak_bytes)
    return [("alias", alias_plan), ("overlap", overlap_plan)]


def grow_overlaps(
    model: Model, table: LifetimeTable, pairs: tuple[Alias, ...], chains: tuple[Alias, ...]
) -> tuple[Alias, ...]:
    """``pairs`` plus the links of ``chains`` that lower the first-fit head, added one at a time.

    Why: chained overlaps clear every convolution's step (the least need) but tie the whole chain
    into one rigid staircase the packing cannot fit around; pairs pack freely but leave half the
    steps unshared. The relations of ``chains`` are compatible with each other (each tensor is the
    source of one and the target of one at most), so any subset of them is a valid relation set.
    """
    current = pairs
    head = plan_shaped(model, table, current, exact=False).peak_bytes
    improved = True
    while improved:
        improved = False
        for link in chains:
            if link in current:
                continue
            trial = plan_shaped(model, table, (*current, link), exact=False).peak_bytes
            if trial < head:
                current, head, improved = (*current, link), trial, True
    return current


def kept_head(model: Model, kernels: str, time_limit_seconds: float) -> int:
    """The head of the plan that would be kept for ``model``: exact packing where it proves, first
    fit with grown overlaps and a polished order elsewhere (what ``arena shrink`` embeds)."""
    from arena.lifetimes import derive_lifetimes

    table = derive_lifetimes(model, kernels)
    return min(plan.peak_bytes for _, plan in step_plans(model, table, time_limit_seconds, polish=POLISH_MOVES))


def evaluate(
    data: bytes,
    label: str,
    kernels: str,
    time_limit_seconds: float | None,
    model: Model | None = None,
    worth: Callable[[tuple[int, ...]], bool] | None = None,
) -> Evaluated | None:
    """Plan the model in ``data`` (``model``: it, already read) with every in-place relation and find
    the ops at its peak steps.

    ``worth``, given the need profile (a lower bound of any plan's steps, cheap beside packing),
    says whether the model is worth packing at all; None is returned when it is not.
    """
    from arena.lifetimes import derive_lifetimes
    from arena.model.reader import read_model_bytes

    model = model if model is not None else read_model_bytes(data, label)
    table = derive_lifetimes(model, kernels)
    relations = relation_sets(model, table)
    # The need profile is the least over the relation sets (an overlap that the packing cannot use
    # yet still clears its op's step); the plan is the one with the smallest head.
    needs = min((step_needs(model, table, r) for r in relations), key=lambda n: sorted(n, reverse=True))
    profile = tuple(sorted(needs, reverse=True))
    if worth is not None and not worth(profile):
        return None
    plans = [plan for _, plan in step_plans(model, table, time_limit_seconds, cumulative=False, relations=relations)]
    plan = min(plans, key=lambda p: p.peak_bytes)
    most = max(needs, default=0)
    at_peak = {step for step, need in enumerate(needs) if need == most}
    ops = frozenset(s.op for s in table.steps if s.step in at_peak and s.subgraph == 0 and s.op is not None)
    return Evaluated(data=data, model=model, plan=plan, peak_ops=ops, profile=profile)


def evaluated(
    data: bytes, label: str, kernels: str, time_limit_seconds: float | None, model: Model | None = None
) -> Evaluated:
    """:func:`evaluate` without a ``worth`` test: always an answer."""
    found = evaluate(data, label, kernels, time_limit_seconds, model)
    assert found is not None
    return found


def candidate_spans(model: Model, peak_ops: frozenset[int]) -> Iterator[tuple[int, int]]:
    """Spans (first op, last op) worth splitting: every prefix of a splittable run, and shorter
    spans inside a run that cover or touch an op at a peak step."""
    from arena.shrink.patches import splittable_chains

    for first, last in splittable_chains(model, min_ops=1):
        for start in range(first, last + 1):
            for end in range(start, last + 1):
                if start != first and end - start >= MAX_INNER_SPAN:
                    break
                # A peak at the op just before or after a span moves when the span's tensors do.
                if start == first or any(start - 1 <= op <= end + 1 for op in peak_ops):
                    yield start, end


def candidate_regions(model: Model, peak_ops: frozenset[int]) -> Iterator[tuple[int, int]]:
    """Spans (first op, last op) of residual regions (:func:`arena.shrink.regions.region_output`)
    that cover or touch an op at a peak step."""
    from arena.shrink.regions import region_output

    count = len(model.subgraphs[0].operators)
    for start in range(count):
        for end in range(start + 1, min(start + MAX_REGION_OPS, count)):
            if any(start - 1 <= op <= end + 1 for op in peak_ops) and region_output(model, start, end) is not None:
                yield start, end


__all__ = [
    "BAND_COUNTS",
    "MAX_INNER_SPAN",
    "MAX_REGION_OPS",
    "Evaluated",
    "candidate_regions",
    "candidate_spans",
    "evaluate",
    "evaluated",
    "kept_head",
    "POLISH_MOVES",
    "grow_overlaps",
    "relation_sets",
    "step_plans",
]
