"""``arena simulate``: options and exit code; the work is in :mod:`arena.commands.simulate`."""

from __future__ import annotations

from pathlib import Path

import click

from arena.cli.group import EXIT_OK, EXIT_VERDICT, cli
from arena.cli.options import (
    JOBS_OPTION,
    JSON_OPTION,
    KERNELS_OPTION,
    SIZE,
    SOURCES_OPTION,
    Role,
    allocator_option,
    choose_target,
    progress_line,
    sources_or_default,
)


@cli.command("simulate")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@allocator_option(Role.DEVICE, "Simulate this allocator's plan (not with --plan).")
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Simulate the plan in this file: the JSON `arena plan --json` prints, possibly hand-edited.",
)
@KERNELS_OPTION
@click.option("--allow-unsupported", is_flag=True, help="Simulate models with ops the kernel library cannot run.")
@click.option("--chart/--no-chart", default=True, show_default=True, help="Draw bytes live per op step.")
@click.option(
    "--execute",
    is_flag=True,
    help="Also run the plan embedded in the model in real TFLM and compare outputs bit for bit.",
)
@click.option(
    "--inputs",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --execute: input arrays (.npz keyed by input index or name); default seeded random.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for simulated data and random inputs.")
@click.option("--arena-size", type=SIZE, help="With --execute: arena bytes to give TFLM (default: predicted).")
@click.option(
    "--save-outputs",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --execute: write inputs and every run's outputs to this .npz.",
)
@click.option(
    "--on-target",
    "on_target",
    metavar="TARGET",
    help="With --execute: also export the plan for this target (`arena targets`) and run the exported header,"
    " arena source and model array in real TFLM built for its core (QEMU), outputs compared with the"
    " unmodified model on the same core. Needs the packages `arena measure` names.",
)
@SOURCES_OPTION
@JOBS_OPTION
@JSON_OPTION
@click.pass_context
def simulate_command(
    ctx: click.Context,
    model: Path,
    allocator: str,
    plan_file: Path | None,
    kernels: str | None,
    allow_unsupported: bool,
    chart: bool,
    execute: bool,
    inputs: Path | None,
    seed: int,
    arena_size: int | None,
    save_outputs: Path | None,
    on_target: str | None,
    sources: Path | None,
    jobs: int,
    as_json: bool,
) -> None:
    """Run a plan op by op in one arena buffer and prove no live tensor is overwritten.

    The simulator follows the model's own op order (subgraphs included), writes distinct data
    for every tensor and scratch buffer at its planned offset and checks each tensor at every
    read. With --execute the plan is embedded as OfflineMemoryAllocation metadata and run in
    real TFLM (tflite-micro), outputs compared bit for bit with the unmodified model and with
    ai-edge-litert. With --on-target the files `arena export` writes for that target run on
    its emulated core (TFLM + CMSIS-NN or reference kernels, 32-bit). Exits 0 when safe, 1
    when a clobber or output difference is found, 2 on bad input.
    """
    given = ctx.get_parameter_source("allocator") is not click.core.ParameterSource.DEFAULT
    if plan_file is not None and given:
        raise click.UsageError("give either --allocator or --plan, not both")
    if not execute and (inputs or save_outputs or arena_size):
        raise click.UsageError("--inputs, --save-outputs and --arena-size need --execute")
    if on_target is not None and not execute:
        raise click.UsageError("--on-target needs --execute")
    if on_target is not None and plan_file is not None:
        raise click.UsageError("--on-target exports an allocator's plan: give --allocator, not --plan")
    from arena.commands.simulate import run_simulation
    from arena.render.simulate import render_report_json, render_report_text

    report = run_simulation(
        model,
        allocator=None if plan_file is not None else allocator,
        plan_file=plan_file,
        kernels=kernels,
        allow_unsupported=allow_unsupported,
        execute=execute,
        inputs=inputs,
        seed=seed,
        arena_size=arena_size,
        save_outputs=save_outputs,
        on_target=None if on_target is None else choose_target(on_target),
        sources=None if on_target is None else sources_or_default(sources),
        jobs=jobs,
        progress=progress_line,
    )
    text = render_report_json(report) if as_json else render_report_text(report, chart=chart)
    click.echo(text, nl=False)
    ctx.exit(EXIT_OK if report.ok else EXIT_VERDICT)
