"""``arena check``: options and exit code; the work is in :mod:`arena.commands.check`."""

from __future__ import annotations

from pathlib import Path

import click

from arena.cli.group import EXIT_OK, EXIT_VERDICT, cli
from arena.cli.options import (
    BATCH_OPTION,
    FLASH_OPTION,
    JSON_OPTION,
    KERNELS_OPTION,
    SIZE,
    SRAM_OPTION,
    TARGET_OPTION,
    Role,
    allocator_option,
    budget_option,
    choose_target,
    report_option,
)


@cli.command("check")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@TARGET_OPTION
@budget_option(
    "Arena budget to compare with (repeatable): 100KB, 100KiB, 0.25MB or 102400; KB = KiB = 1024 B.", multiple=True
)
@click.option("--active-budget", type=SIZE, help="The budget that decides the exit code (default: the first).")
@allocator_option(
    Role.DEVICE, "Plan to size: tflm is what the device does unless you embed another plan (arena export)."
)
@KERNELS_OPTION
@SRAM_OPTION
@FLASH_OPTION
@report_option()
@BATCH_OPTION
@JSON_OPTION
@click.pass_context
def check_command(
    ctx: click.Context,
    model: Path,
    target_name: str,
    budgets: tuple[int, ...],
    active_budget: int | None,
    allocator: str,
    kernels: str | None,
    sram: int | None,
    flash: int | None,
    report_path: Path | None,
    batches: tuple[int, ...],
    as_json: bool,
) -> None:
    """Check MODEL's whole arena against SRAM budgets, and the model against flash.

    Prints one line per budget with the required, available and excess bytes. Without --budget
    the target's SRAM is the budget. Exits 0 when the active budget (and flash) hold, 1 when
    they do not, 2 on bad input. Sizes: KB = KiB = 1024 bytes, MB = MiB = 1024 KiB, as
    embedded datasheets use.
    """
    import json

    from arena.cli.outputs import write_report
    from arena.commands.check import check_model
    from arena.render.check import budget_document, render_budget_text

    target = choose_target(target_name, sram=sram, flash=flash)
    report, result = check_model(
        model, target=target, budgets=list(budgets), active_budget=active_budget, allocator=allocator, kernels=kernels
    )
    if report_path is not None:
        write_report(report_path, result, None, budgets)
    batch_rows = None
    if batches:
        from arena.commands.batch import batch_table

        batch_rows = batch_table(result, batches, allocator=allocator)
    if as_json:
        document = budget_document(report, result)
        if batch_rows is not None:
            from arena.render.batch import batch_document

            document["batches"] = batch_document(batch_rows)
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(render_budget_text(report, result), nl=False)
        if batch_rows is not None:
            from arena.render.batch import render_batch_text

            click.echo()
            click.echo(render_batch_text(batch_rows), nl=False)
    ctx.exit(EXIT_OK if report.ok else EXIT_VERDICT)
