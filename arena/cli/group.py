"""The click group, and the one place an ``ArenaError`` becomes a one-line message and exit 2.

Exit codes: 0 success; 1 a correctly computed negative verdict (e.g. an invalid plan, a budget
exceeded); 2 bad input (any ``ArenaError``, printed as one ``arena: error: ...`` line, and click's
own usage errors).
"""

from __future__ import annotations

import logging
from typing import Any

import click

from arena import __version__
from arena.errors import ArenaError

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
