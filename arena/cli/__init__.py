"""The ``arena`` command line: parse options, call one command function, render, pick the exit code.

Each ``arena X`` lives in ``arena/cli/X.py`` and holds no logic: the work is in
``arena.commands.X`` and the output in ``arena.render``. Library modules are imported inside the
command bodies so that ``arena --help`` stays fast.
"""

from __future__ import annotations

from arena.cli import (
    check,
    cost,
    diff,
    export,
    measure,
    pack,
    plan,
    report,
    shrink,
    simulate,
    sweep,
    targets,
    validate,
)
from arena.cli.group import EXIT_BAD_INPUT, EXIT_OK, EXIT_VERDICT, cli

_COMMANDS = (plan, check, export, validate, sweep, pack, targets, cost, simulate, shrink, measure, diff, report)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="arena")


__all__ = ["EXIT_BAD_INPUT", "EXIT_OK", "EXIT_VERDICT", "cli", "main"]
