"""``arena diff OLD NEW``: the CI regression gate between two versions of a model."""

from __future__ import annotations

from pathlib import Path

import click

from arena.cli.group import EXIT_OK, EXIT_VERDICT, cli
from arena.cli.options import JSON_OPTION, KERNELS_OPTION, Role, allocator_option, choose_target


@cli.command("diff")
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--target", "target_name", metavar="NAME", help="Size head + tail and cost both for this target.")
@KERNELS_OPTION
@allocator_option(Role.DEPLOY, "Plan both models with this allocator.")
@click.option(
    "--max-arena-increase",
    metavar="PCT",
    help="Exit 1 if the arena (total with --target, else head) grows by more than this, e.g. 3%.",
)
@click.option("--max-latency-increase", metavar="PCT", help="Exit 1 if latency grows by more than this, e.g. 5%.")
@JSON_OPTION
@click.pass_context
def diff_command(
    ctx: click.Context,
    old: Path,
    new: Path,
    target_name: str | None,
    kernels: str | None,
    allocator: str,
    max_arena_increase: str | None,
    max_latency_increase: str | None,
    as_json: bool,
) -> None:
    """Compare OLD and NEW: arena head/tail/total, flash, MACs, latency and energy.

    Exits 1 when a gated figure grows past its threshold, 0 otherwise, 2 on bad input.
    Latency and energy need a --target with a cycle model.
    """
    import json

    from arena.commands.diff import diff_models, parse_percent
    from arena.render.diff import diff_document, render_diff_text

    arena_limit = None if max_arena_increase is None else parse_percent(max_arena_increase, "--max-arena-increase")
    latency_limit = (
        None if max_latency_increase is None else parse_percent(max_latency_increase, "--max-latency-increase")
    )
    target = None if target_name is None else choose_target(target_name)
    report = diff_models(
        old,
        new,
        target=target,
        kernels=kernels,
        allocator=allocator,
        max_arena_increase=arena_limit,
        max_latency_increase=latency_limit,
    )
    if as_json:
        click.echo(json.dumps(diff_document(report), indent=2))
    else:
        click.echo(render_diff_text(report), nl=False)
    ctx.exit(EXIT_OK if report.ok else EXIT_VERDICT)
