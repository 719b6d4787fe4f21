"""The ``arena`` command line: parse options, call one library function, render, pick the exit code.

Exit codes: 0 success; 1 a correctly computed negative verdict (e.g. an invalid plan); 2 bad
input (any ``ArenaError``, printed as one ``arena: error: ...`` line, and click's usage errors).
Library modules are imported inside the commands so that ``arena --help`` stays fast.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from arena import __version__
from arena.allocators import ALLOCATORS, DEFAULT_ALLOCATOR, PLAN_DEFAULT_ALLOCATOR
from arena.errors import ArenaError
from arena.kernels import DEFAULT_KERNELS, KERNEL_FAMILIES

EXIT_OK = 0
EXIT_VERDICT = 1
EXIT_BAD_INPUT = 2


class _UserError(click.ClickException):
    """An ``ArenaError`` on its way out: one stderr line, exit code 2, no traceback."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file: Any = None) -> None:
        click.echo(f"arena: error: {self.message}", err=True)


class _ArenaGroup(click.Group):
    """Turns every ``ArenaError`` raised by a command into the one-line error above."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArenaError as error:
            raise _UserError(str(error)) from error


def _choices_help(registry: dict[str, Any], describe: Any) -> str:
    return "; ".join(f"{name}: {describe(entry)}" for name, entry in registry.items())


#: Options several commands share, defined once so their names and help stay identical.
_TARGET_OPTION = click.option(
    "--target", "target_name", required=True, metavar="NAME", help="Target from `arena targets`."
)
_KERNELS_OPTION = click.option(
    "--kernels", type=click.Choice(list(KERNEL_FAMILIES)), help="Kernel library (default: the target's)."
)
_SRAM_OPTION = click.option("--sram", metavar="SIZE", help="Override the target's SRAM (KB = KiB = 1024 bytes).")
_FLASH_OPTION = click.option("--flash", metavar="SIZE", help="Override the target's flash.")
_CLOCK_OPTION = click.option(
    "--clock-mhz", type=click.FloatRange(min=0, min_open=True), help="Override the target's clock."
)
_JSON_OPTION = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document instead of text (for scripts and CI)."
)


@click.group(cls=_ArenaGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="arena")
@click.option("-v", "--verbose", count=True, help="More diagnostics on stderr (-vv for debug).")
def cli(verbose: int) -> None:
    """Size, shrink, prove and export the TensorFlow Lite Micro tensor arena of an int8 model.

    Start with `arena plan MODEL.tflite`: the arena head TFLM will plan on the device, buffer
    by buffer. Every command exits 0 on success, 1 on a negative verdict, 2 on bad input.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="arena: %(levelname)s: %(message)s")


@cli.command("plan")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--allocator",
    type=click.Choice(list(ALLOCATORS)),
    default=PLAN_DEFAULT_ALLOCATOR,
    show_default=True,
    help="How to place the buffers (TFLM's own figure is always shown beside another plan). "
    + _choices_help(ALLOCATORS, lambda entry: entry[1]),
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Stop anytime allocators (exact, hill-climb) after this long with the best plan found.",
)
@click.option(
    "--kernels",
    type=click.Choice(list(KERNEL_FAMILIES)),
    help="Kernel library the firmware links (decides scratch buffers and supported ops; default: the"
    f" target's, else {DEFAULT_KERNELS}). " + _choices_help(KERNEL_FAMILIES, lambda description: description),
)
@click.option(
    "--target",
    "target_name",
    metavar="NAME",
    help="Size the whole arena (head + tail) for this target from `arena targets`, e.g. nucleo-l4r5zi.",
)
@_SRAM_OPTION
@_FLASH_OPTION
@_CLOCK_OPTION
@click.option("--buffers", is_flag=True, help="Also print one row per planned buffer (lifetime, size, offset).")
@click.option(
    "--map", "memory_map", is_flag=True, help="Also draw the plan: one row per op step, arena offsets across."
)
@_JSON_OPTION
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
    from arena import report
    from arena.planning import plan_model
    from arena.targets import choose_target

    target = None
    if target_name is not None:
        target = choose_target(target_name, sram=sram, flash=flash, clock_mhz=clock_mhz)
    elif sram or flash or clock_mhz:
        raise click.UsageError("--sram, --flash and --clock-mhz override a --target")
    result = plan_model(
        model,
        allocator=allocator,
        kernels=kernels,
        target=target,
        allow_unsupported=allow_unsupported,
        time_limit_seconds=time_limit,
    )
    from arena.costing import cost_beside_plan

    cost = cost_beside_plan(result.model, target, kernels)
    for warning in result.table.warnings:
        click.echo(f"arena: warning: {warning}", err=True)
    if as_json:
        click.echo(report.render_plan_json(result, cost), nl=False)
    else:
        click.echo(report.render_plan_text(result, cost), nl=False)
        if buffers:
            click.echo()
            click.echo(report.render_buffer_table(result), nl=False)
        if memory_map:
            click.echo()
            click.echo(report.render_memory_map(result), nl=False)
    ctx.exit(EXIT_OK if result.ok else EXIT_VERDICT)


