"""``arena plan``: options and exit code; the work is in :mod:`arena.commands.plan`."""

from __future__ import annotations

from pathlib import Path

import click

from arena.cli.group import EXIT_OK, EXIT_VERDICT, cli
from arena.cli.options import (
    BATCH_OPTION,
    CLOCK_OPTION,
    FLASH_OPTION,
    JSON_OPTION,
    KERNELS_OPTION,
    OPTIONAL_TARGET_OPTION,
    SRAM_OPTION,
    TIME_LIMIT_OPTION,
    Role,
    allocator_option,
    choose_target,
    report_option,
)


@cli.command("plan")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@allocator_option(Role.DEPLOY, "How to place the buffers (TFLM's own figure is always shown beside another plan).")
@TIME_LIMIT_OPTION
@KERNELS_OPTION
@OPTIONAL_TARGET_OPTION
@SRAM_OPTION
@FLASH_OPTION
@CLOCK_OPTION
@click.option("--buffers", is_flag=True, help="Also print one row per planned buffer (lifetime, size, offset).")
@click.option(
    "--map",
    "memory_map",
    is_flag=False,
    flag_value="-",
    default=None,
    metavar="[FILE]",
    help="Also draw the plan: alone, as text (one row per op step, offsets across); with FILE, as an SVG"
    " picture written there (offset against step, one rectangle per buffer, TFLM's plan beside).",
)
@report_option()
@BATCH_OPTION
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
    sram: int | None,
    flash: int | None,
    clock_mhz: float | None,
    buffers: bool,
    memory_map: str | None,
    report_path: Path | None,
    batches: tuple[int, ...],
    as_json: bool,
    allow_unsupported: bool,
) -> None:
    """Plan MODEL's tensor arena as TFLM does and report the head size.

    The head is the planned, non-persistent part of the arena: every activation tensor and
    kernel scratch buffer at its offset, 16-byte aligned, exactly as TFLM's GreedyMemoryPlanner
    lays it out. The lower bound is the most bytes live at any one op step: no plan can be
    smaller. Exits 1 if the plan fails the independent validator (a bug worth reporting).
    """
    from arena.cli.outputs import write_map, write_report
    from arena.commands.plan import plan_report
    from arena.render import plan as render

    target = None
    if target_name is not None:
        target = choose_target(target_name, sram=sram, flash=flash, clock_mhz=clock_mhz)
    elif sram is not None or flash is not None or clock_mhz is not None:
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
    batch_rows = None
    if batches:
        from arena.commands.batch import batch_table

        batch_rows = batch_table(result, batches, allocator=allocator, time_limit_seconds=time_limit)
    for warning in result.table.warnings:
        click.echo(f"arena: warning: {warning}", err=True)
    if memory_map not in (None, "-"):
        write_map(Path(memory_map), result)
    if report_path is not None:
        write_report(report_path, result, report.cost)
    if as_json:
        click.echo(render.render_plan_json(result, report.cost, batch_rows), nl=False)
    else:
        click.echo(render.render_plan_text(result, report.cost), nl=False)
        if batch_rows is not None:
            from arena.render.batch import render_batch_text

            click.echo()
            click.echo(render_batch_text(batch_rows), nl=False)
        if buffers:
            click.echo()
            click.echo(render.render_buffer_table(result), nl=False)
        if memory_map == "-":
            click.echo()
            click.echo(render.render_memory_map(result), nl=False)
    ctx.exit(EXIT_OK if report.ok else EXIT_VERDICT)
