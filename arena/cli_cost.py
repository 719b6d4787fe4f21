"""``arena cost`` with a software stack: registered over the older command at the end of arena/cli.py.

Kept apart from arena/cli.py while the package is restructured (issue 12); the lead moves it into
arena/cli/. Imports stay light: the cost model loads inside the command.
"""

from __future__ import annotations

from pathlib import Path

import click

from arena.cli import _CLOCK_OPTION, _JSON_OPTION, _KERNELS_OPTION, _TARGET_OPTION, EXIT_OK, EXIT_VERDICT


@click.command("cost")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@_TARGET_OPTION
@click.option(
    "--stack",
    metavar="NAME",
    help="Inference engine and version, e.g. tflm-cmsis-nn (default on DSP/Helium cores), tflm-reference,"
    " x-cube-ai-9.0, plumerai-2023.05, bosch-hale-1.0.175 (docs/cost-model.md lists them all).",
)
@_KERNELS_OPTION
@_CLOCK_OPTION
@click.option(
    "--rate",
    type=click.FloatRange(min=0),
    metavar="HZ",
    help="Inferences per second, for the average power of a duty cycle (exit 1 if unreachable).",
)
@_JSON_OPTION
@click.pass_context
def cost_command(
    ctx: click.Context,
    model: Path,
    target_name: str,
    stack: str | None,
    kernels: str | None,
    clock_mhz: float | None,
    rate: float | None,
    as_json: bool,
) -> None:
    """Estimate cycles, latency and energy per inference of MODEL on a target and software stack.

    Per layer: MACs, cycles, latency, energy and share of time; totals with an uncertainty band
    from the leave-one-board-out fit to 204 measured MLPerf Tiny rows (docs/cost-model.md), the
    stack and the measured versions behind it, and where the board's power figure comes from.
    """
    from arena.cost.ontarget import estimate_for_target
    from arena.cost.report import render_stack_cost_json, render_stack_cost_text
    from arena.model.reader import read_model
    from arena.targets import choose_target

    target = choose_target(target_name, clock_mhz=clock_mhz)
    estimate = estimate_for_target(read_model(model), target, stack=stack, kernels=kernels, rate_hz=rate)
    click.echo((render_stack_cost_json if as_json else render_stack_cost_text)(estimate), nl=False)
    ctx.exit(EXIT_OK if estimate.ok else EXIT_VERDICT)
