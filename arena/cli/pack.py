"""``arena pack``: options and exit code; the work is in :mod:`arena.commands.pack`."""

from __future__ import annotations

from pathlib import Path

import click

from arena.cli.group import EXIT_OK, EXIT_VERDICT, cli
from arena.cli.options import (
    JSON_OPTION,
    SIZE,
    TIME_LIMIT_OPTION,
    Role,
    allocator_option,
)


@cli.command("pack")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@allocator_option(Role.DEPLOY, "How to place the buffers.")
@click.option(
    "--capacity",
    type=SIZE,
    help="Arena bytes available (e.g. 1MB, 1048576); exit 1 if the plan does not fit.",
)
@TIME_LIMIT_OPTION
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the solution CSV (input columns plus offset) here, atomically.",
)
@JSON_OPTION
@click.pass_context
def pack_command(
    ctx: click.Context,
    problem: Path,
    allocator: str,
    capacity: int | None,
    time_limit: float | None,
    output: Path | None,
    as_json: bool,
) -> None:
    """Pack a raw problem: a MiniMalloc CSV of buffers, no model needed.

    PROBLEM has the header id,lower,upper,size with one buffer per row, live in the half-open
    step interval [lower, upper). Sizes: KB = KiB = 1024 bytes, MB = MiB = 1024 KiB. Exits 0
    when the plan is valid (and fits --capacity), 1 when it does not fit, 2 on bad input.
    """
    from arena._io import write_atomic
    from arena.allocators.minimalloc_csv import render_solution_csv
    from arena.commands.pack import pack_file
    from arena.render import pack as report_pack

    result = pack_file(problem, allocator=allocator, capacity=capacity, time_limit_seconds=time_limit)
    if output is not None:
        write_atomic(output, render_solution_csv(result.problem, result.plan))
    renderer = report_pack.render_pack_json if as_json else report_pack.render_pack_text
    click.echo(renderer(result), nl=False)
    ctx.exit(EXIT_OK if result.ok else EXIT_VERDICT)
