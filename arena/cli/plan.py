"""``arena plan``: options and exit code; the work is in :mod:`arena.commands.plan`."""

from __future__ import annotations

from pathlib import Path

import click

from arena.allocators import BEST_ALLOCATOR
from arena.cli.group import EXIT_OK, EXIT_VERDICT, cli
from arena.cli.options import (
    ALLOCATOR_CHOICES_HELP,
    CLOCK_OPTION,
    FLASH_OPTION,
    JSON_OPTION,
    KERNELS_CHOICES_HELP,
    SRAM_OPTION,
    TIME_LIMIT_OPTION,
    allocator_option,
)
from arena.kernels import DEFAULT_KERNELS, KERNEL_FAMILIES


@cli.command("plan")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@allocator_option(
    BEST_ALLOCATOR,
    "How to place the buffers (TFLM's own figure is always shown beside another plan). " + ALLOCATOR_CHOICES_HELP,
)
@TIME_LIMIT_OPTION
@click.option(
    "--kernels",
    type=click.Choice(list(KERNEL_FAMILIES)),
    help="Kernel library the firmware links (decides scratch buffers and supported ops; default: the"
    f" target's, else {DEFAULT_KERNELS}). " + KERNELS_CHOICES_HELP,
)
@click.option(
    "--target",
    "target_name",
    metavar="NAME",
    help="Size the whole arena (head + tail) for this target from `arena targets`, e.g. nucleo-l4r5zi.",
)
@SRAM_OPTION
@FLASH_OPTION
@CLOCK_OPTION
@click.option("--buffers", is_flag=True, help="Also print one row per planned buffer (lifetime, size, offset).")
@click.option(
    "--map", "memory_map", is_flag=True, help="Also draw the plan: one row per op step, arena offsets across."
)
@JSON_OPTION
@click.option(
    "--allow-unsupported",
    is_flag=True,
    help="Plan ops the kernel library cannot run (without their scratch buffers) and warn, instead of failing.",
)
@click.pass_context
def plan_command(
    ctx: click.Context,
    model: Path,
    allocator: str,
    time_limit: float | None,
    kernels: str | None,
    target_name: str | None,
    sram: str | None,
    flash: str | None,
    clock_mhz: float | None,
    buffers: bool,
    memory_map: bool,
    as_json: bool,
    allow_unsupported: bool,
) -> None:
    """Plan MODEL's tensor arena as TFLM does and report the head size.

    The head is the planned, non-persistent part of the arena: every activation tensor and
    kernel scratch buffer at its offset, 16-byte aligned, exactly as TFLM's GreedyMemoryPlanner
    lays it out. The lower bound is the most bytes live at any one op step: no plan can be
    smaller. Exits 1 if the plan fails the independent validator (a bug worth reporting).
    """
    from arena.commands.plan import plan_report
    from arena.render import plan as render
    from arena.targets import choose_target

    target = None
    if target_name is not None:
        target = choose_target(target_name, sram=sram, flash=flash, clock_mhz=clock_mhz)
    elif sram or flash or clock_mhz:
        raise click.UsageError("--sram, --flash and --clock-mhz override a --target")
    report = plan_report(
        model,
        allocator=allocator,
        kernels=kernels,
        target=target,
        allow_unsupported=allow_unsupported,
        time_limit_seconds=time_limit,
    )
    result = report.result
    for warning in result.table.warnings:
        click.echo(f"arena: warning: {warning}", err=True)
    if as_json:
        click.echo(render.render_plan_json(result, report.cost), nl=False)
    else:
        click.echo(render.render_plan_text(result, report.cost), nl=False)
        if buffers:
            click.echo()
            click.echo(render.render_buffer_table(result), nl=False)
        if memory_map:
            click.echo()
            click.echo(render.render_memory_map(result), nl=False)
    ctx.exit(EXIT_OK if report.ok else EXIT_VERDICT)
