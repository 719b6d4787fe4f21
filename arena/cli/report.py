"""``arena report MODEL -o report.html``: the self-contained HTML report of a plan."""

from __future__ import annotations

from pathlib import Path

import click

from arena.cli.group import cli
from arena.cli.options import (
    KERNELS_OPTION,
    OPTIONAL_TARGET_OPTION,
    SRAM_OPTION,
    Role,
    allocator_option,
    budget_option,
    choose_target,
)


@cli.command("report")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@OPTIONAL_TARGET_OPTION
@KERNELS_OPTION
@allocator_option(Role.DEPLOY, "Plan drawn (TFLM's is always drawn beside it).")
@budget_option("Budget drawn as a line (repeatable).", multiple=True)
@SRAM_OPTION
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="HTML file to write."
)
def report_command(
    model: Path,
    target_name: str | None,
    kernels: str | None,
    allocator: str,
    budgets: tuple[int, ...],
    sram: int | None,
    output: Path,
) -> None:
    """Write one HTML file (inline SVG and CSS, nothing fetched): layout, live bytes, tail, cost."""
    from arena._io import write_atomic
    from arena.commands.report import report_model
    from arena.render.report import render_report_html

    if sram is not None and target_name is None:
        raise click.UsageError("--sram overrides a --target")
    target = None if target_name is None else choose_target(target_name, sram=sram)
    data = report_model(model, target=target, kernels=kernels, allocator=allocator, budgets=budgets)
    write_atomic(output, render_report_html(data))
    click.echo(f"wrote {output}")
