"""``arena sweep``: which model variants fit which boards, and which are worth keeping.

One row per (model, target) with the arena under TFLM's plan and under arena's best plan, flash,
MACs, latency and energy, a flag per budget, whether it is accepted (within the active budget),
and the Pareto frontier of accepted variants per target: memory against latency, and against
accuracy when a scores file is given. Rows are computed in parallel worker processes.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from arena.allocators import BEST_ALLOCATOR
from arena.errors import ArenaError


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepRow:
    """One model on one target; ``error`` set (and nothing else) when it could not be planned."""

    model: str
    target: str
    kernels: str | None = None
    arena_tflm_bytes: int | None = None
    arena_bytes: int | None = None
    flash_bytes: int | None = None
    macs: int | None = None
    latency_ms: float | None = None
    energy_uj: float | None = None
    accuracy: float | None = None
    violates: dict[int, bool] = field(default_factory=dict)
    accepted: bool = False
    on_frontier: bool = False
    error: str | None = None


def expand_models(arguments: Sequence[str | Path]) -> list[Path]:
    """Model paths from the command line; a directory means every ``.tflite`` in it."""
    paths: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found = sorted(path.glob("*.tflite"))
            if not found:
                raise ArenaError(f"{path}: folder has no .tflite files")
            paths.extend(found)
        else:
            paths.append(path)
    return paths


def read_accuracy(path: str | Path) -> dict[str, float]:
    """``model,accuracy`` rows keyed by file name and by stem (so either spelling matches)."""
    label = Path(path).name
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ArenaError(f"{label}: cannot read accuracy file ({error})") from error
    scores: dict[str, float] = {}
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        name, value = (row.get("model") or "").strip(), (row.get("accuracy") or "").strip()
        try:
            accuracy = float(value)
        except ValueError:
            raise ArenaError(f"{label}: line {line}: accuracy {value!r} is not a number") from None
        if not name:
            raise ArenaError(f"{label}: line {line}: empty model name (columns: model,accuracy)")
        scores[name] = accuracy
        scores[Path(name).stem] = accuracy
    return scores


def _row(task: tuple[str, str, tuple[int, ...], int | None]) -> SweepRow:
    """Worker: plan, size and cost one model on one target (runs in a child process)."""
    from arena.cost.on_target import estimate_on_target, has_cost_model
    from arena.model.reader import read_model
    from arena.plan.pipeline import plan_model
    from arena.targets import choose_target

    model_path, target_name, budgets, active = task
    name = Path(model_path).name
    try:
        target = choose_target(target_name)
        model = read_model(model_path)
        best = plan_model(model, allocator=BEST_ALLOCATOR, target=target)
        assert best.sizing is not None
        cost = estimate_on_target(model, target) if has_cost_model(target) else None
    except ArenaError as error:
        return SweepRow(model=name, target=target_name, error=str(error))
    arena = best.sizing.total_bytes
    return SweepRow(
        model=name,
        target=target_name,
        kernels=best.table.kernels,
        arena_tflm_bytes=best.sizing.tflm_total_bytes,
        arena_bytes=arena,
        flash_bytes=model.size_bytes,
        macs=None if cost is None else cost.macs,
        latency_ms=None if cost is None else cost.latency_ms,
        energy_uj=None if cost is None else cost.energy_uj,
        violates={b: arena > b for b in budgets},
        accepted=active is None or arena <= active,
    )


def _axis_value(row: SweepRow, axis: str) -> float:
    """Smaller is better on both axes: latency as is, accuracy negated; unknown counts as worst."""
    if axis == "accuracy":
        return -row.accuracy if row.accuracy is not None else math.inf
    return row.latency_ms if row.latency_ms is not None else math.inf


def _dominates(a: SweepRow, b: SweepRow, axis: str) -> bool:
    """a needs no more memory and is no worse on the axis than b, and is better on one of them."""
    assert a.arena_bytes is not None and b.arena_bytes is not None
    x, y = _axis_value(a, axis), _axis_value(b, axis)
    return a.arena_bytes <= b.arena_bytes and x <= y and (a.arena_bytes < b.arena_bytes or x < y)


def pareto(rows: Sequence[SweepRow], axis: str) -> list[SweepRow]:
    """Accepted rows that no other accepted row of the same target dominates (memory vs ``axis``)."""
    candidates = [r for r in rows if r.accepted and r.error is None]
    return [r for r in candidates if not any(_dominates(o, r, axis) for o in candidates if o.target == r.target)]


def run_sweep(
    models: Sequence[Path],
    targets: Sequence[str],
    budgets: Sequence[int],
    active_budget: int | None,
    *,
    accuracy: dict[str, float] | None = None,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[SweepRow]:
    """Every model on every target, in parallel; rows in (model, target) order."""
    tasks = [(str(m), t, tuple(budgets), active_budget) for m in models for t in targets]
    workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks)))
    rows: list[SweepRow] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for row in pool.map(_row, tasks):
            rows.append(row)
            if progress is not None:
                progress(1)
    if accuracy is not None:
        rows = [replace(r, accuracy=accuracy.get(r.model, accuracy.get(Path(r.model).stem))) for r in rows]
    axis = "accuracy" if accuracy is not None else "latency"
    front = {id(r) for r in pareto(rows, axis)}
    return [replace(r, on_frontier=id(r) in front) for r in rows]