@cli.command("check")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@_TARGET_OPTION
@click.option(
    "--budget",
    "budgets",
    multiple=True,
    metavar="SIZE",
    help="Arena budget to compare with (repeatable): 100KB, 100KiB, 0.25MB or 102400; KB = KiB = 1024 B.",
)
@click.option("--active-budget", metavar="SIZE", help="The budget that decides the exit code (default: the first).")
@click.option(
    "--allocator",
    type=click.Choice(list(ALLOCATORS)),
    default=DEFAULT_ALLOCATOR,
    show_default=True,
    help="Plan to size: tflm is what the device does unless you embed another plan (arena export).",
)
@_KERNELS_OPTION
@_SRAM_OPTION
@_FLASH_OPTION
@_JSON_OPTION
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

    from arena.budget import budget_document, check_budgets, render_budget_text
    from arena.planning import plan_model
    from arena.targets import choose_target
    from arena.units import parse_size

    target = choose_target(target_name, sram=sram, flash=flash)
    budget_bytes = [parse_size(b, "--budget") for b in budgets]
    active = None if active_budget is None else parse_size(active_budget, "--active-budget")
    result = plan_model(model, allocator=allocator, kernels=kernels, target=target)
    report = check_budgets(result, budget_bytes, active)
    if as_json:
        click.echo(json.dumps(budget_document(report, result), indent=2))
    else:
        click.echo(render_budget_text(report, result), nl=False)
    ctx.exit(EXIT_OK if report.ok else EXIT_VERDICT)


@cli.command("export")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@_TARGET_OPTION
@click.option(
    "--allocator",
    type=click.Choice(list(ALLOCATORS)),
    default=DEFAULT_ALLOCATOR,
    show_default=True,
    help="Plan to export; any but tflm is embedded in the model (write it with --model-out/--model-array).",
)
@_KERNELS_OPTION
@click.option("--header", type=click.Path(dir_okay=False, path_type=Path), help="Write the C header here.")
@click.option(
    "--source",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the C source (arena buffer and offset table) here.",
)
@click.option(
    "--model-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the model with the plan embedded (OfflineMemoryAllocation) here.",
)
@click.option(
    "--model-array", type=click.Path(dir_okay=False, path_type=Path), help="Write the exported model as a C array here."
)
@click.option("--name", "prefix", metavar="PREFIX", help="C name prefix (default: from the model file name).")
@click.option("--budget", metavar="SIZE", help="Arena budget: the header static-asserts it; exit 1 if exceeded.")
@_SRAM_OPTION
@click.pass_context
def export_command(
    ctx: click.Context,
    model: Path,
    target_name: str,
    allocator: str,
    kernels: str | None,
    header: Path | None,
    source: Path | None,
    model_out: Path | None,
    model_array: Path | None,
    prefix: str | None,
    budget: str | None,
    sram: str | None,
) -> None:
    """Write what firmware needs: arena header and source, the planned model, the model as C.

    The header holds PREFIX_ARENA_SIZE (the whole arena for the target), head and tail sizes,
    the alignment, the model's sha256, a static assert against --budget and the per-tensor offset
    table. Every file is rendered first and then written atomically (temporary file + rename),
    so a failed export leaves existing files untouched. Firmware:

    \b
      #include "model_arena.h"
      static tflite::MicroInterpreter interpreter(model, resolver,
          prefix_tensor_arena, PREFIX_ARENA_SIZE);
    """
    if not any((header, source, model_out, model_array)):
        raise click.UsageError("nothing to write: give --header, --source, --model-out and/or --model-array")
    if source is not None and header is None:
        raise click.UsageError("--source includes the header: give --header too")
    from arena._io import write_atomic
    from arena.exporting import build_export, render_export_summary
    from arena.targets import choose_target
    from arena.units import parse_size

    target = choose_target(target_name, sram=sram)
    budget_bytes = None if budget is None else parse_size(budget, "--budget")
    bundle = build_export(
        model, target=target, allocator=allocator, kernels=kernels, budget_bytes=budget_bytes, prefix=prefix
    )
    outputs: list[tuple[Path, str | bytes]] = []
    if header is not None:
        outputs.append((header, bundle.header()))
    if source is not None and header is not None:
        outputs.append((source, bundle.source(header.name)))
    if model_out is not None:
        outputs.append((model_out, bundle.model_bytes))
    if model_array is not None:
        outputs.append((model_array, bundle.model_array()))
    for path, content in outputs:
        write_atomic(path, content)
    click.echo(render_export_summary(bundle, [str(path) for path, _ in outputs]), nl=False)
    ctx.exit(EXIT_OK if bundle.fits_budget else EXIT_VERDICT)


