"""``arena cost``: options and exit code; the work is in :mod:`arena.commands.cost`."""

from __future__ import annotations

from pathlib import Path

import click

from arena.cli.group import EXIT_OK, EXIT_VERDICT, cli
from arena.cli.options import (
    CLOCK_OPTION,
    JSON_OPTION,
    KERNELS_OPTION,
    TARGET_OPTION,
)


@cli.command("cost")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@TARGET_OPTION
@KERNELS_OPTION
@CLOCK_OPTION
@click.option(
    "--rate",
    type=click.FloatRange(min=0),
    metavar="HZ",
    help="Inferences per second, for the average power of a duty cycle (exit 1 if unreachable).",
)
@JSON_OPTION
@click.pass_context
def cost_command(
    ctx: click.Context,
    model: Path,
    target_name: str,
    kernels: str | None,
    clock_mhz: float | None,
    rate: float | None,
    as_json: bool,
) -> None:
    """Estimate cycles, latency and energy per inference of MODEL on a target.

    Per layer: MACs, cycles and share of time; totals: MACs, cycles, latency (ms), energy (uJ),
    inferences per second and, with --rate, average power including sleep. The cycle model is
    fitted to MLPerf Tiny measurements (docs/cost-model.md gives its error).
    """
    from arena.commands.cost import cost_model_on_target
    from arena.render.cost import render_cost_json, render_cost_text

    estimate = cost_model_on_target(model, target_name, kernels=kernels, clock_mhz=clock_mhz, rate_hz=rate)
    click.echo((render_cost_json if as_json else render_cost_text)(estimate), nl=False)
    ctx.exit(EXIT_OK if estimate.ok else EXIT_VERDICT)
