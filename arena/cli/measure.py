"""``arena measure``: options and exit code; the work is in :mod:`arena.commands.measure`."""

from __future__ import annotations

from pathlib import Path

import click

from arena.cli.group import EXIT_OK, EXIT_VERDICT, cli
from arena.cli.options import (
    JOBS_OPTION,
    JSON_OPTION,
    KERNELS_OPTION,
    SOURCES_OPTION,
    TARGET_OPTION,
    progress_line,
    sources_or_default,
)


@cli.command("measure")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@TARGET_OPTION
@KERNELS_OPTION
@SOURCES_OPTION
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random inputs.")
@click.option(
    "--compare-outputs/--no-compare-outputs",
    default=True,
    show_default=True,
    help="Also run the seeded inputs through the tflite-micro wheel and compare the outputs.",
)
@JOBS_OPTION
@JSON_OPTION
@click.pass_context
def measure_command(
    ctx: click.Context,
    model: Path,
    target_name: str,
    kernels: str | None,
    sources: Path | None,
    seed: int,
    jobs: int,
    compare_outputs: bool,
    as_json: bool,
) -> None:
    """Measure MODEL with real TFLM built for the target's Cortex-M core and run in QEMU.

    Builds TFLM 90b983c2 (CMSIS-NN or reference kernels) once per core with arm-none-eabi-gcc,
    then prints the measured head, tail and minimum arena beside arena's 32-bit prediction, and
    instructions per op (docs/on-target.md). Needs the Debian packages gcc-arm-none-eabi,
    libnewlib-arm-none-eabi, libstdc++-arm-none-eabi-newlib and qemu-system-arm. Exit 0 when the
    prediction equals the measurement and the outputs equal the tflite-micro wheel's, 1 otherwise.
    """
    from arena.commands.measure import measure
    from arena.render.measure import render_measure_json, render_measure_text

    result = measure(
        model,
        target_name=target_name,
        kernels=kernels,
        sources=sources_or_default(sources),
        seed=seed,
        jobs=jobs,
        compare_outputs=compare_outputs,
        progress=progress_line,
    )
    click.echo((render_measure_json if as_json else render_measure_text)(result), nl=False)
    ctx.exit(EXIT_OK if result.ok else EXIT_VERDICT)