@cli.command("validate")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@_TARGET_OPTION
@click.option("--budget", metavar="SIZE", help="Arena budget (KB = KiB = 1024 bytes).")
@click.option(
    "--reserve",
    metavar="SIZE",
    default="0",
    show_default=True,
    help="SRAM the rest of the firmware needs (stack, application, audio buffers); arena + reserve <= SRAM.",
)
@click.option("--deadline-ms", type=click.FloatRange(min=0, min_open=True), help="Latency limit per inference.")
@click.option("--energy-uj", type=click.FloatRange(min=0, min_open=True), help="Energy limit per inference.")
@click.option("--profile", type=click.Choice(["kws"]), help="Extra checks: kws = keyword spotting.")
@click.option(
    "--stride-ms",
    type=click.FloatRange(min=0, min_open=True),
    default=20.0,
    show_default=True,
    help="With --profile kws: hop between inferences of the sliding 1 s window.",
)
@click.option(
    "--allocator",
    type=click.Choice(list(ALLOCATORS)),
    default=DEFAULT_ALLOCATOR,
    show_default=True,
    help="Plan whose arena is checked (tflm = the device default).",
)
@_KERNELS_OPTION
@_SRAM_OPTION
@_FLASH_OPTION
@_CLOCK_OPTION
@_JSON_OPTION
@click.pass_context
def validate_command(
    ctx: click.Context,
    model: Path,
    target_name: str,
    budget: str | None,
    reserve: str,
    deadline_ms: float | None,
    energy_uj: float | None,
    profile: str | None,
    stride_ms: float,
    allocator: str,
    kernels: str | None,
    sram: str | None,
    flash: str | None,
    clock_mhz: float | None,
    as_json: bool,
) -> None:
    """Check that MODEL deploys on a target: int8, supported ops, memory, time and energy.

    One line per check: PASS, WARN or FAIL with the numbers and why. Checks: every tensor int8
    (int32 biases; float I/O only with QUANTIZE/DEQUANTIZE at the edges), every op supported by
    TFLM, which ops fall back from CMSIS-NN to reference kernels, arena <= --budget, arena +
    --reserve <= SRAM, model <= flash, latency <= --deadline-ms, energy <= --energy-uj, and with
    --profile kws the input/output shapes and the real-time factor. Exit 0 when nothing fails,
    1 when a check fails, 2 on bad input.
    """
    import json

    from arena.deployment import Limits, render_validation_text, validation_document
    from arena.targets import choose_target
    from arena.units import parse_size
    from arena.validating import validate_model

    target = choose_target(target_name, sram=sram, flash=flash, clock_mhz=clock_mhz)
    limits = Limits(
        budget_bytes=None if budget is None else parse_size(budget, "--budget"),
        reserve_bytes=parse_size(reserve, "--reserve"),
        deadline_ms=deadline_ms,
        energy_uj=energy_uj,
        profile=profile,
        stride_ms=stride_ms,
    )
    result = validate_model(model, target, limits, allocator=allocator, kernels=kernels)
    if as_json:
        click.echo(json.dumps(validation_document(result), indent=2))
    else:
        click.echo(render_validation_text(result), nl=False)
    ctx.exit(EXIT_OK if result.ok else EXIT_VERDICT)


