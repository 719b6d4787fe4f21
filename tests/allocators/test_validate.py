"""The validator finds every broken rule, naming buffers, steps and bytes."""

from __future__ import annotations

from arena.allocators.problem import Buffer, Plan, PlanStatus, Problem
from arena.allocators.validate import ViolationKind, validate_plan


def _plan(offsets: tuple[int, ...], peak: int) -> Plan:
    return Plan(offsets=offsets, peak_bytes=peak, allocator="hand", status=PlanStatus.HEURISTIC, lower_bound_bytes=0)


PROBLEM = Problem(
    buffers=(
        Buffer(name="a", size=32, first=0, last=2, alignment=16),
        Buffer(name="b", size=16, first=2, last=3, alignment=16),
        Buffer(name="c", size=16, first=4, last=5, alignment=16),
        Buffer(name="f", size=16, first=0, last=5, alignment=16, fixed_offset=64),
    )
)


def test_valid_plan_has_no_violations() -> None:
    # a [0,32) and b [32,48) share step 2 but not bytes; c reuses a's bytes after a died.
    report = validate_plan(PROBLEM, _plan((0, 32, 0, 64), 80))
    assert report.ok, report.violations


def test_overlap_names_both_buffers_steps_and_bytes() -> None:
    # b at 16 overlaps a's [16,32) at step 2, the only step both are live.
    report = validate_plan(PROBLEM, _plan((0, 16, 0, 64), 80))
    assert not report.ok
    [violation] = report.violations
    assert violation.kind is ViolationKind.OVERLAP
    assert violation.buffers == (0, 1)
    assert violation.steps == (2, 2)
    assert violation.byte_range == (16, 32)


def test_every_violation_is_reported() -> None:
    # b misaligned (8) and overlapping a; f moved; c negative; the peak claim is wrong.
    report = validate_plan(PROBLEM, _plan((0, 8, -16, 48), 1000))
    kinds = sorted(str(v.kind) for v in report.violations)
    assert kinds == sorted(["misaligned", "overlap", "fixed-moved", "negative-offset", "peak-mismatch"])


def test_capacity_and_length() -> None:
    tight = Problem(buffers=PROBLEM.buffers, capacity=64)
    report = validate_plan(tight, _plan((0, 32, 0, 64), 80))
    assert [str(v.kind) for v in report.violations] == ["over-capacity"]
    report = validate_plan(PROBLEM, _plan((0,), 32))
    assert [str(v.kind) for v in report.violations] == ["length"]
