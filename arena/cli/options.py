"""Options several commands share, defined once so that their names, defaults and help agree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from arena.allocators import ALLOCATORS
from arena.kernels import DEFAULT_KERNELS, KERNEL_FAMILIES

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def choices_help(registry: dict[str, Any], describe: Callable[[Any], str]) -> str:
    """``name: description; ...`` for every entry of a registry, for an option's help."""
    return "; ".join(f"{name}: {describe(entry)}" for name, entry in registry.items())


#: Every allocator and its one-line description, from the registry.
ALLOCATOR_CHOICES_HELP = choices_help(ALLOCATORS, lambda spec: spec.help)


def allocator_option(default: str | None, help_text: str) -> Decorator:
    """``--allocator`` with the registry's choices; ``help_text`` says what the plan is used for."""
    return click.option(
        "--allocator",
        type=click.Choice(list(ALLOCATORS)),
        default=default,
        show_default=default is not None,
        help=help_text,
    )


TARGET_OPTION = click.option(
    "--target", "target_name", required=True, metavar="NAME", help="Target from `arena targets`."
)
KERNELS_OPTION = click.option(
    "--kernels", type=click.Choice(list(KERNEL_FAMILIES)), help="Kernel library (default: the target's)."
)
KERNELS_CHOICES_HELP = choices_help(KERNEL_FAMILIES, lambda description: description)
DEFAULT_KERNELS_NAME = DEFAULT_KERNELS
SRAM_OPTION = click.option("--sram", metavar="SIZE", help="Override the target's SRAM (KB = KiB = 1024 bytes).")
FLASH_OPTION = click.option("--flash", metavar="SIZE", help="Override the target's flash.")
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
