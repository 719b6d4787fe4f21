"""``arena diff OLD NEW``: what a model change costs in arena, flash, MACs, latency and energy.

The regression gate firmware CI wants: plan both models the same way (same target, kernels,
allocator), subtract, and flag a metric whose relative increase passes its threshold. TFLM's
own memory threshold test (``tensorflow/lite/micro/memory_arena_threshold_test.cc``) fails a
build when the arena grows past an expected figure; this compares two models instead of a
model and a constant, so the expected figure never goes stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arena.allocators import BEST_ALLOCATOR
from arena.cost.macs import count_model
from arena.cost.on_target import cost_beside_plan
from arena.errors import ArenaError
from arena.plan.pipeline import PlanResult, plan_model
from arena.targets import Target


@dataclass(frozen=True, slots=True, kw_only=True)
class Metric:
    """One figure of both models; ``limit`` is the allowed relative increase (None: not gated)."""

    name: str
    unit: str
    old: float | None
    new: float | None
    limit: float | None = None

    @property
    def delta(self) -> float | None:
        """New minus old, when both are known."""
        return None if self.old is None or self.new is None else self.new - self.old

    @property
    def relative(self) -> float | None:
        """The change as a fraction of the old figure (None when unknown or the old is 0)."""
        delta = self.delta
        return None if delta is None or not self.old else delta / self.old

    @property
    def exceeded(self) -> bool:
        """True when gated and the increase is past the limit (from 0 to more counts as past)."""
        if self.limit is None or self.delta is None or self.delta <= 0:
            return False
        relative = self.relative
        return relative is None or relative > self.limit


@dataclass(frozen=True, slots=True, kw_only=True)
class DiffReport:
    """Both models' figures, metric by metric."""

    old_model: str
    new_model: str
    target: str | None
    allocator: str
    metrics: tuple[Metric, ...]

    @property
    def ok(self) -> bool:
        """True when no gated metric grew past its threshold."""
        return not any(m.exceeded for m in self.metrics)


def parse_percent(text: str, what: str) -> float:
    """``3%`` or ``0.03`` -> 0.03; anything else is one-line bad input.

    >>> parse_percent("3%", "--max-arena-increase"), parse_percent("0.5", "x")
    (0.03, 0.5)
    """
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ArenaError(f"{what} {text!r}: not a percentage (write 3% or 0.03)") from None
    if not value >= 0 or value == float("inf"):
        raise ArenaError(f"{what} {text!r}: must be a non-negative percentage")
    return value


def _figures(result: PlanResult, target: Target | None, kernels: str | None) -> dict[str, float | None]:
    sizing = result.sizing
    cost = cost_beside_plan(result.model, target, kernels)
    counts = count_model(result.model)
    return {
        "arena head": result.plan.peak_bytes,
        "arena tail": None if sizing is None else sizing.tail_bytes,
        "arena total": None if sizing is None else sizing.total_bytes,
        "flash (model)": result.model.size_bytes,
        "MACs": counts.macs,
        "latency": None if cost is None else cost.latency_ms,
        "energy": None if cost is None else cost.energy_uj,
    }


_UNITS = {
    "arena head": "B",
    "arena tail": "B",
    "arena total": "B",
    "flash (model)": "B",
    "MACs": "",
    "latency": "ms",
    "energy": "uJ",
}


def diff_models(
    old: str | Path,
    new: str | Path,
    *,
    target: Target | None = None,
    kernels: str | None = None,
    allocator: str = BEST_ALLOCATOR,
    max_arena_increase: float | None = None,
    max_latency_increase: float | None = None,
) -> DiffReport:
    """Plan and cost both models alike and compare them; the arena gate is on the total with a
    target (what ``kTensorArenaSize`` must hold), else on the head."""
    results = [
        plan_model(path, allocator=allocator, kernels=kernels, target=target, allow_unsupported=True)
        for path in (old, new)
    ]
    before, after = (_figures(r, target, kernels) for r in results)
    gated_arena = "arena total" if target is not None else "arena head"
    limits = {gated_arena: max_arena_increase, "latency": max_latency_increase}
    metrics = tuple(
        Metric(name=name, unit=_UNITS[name], old=before[name], new=after[name], limit=limits.get(name))
        for name in before
    )
    return DiffReport(
        old_model=results[0].model.display_name,
        new_model=results[1].model.display_name,
        target=None if target is None else target.name,
        allocator=allocator,
        metrics=metrics,
    )
