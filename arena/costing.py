"""``arena cost``: a model and a target name in, a cost estimate out.

Looks the target up in the catalog, applies overrides, and hands its core, clock and power
figures to :func:`arena.cost.estimate.estimate_cost`; the CLI only renders the result.
"""

from __future__ import annotations

from pathlib import Path

from arena.cost.estimate import CostEstimate, estimate_cost
from arena.errors import ArenaError
from arena.model.reader import read_model
from arena.model.records import Model
from arena.targets import get_target, with_overrides


def cost_model_on_target(
    model: Model | str | Path,
    target_name: str,
    *,
    kernels: str | None = None,
    clock_mhz: float | None = None,
    rate_hz: float | None = None,
) -> CostEstimate:
    """Estimate one inference of ``model`` on the catalog target ``target_name``.

    Raises
    ------
    ArenaError
        For an unknown target, a target without a clock (and no ``clock_mhz``), or a core and
        kernel library the cycle model has no coefficients for.
    """
    target = get_target(target_name)
    if clock_mhz is not None:
        target = with_overrides(target, clock_hz=round(clock_mhz * 1e6))
    if target.clock_hz is None:
        raise ArenaError(f"target {target.name!r} has no clock in the catalog; give --clock-mhz")
    loaded = model if isinstance(model, Model) else read_model(model)
    return estimate_cost(
        loaded,
        core=target.core,
        kernels=kernels or target.default_kernels,
        clock_hz=target.clock_hz,
        active_power_mw=target.active_power_mw,
        sleep_power_uw=target.sleep_power_uw,
        rate_hz=rate_hz,
    )
