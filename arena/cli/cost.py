"""``arena cost``: options and exit code; the work is in :mod:`arena.commands.cost`."""

from __future__ import annotations

from pathlib import Path

import click

from arena.cli.group import EXIT_OK, EXIT_VERDICT, cli
from arena.cli.options import (
    CLOCK_OPTION,
    JOBS_OPTION,
    JSON_OPTION,
    KERNELS_OPTION,
    SOURCES_OPTION,
    TARGET_OPTION,
    progress_line,
    sources_or_default,
)


@cli.command("cost")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@TARGET_OPTION
@click.option(
    "--stack",
    metavar="NAME",
    help="Inference engine and version, e.g. tflm-cmsis-nn (default on DSP/Helium cores), tflm-reference,"
    " x-cube-ai-9.0, plumerai-2023.05, bosch-hale-1.0.175 (docs/cost-model.md lists them all).",
)
@KERNELS_OPTION
@CLOCK_OPTION
@click.option(
    "--rate",
    type=click.FloatRange(min=0),
    metavar="HZ",
    help="Inferences per second, for the average power of a duty cycle (exit 1 if unreachable).",
)
@click.option(
    "--measure",
    is_flag=True,
    help="Also run MODEL with real TFLM on the emulated core (QEMU) and show measured instructions per"
    " layer beside the predicted ones. Slow the first time per core: builds TFLM (5-20 minutes, cached).",
)
@SOURCES_OPTION
@JOBS_OPTION
@JSON_OPTION
@click.pass_context
def cost_command(
    ctx: click.Context,
    model: Path,
    target_name: str,
    stack: str | None,
    kernels: str | None,
    clock_mhz: float | None,
    rate: float | None,
    measure: bool,
    sources: Path | None,
    jobs: int,
    as_json: bool,
) -> None:
    """Estimate cycles, latency and energy per inference of MODEL on a target and software stack.

    Per layer: MACs, cycles, latency, energy and share of time; totals with an uncertainty band
    from the leave-one-board-out fit to 204 measured MLPerf Tiny rows (docs/cost-model.md), the
    stack and the measured versions behind it, and where the board's power figure comes from.
    Where a fit exists for the target's core and kernels, also the instructions per layer that
    TFLM 90b983c2 executes on the emulated core (instruction counts, not cycles); --measure counts
    them in QEMU (cores with a QEMU board: Cortex-M4, M7, M33, M55).
    """
    from arena.commands.cost import cost_report
    from arena.render.stack_cost import render_stack_cost_json, render_stack_cost_text

    report = cost_report(
        model,
        target_name,
        kernels=kernels,
        clock_mhz=clock_mhz,
        rate_hz=rate,
        stack=stack,
        measure=measure,
        sources=sources_or_default(sources) if measure else None,
        jobs=jobs,
        progress=progress_line,
    )
    click.echo((render_stack_cost_json if as_json else render_stack_cost_text)(report), nl=False)
    ctx.exit(EXIT_OK if report.estimate.ok else EXIT_VERDICT)
