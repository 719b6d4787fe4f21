"""``arena validate``: options and exit code; the work is in :mod:`arena.commands.validate`."""

from __future__ import annotations

from pathlib import Path

import click

from arena.cli.group import EXIT_OK, EXIT_VERDICT, cli
from arena.cli.options import (
    CLOCK_OPTION,
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
)


@cli.command("validate")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@TARGET_OPTION
@budget_option("Arena budget (KB = KiB = 1024 bytes).")
@click.option(
    "--reserve",
    type=SIZE,
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
@allocator_option(Role.DEVICE, "Plan whose arena is checked.")
@KERNELS_OPTION
@SRAM_OPTION
@FLASH_OPTION
@CLOCK_OPTION
@JSON_OPTION
@click.pass_context
def validate_command(
    ctx: click.Context,
    model: Path,
    target_name: str,
    budget: int | None,
    reserve: int,
    deadline_ms: float | None,
    energy_uj: float | None,
    profile: str | None,
    stride_ms: float,
    allocator: str,
    kernels: str | None,
    sram: int | None,
    flash: int | None,
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

    from arena.commands.validate import Limits, validate_model
    from arena.render.validate import render_validation_text, validation_document

    target = choose_target(target_name, sram=sram, flash=flash, clock_mhz=clock_mhz)
    limits = Limits(
        budget_bytes=budget,
        reserve_bytes=reserve,
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
