"""``arena export``: options and exit code; the work is in :mod:`arena.commands.export`."""

from __future__ import annotations

from pathlib import Path

import click

from arena.cli.group import EXIT_OK, EXIT_VERDICT, cli
from arena.cli.options import (
    KERNELS_OPTION,
    SRAM_OPTION,
    TARGET_OPTION,
    Role,
    allocator_option,
    budget_option,
    choose_target,
)


@cli.command("export")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@TARGET_OPTION
@allocator_option(
    Role.DEPLOY,
    "Plan to export; any but tflm is embedded in the model (write it with --model-out/--model-array).",
)
@KERNELS_OPTION
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
@budget_option("Arena budget: the header static-asserts it; exit 1 if exceeded.")
@SRAM_OPTION
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
    budget: int | None,
    sram: int | None,
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
    from arena.commands.export import build_export
    from arena.render.export import (
        render_export_header,
        render_export_model_array,
        render_export_source,
        render_export_summary,
    )

    target = choose_target(target_name, sram=sram)
    bundle = build_export(
        model, target=target, allocator=allocator, kernels=kernels, budget_bytes=budget, prefix=prefix
    )
    outputs: list[tuple[Path, str | bytes]] = []
    if header is not None:
        outputs.append((header, render_export_header(bundle)))
    if source is not None and header is not None:
        outputs.append((source, render_export_source(bundle, header.name)))
    if model_out is not None:
        outputs.append((model_out, bundle.model_bytes))
    if model_array is not None:
        outputs.append((model_array, render_export_model_array(bundle)))
    for path, content in outputs:
        write_atomic(path, content)
    click.echo(render_export_summary(bundle, [str(path) for path, _ in outputs]), nl=False)
    ctx.exit(EXIT_OK if bundle.fits_budget else EXIT_VERDICT)
