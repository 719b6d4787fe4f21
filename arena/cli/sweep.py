"""``arena sweep``: options and exit code; the work is in :mod:`arena.commands.sweep`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from arena.cli.group import cli
from arena.cli.options import JSON_OPTION, SIZE, budget_option


@cli.command("sweep")
@click.argument("models", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--target", "targets", multiple=True, required=True, metavar="NAME", help="Target (repeatable).")
@budget_option("Arena budget to flag (repeatable).", multiple=True)
@click.option("--active-budget", type=SIZE, help="Budget a variant must meet to be accepted.")
@click.option(
    "--accuracy",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV with columns model,accuracy: the frontier is then memory vs accuracy.",
)
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the rows as CSV.")
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes (default: one per core).")
@JSON_OPTION
def sweep_command(
    models: tuple[Path, ...],
    targets: tuple[str, ...],
    budgets: tuple[int, ...],
    active_budget: int | None,
    accuracy: Path | None,
    csv_out: Path | None,
    jobs: int | None,
    as_json: bool,
) -> None:
    """Size and cost every model variant on every target, flag budgets, find the frontier.

    MODELS are .tflite files or folders (every .tflite in them). Per model and target: the
    minimum arena with TFLM's plan and with arena's best plan, flash, MACs, latency, energy, a
    violates flag per --budget and whether it is accepted (within --active-budget). The Pareto
    frontier of accepted variants (memory vs latency, or vs accuracy with --accuracy) is listed
    per target; an empty one is reported, not an error. Runs models in parallel.
    """
    import json

    from arena._io import write_atomic
    from arena.commands.sweep import expand_models, read_accuracy, run_sweep
    from arena.render.sweep import render_sweep_csv, render_sweep_text, sweep_document
    from arena.targets import get_target

    for name in targets:
        get_target(name)
    paths = expand_models(models)
    budget_bytes = sorted(set(budgets))
    active = active_budget
    scores = None if accuracy is None else read_accuracy(accuracy)
    with click.progressbar(length=len(paths) * len(targets), label="planning", file=sys.stderr) as bar:
        rows = run_sweep(paths, targets, budget_bytes, active, accuracy=scores, jobs=jobs, progress=bar.update)
    if csv_out is not None:
        write_atomic(csv_out, render_sweep_csv(rows, budget_bytes))
    if as_json:
        click.echo(json.dumps(sweep_document(rows, budget_bytes, active), indent=2))
    else:
        click.echo(render_sweep_text(rows, budget_bytes), nl=False)
