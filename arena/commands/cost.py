"""``arena cost``: cycles, latency and energy of one inference of a model on a catalog target."""

from __future__ import annotations

from pathlib import Path

from arena.cost.estimate import CostEstimate
from arena.cost.on_target import estimate_on_target
from arena.model.reader import read_model
from arena.model.records import Model
from arena.targets import choose_target


def cost_model_on_target(
    model: Model | str | Path,
    target_name: str,
    *,
    kernels: str | None = None,
    clock_mhz: float | None = None,
    rate_hz: float | None = None,
) -> CostEstimate:
    """``arena cost``: read the model, choose the target (with a clock override), estimate."""
    target = choose_target(target_name, clock_mhz=clock_mhz)
    loaded = model if isinstance(model, Model) else read_model(model)
    return estimate_on_target(loaded, target, kernels=kernels, rate_hz=rate_hz)
