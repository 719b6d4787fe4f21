"""``arena check``: options and exit code; the work is in :mod:`arena.commands.check`."""

from __future__ import annotations

from pathlib import Path

import click

from arena.allocators import DEVICE_ALLOCATOR
from arena.cli.group import EXIT_OK, EXIT_VERDICT, cli
from arena.cli.options import FLASH_OPTION, JSON_OPTION, KERNELS_OPTION, SRAM_OPTION, TARGET_OPTION, allocator_option


@cli.command("check")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@TARGET_OPTION
@click.option(
    "--budget",
    "budgets",
    multiple=True,
    metavar="SIZE",
    help="Arena budget to compare with (repeatable): 100KB, 100KiB, 0.25MB or 102400; KB = KiB = 1024 B.",
)
@click.option("--active-budget", metavar="SIZE", help="The budget that decides the exit code (default: the first).")
@allocator_option(
    DEVICE_ALLOCATOR, "Plan to size: tflm is what the device does unless you embed another plan (arena export)."
)
@KERNELS_OPTION
@SRAM_OPTION
@FLASH_OPTION
@JSON_OPTION
@click.pass_context
def check_command(
    ctx: click.Context,
    model: Path,
    target_name: str,
    budgets: tuple[str, ...],
    active_budget: str | None,
    allocator: str,
    kernels: str | None,
    sram: str | None,
    flash: str | None,
    as_json: bool,
) -> None:
    """Check MODEL's whole arena against SRAM budgets, and the model against flash.

    Prints one line per budget with the required, available and excess bytes. Without --budget
    the target's SRAM is the budget. Exits 0 when the active budget (and flash) hold, 1 when
    they do not, 2 on bad input. Sizes: KB = KiB = 1024 bytes, MB = MiB = 1024 KiB, as
    embedded datasheets use.
    """
    import json

    from arena.commands.check import check_model
    from arena.render.check import budget_document, render_budget_text
    from arena.targets import choose_target
    from arena.units import parse_size

    target = choose_target(target_name, sram=sram, flash=flash)
    budget_bytes = [parse_size(b, "--budget") for b in budgets]
    active = None if active_budget is None else parse_size(active_budget, "--active-budget")
    report, result = check_model(
        model, target=target, budgets=budget_bytes, active_budget=active, allocator=allocator, kernels=kernels
    )
    if as_json:
        click.echo(json.dumps(budget_document(report, result), indent=2))
    else:
        click.echo(render_budget_text(report, result), nl=False)
    ctx.exit(EXIT_OK if report.ok else EXIT_VERDICT)
