"""TFLM greedy port: hand-traced cases of its ordering and tie-breaks, and properties."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from arena.allocators import ALLOCATORS, get_allocator
from arena.allocators.problem import Buffer, PlanStatus, Problem
from arena.allocators.tflm_greedy import placement_order, tflm_greedy
from arena.allocators.validate import validate_plan


def _buf(name: str, size: int, first: int, last: int, fixed: int | None = None) -> Buffer:
    return Buffer(
        name=name, size=size, first=first, last=last, alignment=16 if fixed is None else 1, fixed_offset=fixed
    )


def test_equal_sizes_place_the_later_added_first() -> None:
    # Three 16-byte buffers all live at step 0. TFLM reverses the add order before its stable
    # sort, so c goes first (offset 0), then b (16), then a (32).
    problem = Problem(buffers=(_buf("a", 16, 0, 0), _buf("b", 16, 0, 0), _buf("c", 16, 0, 0)))
    assert placement_order(problem) == [2, 1, 0]
    assert tflm_greedy(problem).offsets == (32, 16, 0)


def test_first_gap_that_fits_is_taken() -> None:
    # big [0..3] 64 B at 0. x [0..0] 32 B goes above it at 64. y [2..2] 16 B overlaps only big:
    # walk: big at 0 -> gap 0 - 0 < 16, candidate 64; end of list -> 64. z [0..0] 16 B overlaps
    # big and x: candidate 64 after big, next x at 64: gap 0 < 16, candidate 96 -> 96.
    problem = Problem(buffers=(_buf("big", 64, 0, 3), _buf("x", 32, 0, 0), _buf("y", 16, 2, 2), _buf("z", 16, 0, 0)))
    plan = tflm_greedy(problem)
    assert plan.offsets == (0, 64, 64, 96)
    assert plan.peak_bytes == 112


def test_gap_below_a_fixed_buffer_is_used() -> None:
    # Fixed f at 48 (16 B, steps 0..9) is placed first. The online ones go in reversed add
    # order (b, a; equal sizes keep it). b (32 B, step 1) fits below f at 0: the gap from
    # candidate 0 to f's offset 48 is >= 32. a (32 B, step 1) does not fit between b's end (32)
    # and f (gap 16), so it goes after f at 64.
    problem = Problem(buffers=(_buf("a", 32, 1, 1), _buf("b", 32, 1, 1), _buf("f", 16, 0, 9, fixed=48)))
    plan = tflm_greedy(problem)
    assert plan.offsets == (64, 0, 48)
    assert plan.peak_bytes == 96


def test_fixed_buffers_are_not_checked() -> None:
    # Two fixed buffers may overlap on purpose; the port keeps both where the model put them.
    problem = Problem(buffers=(_buf("f1", 32, 0, 1, fixed=0), _buf("f2", 32, 0, 1, fixed=16)))
    assert tflm_greedy(problem).offsets == (0, 16)


def test_zero_size_buffer_sits_at_the_first_candidate() -> None:
    # A 0-byte scratch request still gets an offset: with a 16 B buffer live at 0, the walk
    # finds gap 0 - 0 >= 0 at once and places it at 0 (TFLM's rule is gap >= size).
    problem = Problem(buffers=(_buf("a", 16, 0, 0), _buf("s", 0, 0, 0)))
    assert tflm_greedy(problem).offsets == (0, 0)


buffers = st.lists(
    st.tuples(st.integers(0, 8), st.integers(0, 12), st.integers(0, 5)),
    min_size=0,
    max_size=14,
).map(
    lambda rows: Problem(
        buffers=tuple(
            Buffer(name=f"b{i}", size=16 * s, first=f, last=f + d, alignment=16) for i, (s, f, d) in enumerate(rows)
        )
    )
)


@settings(max_examples=200, deadline=None)
@given(buffers)
def test_every_registered_allocator_gives_valid_plans(problem: Problem) -> None:
    for name in ALLOCATORS:
        plan = get_allocator(name)(problem)
        report = validate_plan(problem, plan)
        assert report.ok, (name, report.violations)
        # An allocator may prove a bound above max-load (exact does, by exhausting a search).
        assert plan.peak_bytes >= plan.lower_bound_bytes >= problem.lower_bound_bytes()
        assert (plan.status is PlanStatus.OPTIMAL) == (plan.peak_bytes == plan.lower_bound_bytes)
