"""Exact allocator: hand-worked cases, an independent brute force, properties over every rule set."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.allocators import ALLOCATORS, get_allocator
from arena.allocators.exact import ExactOptions, exact
from arena.allocators.problem import Buffer, Plan, PlanStatus, Problem
from arena.allocators.validate import ViolationKind, validate_plan
from arena.errors import ArenaError
from conftest import model_id, shared_model_paths

RULES = (
    "canonical_order",
    "dominance",
    "section_bounds",
    "unplaced_floor",
    "monotonic_floor",
    "hatless_pruning",
    "decomposition",
)


def brute_force_peak(problem: Problem) -> int:
    """The least peak, by lowest-fit placement in every order of the free buffers.

    Lowest fit puts each buffer at the lowest aligned offset where it shares no byte with a
    placed buffer it meets in time (fixed buffers are placed first, where they are fixed; empty
    buffers share no byte with anything). The lowest such offset is 0 or the end of a placed
    buffer rounded up to the alignment, so only those are tried. Why every order is enough:
    take a best packing and list its free buffers by offset. Lowest fit in that order puts each
    buffer at or below its offset there: by induction every buffer placed before it ends no
    higher than in the best packing, and those that meet it end at or below its offset there,
    so that offset is still free. The result's peak is therefore no higher than the best
    packing's.
    """
    fixed = [b for b in problem.buffers if b.fixed_offset is not None]
    free = [b for b in problem.buffers if b.fixed_offset is None]
    best = None
    for order in itertools.permutations(free):
        placed = [(b, b.fixed_offset) for b in fixed]
        for buffer in order:
            meets = [(o, o + b.size) for b, o in placed if b.overlaps_in_time(buffer) and b.size]
            starts = sorted({0} | {-(-end // buffer.alignment) * buffer.alignment for _, end in meets})
            offset = next(x for x in starts if all(x + buffer.size <= lo or hi <= x for lo, hi in meets))
            placed.append((buffer, offset))
        peak = max((o + b.size for b, o in placed), default=0)
        best = peak if best is None else min(best, peak)
    return best if best is not None else 0


@st.composite
def problems(draw: st.DrawFn, max_buffers: int = 6, fixed: bool = True, aligned_sizes: bool = False) -> Problem:
    """Small problems: any sizes and alignments, sometimes fixed buffers (which may overlap).

    With ``aligned_sizes``, all buffers share one alignment that divides every size, as in
    TFLM (whose greedy planner ignores alignment, relying on that).
    """
    count = draw(st.integers(0, max_buffers))
    common = draw(st.sampled_from((1, 2, 4, 16)))
    buffers = []
    for index in range(count):
        first = draw(st.integers(0, 6))
        alignment = common if aligned_sizes else draw(st.sampled_from((1, 1, 2, 4, 16)))
        place = draw(st.none() | st.integers(0, 6)) if fixed and draw(st.integers(0, 4)) == 0 else None
        size = draw(st.integers(0, 40))
        buffers.append(
            Buffer(
                name=f"b{index}",
                size=size * alignment if aligned_sizes else size,
                first=first,
                last=first + draw(st.integers(0, 4)),
                alignment=alignment,
                fixed_offset=None if place is None else place * alignment * 8,
            )
        )
    return Problem(buffers=tuple(buffers))


def is_valid(problem: Problem, plan: Plan, *, over_capacity: bool = False) -> bool:
    """The validator's verdict, less what the problem itself imposes.

    Two fixed buffers may overlap (the offline plan put them there, and the allocator must keep
    them), which the validator reports; and a plan for an infeasible capacity is over it.
    """
    fixed = {i for i, b in enumerate(problem.buffers) if b.fixed_offset is not None}
    return all(
        (v.kind is ViolationKind.OVERLAP and set(v.buffers) <= fixed)
        or (over_capacity and v.kind is ViolationKind.CAPACITY)
        for v in validate_plan(problem, plan).violations
    )


def test_hand_worked_pair_sharing_a_gap() -> None:
    # a [0..1] and c [2..3] never meet, so both can sit at 0 beside b [1..2] at 32; d [0..0]
    # meets only a and goes at 32. The busiest steps hold 48 bytes, so 48 is optimal.
    problem = Problem(
        buffers=(
            Buffer(name="a", size=32, first=0, last=1),
            Buffer(name="b", size=16, first=1, last=2),
            Buffer(name="c", size=32, first=2, last=3),
            Buffer(name="d", size=16, first=0, last=0),
        )
    )
    plan = exact(problem)
    assert is_valid(problem, plan)
    assert (plan.peak_bytes, plan.status, plan.lower_bound_bytes) == (48, PlanStatus.OPTIMAL, 48)


def test_optimum_above_the_load_bound_is_proven_by_search() -> None:
    # A fixed buffer holds bytes [16, 32) at step 0. The 32-byte free buffer cannot use the
    # 16-byte gap below it, so it goes at 32: peak 64. The load bound only knows that 32 free
    # bytes must fit beside 16 fixed ones (48); the search must prove 48..63 impossible.
    problem = Problem(
        buffers=(
            Buffer(name="fixed", size=16, first=0, last=0, fixed_offset=16),
            Buffer(name="free", size=32, first=0, last=0),
        )
    )
    plan = exact(problem)
    assert plan.offsets == (16, 32)
    assert (plan.peak_bytes, plan.status, plan.lower_bound_bytes) == (64, PlanStatus.OPTIMAL, 64)


def test_overlapping_fixed_buffers_are_kept_and_avoided() -> None:
    # f1 [0, 32) and f2 [16, 48) overlap each other (allowed: an offline plan said so); the free
    # buffer lives with both and fits neither below nor between them, so it goes at 48.
    problem = Problem(
        buffers=(
            Buffer(name="f1", size=32, first=0, last=3, fixed_offset=0),
            Buffer(name="f2", size=32, first=0, last=3, fixed_offset=16),
            Buffer(name="x", size=16, first=1, last=2, alignment=16),
        )
    )
    plan = exact(problem)
    assert plan.offsets == (0, 16, 48)
    assert is_valid(problem, plan)
    assert plan.status is PlanStatus.OPTIMAL


def test_capacity_below_the_optimum_is_reported_infeasible() -> None:
    # Two 16-byte buffers live together need 32 bytes; capacity 24 cannot hold them.
    problem = Problem(
        buffers=(Buffer(name="a", size=16, first=0, last=1), Buffer(name="b", size=16, first=1, last=2)), capacity=24
    )
    plan = exact(problem)
    assert plan.stats["infeasible"] == 1
    assert plan.status is PlanStatus.INFEASIBLE
    assert plan.lower_bound_bytes > 24
    assert is_valid(problem, plan, over_capacity=True)


def test_bad_options_are_rejected() -> None:
    with pytest.raises(ArenaError, match="preorder"):
        ExactOptions(preorders=("WX",))
    with pytest.raises(ArenaError, match="time limit"):
        ExactOptions(time_limit_seconds=-1)


@pytest.mark.parametrize(
    "switches",
    list(itertools.product((True, False), repeat=len(RULES))),
    ids=lambda s: "".join("1" if on else "0" for on in s),
)
@settings(max_examples=12, deadline=None)
@given(problem=problems(), restarts=st.booleans())
def test_every_rule_set_finds_the_brute_force_optimum(
    switches: tuple[bool, ...], problem: Problem, restarts: bool
) -> None:
    options = ExactOptions(restarts=restarts, **dict(zip(RULES, switches, strict=True)))
    plan = exact(problem, options)
    assert is_valid(problem, plan)
    assert plan.peak_bytes == brute_force_peak(problem)
    assert plan.status is PlanStatus.OPTIMAL
    assert plan.lower_bound_bytes == plan.peak_bytes


@settings(max_examples=150, deadline=None)
@given(problem=problems(max_buffers=14, fixed=False, aligned_sizes=True))
def test_never_worse_than_a_registered_allocator(problem: Problem) -> None:
    plan = exact(problem)
    assert is_valid(problem, plan)
    assert problem.lower_bound_bytes() <= plan.lower_bound_bytes <= plan.peak_bytes
    for name in ALLOCATORS:
        if name != "exact":
            assert plan.peak_bytes <= get_allocator(name)(problem).peak_bytes, name


@settings(max_examples=150, deadline=None)
@given(problem=problems(), slack=st.integers(-3, 3), minimize=st.booleans())
def test_capacity_is_met_exactly_when_the_optimum_fits(problem: Problem, slack: int, minimize: bool) -> None:
    optimum = brute_force_peak(problem)
    capacity = max(optimum + slack, 0)
    bounded = dataclasses.replace(problem, capacity=capacity)
    plan = exact(bounded, ExactOptions(minimize=minimize))
    assert is_valid(bounded, plan, over_capacity=True)
    if optimum <= capacity:
        assert is_valid(bounded, plan)
        assert plan.status in (PlanStatus.OPTIMAL, PlanStatus.FEASIBLE)
        assert plan.stats["infeasible"] == 0
        if minimize:
            assert plan.peak_bytes == optimum
    else:
        assert plan.status is PlanStatus.INFEASIBLE
        assert plan.stats["infeasible"] == 1
        assert capacity < plan.lower_bound_bytes <= optimum


@settings(max_examples=50, deadline=None)
@given(problem=problems(max_buffers=12))
def test_no_time_still_gives_a_valid_plan(problem: Problem) -> None:
    plan = exact(problem, ExactOptions(time_limit_seconds=0))
    assert is_valid(problem, plan)
    assert plan.lower_bound_bytes <= plan.peak_bytes
    assert plan.status in (PlanStatus.TIMEOUT, PlanStatus.OPTIMAL)
    assert (plan.status is PlanStatus.OPTIMAL) == (plan.peak_bytes == plan.lower_bound_bytes)


@pytest.mark.parametrize("path", shared_model_paths(), ids=model_id)
def test_every_shared_model_is_proven_optimal(path: Path, shared_dir: Path) -> None:
    from arena.lifetimes import derive_lifetimes
    from arena.model import read_model

    try:
        problem = derive_lifetimes(read_model(path), allow_unsupported=True).problem
    except ArenaError as error:
        pytest.skip(f"{path.name}: {error}")
    plan = exact(problem, ExactOptions(time_limit_seconds=60))
    assert is_valid(problem, plan)
    assert plan.status is PlanStatus.OPTIMAL, plan.stats
    assert plan.peak_bytes == plan.lower_bound_bytes


def test_probe_chunk_stays_within_the_core_int64(monkeypatch: pytest.MonkeyPatch) -> None:
    # A search whose every call into the core returns at once (its node limit reached) used to grow
    # the chunk fourfold per call until the core's int64 argument overflowed (OverflowError, seen
    # on a shrunk KWS). Calls made here: far more than the 31 that took 4**k past 2**62.
    from arena.allocators import exact as exact_module

    chunks: list[int] = []

    def instant(tables: object, state: object, capacity: int, rules: int, limit: int, chunk: int) -> int:
        chunks.append(chunk)
        return exact_module.core.FOUND if len(chunks) >= 200 else exact_module.core.RUNNING

    buffers = tuple(Buffer(name=f"b{i}", size=16 * (i + 1), first=i, last=i + 2) for i in range(6))
    problem = Problem(buffers=buffers)
    setup = exact_module._setup(problem)
    probe = exact_module._Probe(setup, capacity=10**6, options=ExactOptions())
    probe.limit = 2**62
    monkeypatch.setattr(exact_module.core, "run_search", instant)
    probe.run(deadline=float("inf"))
    assert len(chunks) == 200
    assert max(chunks) < 2**63
