"""Problem, buffer and lower-bound facts, with expectations worked by hand."""

from __future__ import annotations

import pytest

from arena.allocators.problem import Buffer, Problem, peak_of
from arena.errors import ProblemError


def test_buffer_rejects_impossible_values() -> None:
    with pytest.raises(ProblemError, match="negative"):
        Buffer(name="a", size=-16, first=0, last=0)
    with pytest.raises(ProblemError, match="after last"):
        Buffer(name="a", size=16, first=3, last=2)
    with pytest.raises(ProblemError, match="power of two"):
        Buffer(name="a", size=16, first=0, last=0, alignment=12)
    with pytest.raises(ProblemError, match="fixed offset"):
        Buffer(name="a", size=16, first=0, last=0, fixed_offset=-1)


def test_lower_bound_is_busiest_step() -> None:
    # a [0..2] 10 B, b [1..1] 20 B, c [2..4] 5 B, d [4..4] 100 B:
    # step 0: 10, step 1: 30, step 2: 15, step 3: 5, step 4: 105 -> bound 105 at step 4.
    problem = Problem(
        buffers=(
            Buffer(name="a", size=10, first=0, last=2),
            Buffer(name="b", size=20, first=1, last=1),
            Buffer(name="c", size=5, first=2, last=4),
            Buffer(name="d", size=100, first=4, last=4),
        )
    )
    assert problem.lower_bound_bytes() == 105
    assert problem.peak_step() == 4


def test_lower_bound_counts_unused_buffers_at_step_minus_one() -> None:
    # TFLM keeps unreferenced tensors at [-1..-1]; two of them (16 + 32 B) share step -1.
    problem = Problem(
        buffers=(
            Buffer(name="u1", size=16, first=-1, last=-1),
            Buffer(name="u2", size=32, first=-1, last=-1),
            Buffer(name="x", size=40, first=0, last=0),
        )
    )
    assert problem.lower_bound_bytes() == 48
    assert problem.peak_step() == -1


def test_empty_problem() -> None:
    problem = Problem(buffers=())
    assert problem.lower_bound_bytes() == 0
    assert problem.peak_step() is None
    assert peak_of(problem, []) == 0


def test_peak_of_checks_length() -> None:
    problem = Problem(buffers=(Buffer(name="a", size=16, first=0, last=0),))
    with pytest.raises(ProblemError):
        peak_of(problem, [0, 16])
    assert peak_of(problem, [48]) == 64


def test_columns_are_read_only() -> None:
    problem = Problem(buffers=(Buffer(name="a", size=16, first=0, last=0),))
    with pytest.raises(ValueError):
        problem.sizes[0] = 1