@cli.command("sweep")
@click.argument("models", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--target", "targets", multiple=True, required=True, metavar="NAME", help="Target (repeatable).")
@click.option("--budget", "budgets", multiple=True, metavar="SIZE", help="Arena budget to flag (repeatable).")
@click.option("--active-budget", metavar="SIZE", help="Budget a variant must meet to be accepted.")
@click.option(
    "--accuracy",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV with columns model,accuracy: the frontier is then memory vs accuracy.",
)
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the rows as CSV.")
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes (default: one per core).")
@_JSON_OPTION
def sweep_command(
    models: tuple[Path, ...],
    targets: tuple[str, ...],
    budgets: tuple[str, ...],
    active_budget: str | None,
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
    from arena.sweep import (
        expand_models,
        read_accuracy,
        render_sweep_csv,
        render_sweep_text,
        run_sweep,
        sweep_document,
    )
    from arena.targets import get_target
    from arena.units import parse_size

    for name in targets:
        get_target(name)
    paths = expand_models(models)
    budget_bytes = sorted({parse_size(b, "--budget") for b in budgets})
    active = None if active_budget is None else parse_size(active_budget, "--active-budget")
    scores = None if accuracy is None else read_accuracy(accuracy)
    with click.progressbar(length=len(paths) * len(targets), label="planning", file=sys.stderr) as bar:
        rows = run_sweep(paths, targets, budget_bytes, active, accuracy=scores, jobs=jobs, progress=bar.update)
    if csv_out is not None:
        write_atomic(csv_out, render_sweep_csv(rows, budget_bytes))
    if as_json:
        click.echo(json.dumps(sweep_document(rows, budget_bytes, active), indent=2))
    else:
        click.echo(render_sweep_text(rows, budget_bytes), nl=False)


@cli.command("pack")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--allocator",
    type=click.Choice(list(ALLOCATORS)),
    default="best-fit",
    show_default=True,
    help="How to place the buffers. " + _choices_help(ALLOCATORS, lambda entry: entry[1]),
)
@click.option(
    "--capacity",
    metavar="SIZE",
    help="Arena bytes available (e.g. 1MB, 1048576); exit 1 if the plan does not fit.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Stop anytime allocators after this long and return the best plan found.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the solution CSV (input columns plus offset) here, atomically.",
)
@_JSON_OPTION
@click.pass_context
def pack_command(
    ctx: click.Context,
    problem: Path,
    allocator: str,
    capacity: str | None,
    time_limit: float | None,
    output: Path | None,
    as_json: bool,
) -> None:
    """Pack a raw problem: a MiniMalloc CSV of buffers, no model needed.

    PROBLEM has the header id,lower,upper,size with one buffer per row, live in the half-open
    step interval [lower, upper). Sizes: KB = KiB = 1024 bytes, MB = MiB = 1024 KiB. Exits 0
    when the plan is valid (and fits --capacity), 1 when it does not fit, 2 on bad input.
    """
    from arena import report_pack
    from arena._io import write_atomic
    from arena.allocators.minimalloc_csv import render_solution_csv
    from arena.packing import pack_file
    from arena.units import parse_size

    capacity_bytes = None if capacity is None else parse_size(capacity, "--capacity")
    result = pack_file(problem, allocator=allocator, capacity=capacity_bytes, time_limit_seconds=time_limit)
    if output is not None:
        write_atomic(output, render_solution_csv(result.problem, result.plan))
    renderer = report_pack.render_pack_json if as_json else report_pack.render_pack_text
    click.echo(renderer(result), nl=False)
    ctx.exit(EXIT_OK if result.ok else EXIT_VERDICT)


@cli.command("targets")
@click.option("--json", "as_json", is_flag=True, help="Print the catalog as JSON.")
def targets_command(as_json: bool) -> None:
    """List the target catalog: cores and boards with clock, SRAM, flash and kernel library.

    Every figure comes from a datasheet or published measurement named in the catalog
    (arena/targets/targets.toml); `--json` includes the sources.
    """
    from arena.targets.render import render_targets_json, render_targets_text

    click.echo((render_targets_json if as_json else render_targets_text)(), nl=False)


@cli.command("cost")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@_TARGET_OPTION
@_KERNELS_OPTION
@_CLOCK_OPTION
@click.option(
    "--rate",
    type=click.FloatRange(min=0),
    metavar="HZ",
    help="Inferences per second, for the average power of a duty cycle (exit 1 if unreachable).",
)
@_JSON_OPTION
@click.pass_context
def cost_command(
    ctx: click.Context,
    model: Path,
    target_name: str,
    kernels: str | None,
    clock_mhz: float | None,
    rate: float | None,
    as_json: bool,
) -> None:
    """Estimate cycles, latency and energy per inference of MODEL on a target.

    Per layer: MACs, cycles and share of time; totals: MACs, cycles, latency (ms), energy (uJ),
    inferences per second and, with --rate, average power including sleep. The cycle model is
    fitted to MLPerf Tiny measurements (docs/cost-model.md gives its error).
    """
    from arena.cost.render import render_cost_json, render_cost_text
    from arena.costing import cost_model_on_target

    estimate = cost_model_on_target(model, target_name, kernels=kernels, clock_mhz=clock_mhz, rate_hz=rate)
    click.echo((render_cost_json if as_json else render_cost_text)(estimate), nl=False)
    ctx.exit(EXIT_OK if estimate.ok else EXIT_VERDICT)


@cli.command("simulate")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--allocator",
    type=click.Choice(list(ALLOCATORS)),
    help="Simulate this allocator's plan (default: tflm). " + _choices_help(ALLOCATORS, lambda entry: entry[1]),
)
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Simulate the plan in this file: the JSON `arena plan --json` prints, possibly hand-edited.",
)
@click.option(
    "--kernels",
    type=click.Choice(list(KERNEL_FAMILIES)),
    default=DEFAULT_KERNELS,
    show_default=True,
    help="Kernel library the firmware links.",
)
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
@click.option("--arena-size", metavar="SIZE", help="With --execute: arena bytes to give TFLM (default: predicted).")
@click.option(
    "--save-outputs",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --execute: write inputs and every run's outputs to this .npz.",
)
@_JSON_OPTION
@click.pass_context
def simulate_command(
    ctx: click.Context,
    model: Path,
    allocator: str | None,
    plan_file: Path | None,
    kernels: str,
    allow_unsupported: bool,
    chart: bool,
    execute: bool,
    inputs: Path | None,
    seed: int,
    arena_size: str | None,
    save_outputs: Path | None,
    as_json: bool,
) -> None:
    """Run a plan op by op in one arena buffer and prove no live tensor is overwritten.

    The simulator follows the model's own op order (subgraphs included), writes distinct data
    for every tensor and scratch buffer at its planned offset and checks each tensor at every
    read. With --execute the plan is embedded as OfflineMemoryAllocation metadata and run in
    real TFLM (tflite-micro), outputs compared bit for bit with the unmodified model and with
    ai-edge-litert. Exits 0 when safe, 1 when a clobber or output difference is found, 2 on bad
    input.
    """
    if plan_file is not None and allocator is not None:
        raise click.UsageError("give either --allocator or --plan, not both")
    if not execute and (inputs or save_outputs or arena_size):
        raise click.UsageError("--inputs, --save-outputs and --arena-size need --execute")
    from arena.simulating import run_simulation

    report = run_simulation(
        model,
        allocator=allocator,
        plan_file=plan_file,
        kernels=kernels,
        allow_unsupported=allow_unsupported,
        execute=execute,
        inputs=inputs,
        seed=seed,
        arena_size=arena_size,
        save_outputs=save_outputs,
    )
    click.echo(report.render_json() if as_json else report.render_text(chart=chart), nl=False)
    ctx.exit(EXIT_OK if report.ok else EXIT_VERDICT)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="arena")
cli.add_command(__import__("arena.cli_shrink").cli_shrink.shrink_command)
