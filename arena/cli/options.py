"""Options several commands share, defined once so that their names, defaults and help agree.

The one rule for ``--allocator`` defaults (stated in every affected ``--help`` and the README):

* commands that produce or check a plan to deploy (plan, pack, export, diff, report) default
  to the best plan arena can prove, ``BEST_ALLOCATOR``;
* commands that describe the device running the unmodified model (check, validate, simulate)
  default to TFLM's own plan, ``DEVICE_ALLOCATOR``, and show arena's best beside it.

``--kernels`` has one default everywhere: the target's library, else reference. Sizes are a
click parameter type, so a bad size is one ``arena: error:`` line naming the option and the
value (exit 2) before any work starts.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from arena.allocators import ALLOCATORS, BEST_ALLOCATOR, DEVICE_ALLOCATOR
from arena.kernels import DEFAULT_KERNELS, KERNEL_FAMILIES
from arena.units import parse_size

if TYPE_CHECKING:
    from arena.targets import Target

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def choices_help(registry: dict[str, Any], describe: Callable[[Any], str]) -> str:
    """``name: description; ...`` for every entry of a registry, for an option's help."""
    return "; ".join(f"{name}: {describe(entry)}" for name, entry in registry.items())


#: Every allocator and its one-line description, from the registry.
ALLOCATOR_CHOICES_HELP = choices_help(ALLOCATORS, lambda spec: spec.help)
KERNELS_CHOICES_HELP = choices_help(KERNEL_FAMILIES, lambda description: description)


class Role(Enum):
    """What a command does with a plan, which decides its ``--allocator`` default."""

    DEPLOY = "deploy"  # produces or checks a plan to deploy
    DEVICE = "device"  # describes the device with the unmodified model


#: The default each role gets, named once.
ROLE_DEFAULTS = {Role.DEPLOY: BEST_ALLOCATOR, Role.DEVICE: DEVICE_ALLOCATOR}

_ROLE_RULE = {
    Role.DEPLOY: f"Default {BEST_ALLOCATOR}: commands that produce or check a plan to deploy use the best plan"
    " arena can prove.",
    Role.DEVICE: f"Default {DEVICE_ALLOCATOR}: commands that describe the device with the unmodified model use"
    f" TFLM's own plan and show arena's best ({BEST_ALLOCATOR}) beside it.",
}


def allocator_option(role: Role, purpose: str) -> Decorator:
    """``--allocator`` with the registry's choices and the default of ``role``.

    ``purpose`` says what the plan is used for; the help then states the one default rule and
    lists every allocator.
    """
    return click.option(
        "--allocator",
        type=click.Choice(list(ALLOCATORS)),
        default=ROLE_DEFAULTS[role],
        show_default=True,
        help=f"{purpose} {_ROLE_RULE[role]} " + ALLOCATOR_CHOICES_HELP,
    )


class SizeType(click.ParamType[int]):
    """A byte size as people write it (``100KB``, ``0.25MB``, ``102400``), converted to an int.

    A value that does not parse raises ``BadSizeError`` naming the option and the value; the
    group turns it into one ``arena: error:`` line and exit 2.

    Examples
    --------
    >>> SizeType().convert("100KB", None, None)
    102400
    """

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        what = param.opts[0] if param is not None and param.opts else "size"
        return parse_size(str(value), what)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "SIZE"


SIZE = SizeType()
_SIZE_HELP = "KB = KiB = 1024 bytes"

KERNELS_DEFAULT_RULE = f"default: the target's, else {DEFAULT_KERNELS}"

TARGET_OPTION = click.option(
    "--target", "target_name", required=True, metavar="NAME", help="Target from `arena targets`."
)
OPTIONAL_TARGET_OPTION = click.option(
    "--target",
    "target_name",
    metavar="NAME",
    help="Size the whole arena (head + tail) for this target from `arena targets`, e.g. nucleo-l4r5zi.",
)
KERNELS_OPTION = click.option(
    "--kernels",
    type=click.Choice(list(KERNEL_FAMILIES)),
    help="Kernel library the firmware links (decides scratch buffers and supported ops;"
    f" {KERNELS_DEFAULT_RULE}). " + KERNELS_CHOICES_HELP,
)
SRAM_OPTION = click.option("--sram", type=SIZE, help=f"Override the target's SRAM ({_SIZE_HELP}).")
FLASH_OPTION = click.option("--flash", type=SIZE, help="Override the target's flash.")
CLOCK_OPTION = click.option(
    "--clock-mhz", type=click.FloatRange(min=0, min_open=True), help="Override the target's clock."
)
JSON_OPTION = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document instead of text (for scripts and CI)."
)
TIME_LIMIT_OPTION = click.option(
    "--time-limit",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Stop anytime allocators (exact, hill-climb) after this long with the best plan found.",
)
BATCH_OPTION = click.option(
    "--batch",
    "batches",
    type=click.IntRange(min=1),
    multiple=True,
    metavar="N",
    help="Also re-plan with batch N (the batch dimension of every activation rewritten in the lifetime"
    " problem, not the file); repeatable, prints a table of arena against batch.",
)


#: Environment variable naming the directory of TFLM source tarballs (read here, at the edge).
SOURCES_ENV = "ARENA_TFLM_SOURCES"

SOURCES_OPTION = click.option(
    "--sources",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Directory of the pinned TFLM source tarballs (default: ${SOURCES_ENV}, else ~/.cache/arena/tflm-src).",
)
JOBS_OPTION = click.option(
    "--jobs", type=click.IntRange(min=1), default=2, show_default=True, help="make -j for the TFLM build."
)


def sources_or_default(sources: Path | None) -> str:
    """``--sources``, else ``$ARENA_TFLM_SOURCES``, else the cache's source directory."""
    import os

    from arena.proofs.emulator.sources import default_sources_dir

    return str(sources) if sources is not None else os.environ.get(SOURCES_ENV) or str(default_sources_dir())


def progress_line(line: str) -> None:
    """Progress of a long build or run, on stderr so that --json output stays clean."""
    click.echo(f"arena: {line}", err=True)


def budget_option(help_text: str, *, multiple: bool = False) -> Decorator:
    """``--budget SIZE`` (repeatable when ``multiple``), converted to bytes."""
    return click.option("--budget", "budgets" if multiple else "budget", type=SIZE, multiple=multiple, help=help_text)


def report_option() -> Decorator:
    """``--report FILE``: also write the self-contained HTML report (``arena report``)."""
    return click.option(
        "--report",
        "report_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Also write the self-contained HTML report (memory layout, live bytes, tail, cost) here.",
    )


def choose_target(
    name: str, *, sram: int | None = None, flash: int | None = None, clock_mhz: float | None = None
) -> Target:
    """The catalog target ``name`` with the command line's (already parsed) overrides."""
    from arena.targets.catalog import get_target, with_overrides

    return with_overrides(
        get_target(name),
        sram_bytes=sram,
        flash_bytes=flash,
        clock_hz=None if clock_mhz is None else round(clock_mhz * 1e6),
    )
