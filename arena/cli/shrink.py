"""The ``arena shrink`` click command (click only: parse, call, render, pick the exit code)."""

from __future__ import annotations

from pathlib import Path

import click

from arena.cli.group import EXIT_OK, EXIT_VERDICT, cli
from arena.cli.options import (
    JOBS_OPTION,
    JSON_OPTION,
    KERNELS_OPTION,
    SOURCES_OPTION,
    budget_option,
    choose_target,
    progress_line,
    sources_or_default,
)


def _fraction(text: str) -> float:
    """``10%`` or ``0.1`` -> 0.1."""
    from arena.errors import ArenaError

    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ArenaError(f"--max-mac-overhead: '{text}' is not a fraction or a percentage (e.g. 10%)") from None


@cli.command("shrink")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the shrunk model (with its plan embedded).")  # fmt: skip
@click.option(
    "--target",
    "target_name",
    metavar="NAME",
    help="Target from `arena targets`: picks the kernels and the core the CMSIS-NN proof runs on.",
)
@KERNELS_OPTION
@click.option("--max-mac-overhead", default="10%", show_default=True, help="Most MACs the rewrite may add.")
@budget_option("Stop at this head: fewest MACs added that fit; exit 1 if none (KB = KiB = 1024 bytes).")
@click.option("--no-prove", is_flag=True, help="Skip the real-TFLM run (the simulator still checks the plan).")
@SOURCES_OPTION
@JOBS_OPTION
@JSON_OPTION
@click.pass_context
def shrink_command(
    ctx: click.Context,
    model: Path,
    output: Path,
    target_name: str | None,
    kernels: str | None,
    max_mac_overhead: str,
    budget: int | None,
    no_prove: bool,
    sources: Path | None,
    jobs: int,
    as_json: bool,
) -> None:
    """Rewrite MODEL so TFLM needs a smaller arena head, and prove it.

    Rules, applied when they pay: operator reordering, in-place aliasing (RESHAPE-like ops,
    CONCATENATION inputs, ADD/MUL/SUB), partial overlap of an op's output with its dying input
    (reference kernels, and CMSIS-NN's DSP build on the conv/depthwise paths that write in
    raster order), and row-band splitting of conv chains and residual blocks
    (STRIDED_SLICE/PAD/CONV/ADD/CONCATENATION; halos recomputed, MACs capped by
    --max-mac-overhead, or in residual blocks carried from band to band at no MACs), searched where
    the model needs the most memory (minutes on image models; progress on stderr). The final
    plan comes from the best provable allocator and is embedded as OfflineMemoryAllocation, so
    stock TFLM runs it.

    Proof: the access-order simulator, plus real TFLM running MODEL and the result on seeded
    inputs with the kernels it was shrunk for (outputs bit-identical, TFLM's head equal to the
    plan): reference kernels in the tflite-micro wheel; CMSIS-NN in TFLM + CMSIS-NN built for
    the target's Cortex-M core (else a Cortex-M4, or an M55 for Helium) and run in QEMU, which
    needs the packages `arena measure` names and builds TFLM once (minutes) from --sources.

    \b
    Exit codes:
      0  proven (and within --budget when given)
      1  not proven (nothing written) or --budget not met
      2  bad input (one-line error)
    With --no-prove the simulator alone decides. See docs/shrink.md.
    """
    import json

    from arena._io import write_atomic
    from arena.commands.shrink import shrink_model
    from arena.render.shrink import render_shrink_text, shrink_document

    target = None if target_name is None else choose_target(target_name)
    result = shrink_model(
        model,
        kernels=kernels,
        target=target,
        max_mac_overhead=_fraction(max_mac_overhead),
        budget_bytes=budget,
        prove=not no_prove,
        sources=sources_or_default(sources),
        jobs=jobs,
        progress=progress_line,
    )
    if result.proven:
        write_atomic(output, result.model_bytes)
    if as_json:
        click.echo(json.dumps({**shrink_document(result), "output": str(output) if result.proven else None}, indent=2))
    else:
        click.echo(render_shrink_text(result), nl=False)
        click.echo(f"wrote {output}" if result.proven else "not written: the shrunk model is not proven")
    ctx.exit(EXIT_OK if result.ok else EXIT_VERDICT)
