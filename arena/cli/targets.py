"""``arena targets``: options and exit code; the work is in :mod:`arena.commands.targets`."""

from __future__ import annotations

import click

from arena.cli.group import cli


@cli.command("targets")
@click.option("--json", "as_json", is_flag=True, help="Print the catalog as JSON.")
def targets_command(as_json: bool) -> None:
    """List the target catalog: cores and boards with clock, SRAM, flash and kernel library.

    Every figure comes from a datasheet or published measurement named in the catalog
    (arena/targets/targets.toml); `--json` includes the sources.
    """
    from arena.commands.targets import list_targets
    from arena.render.targets import render_targets_json, render_targets_text

    click.echo((render_targets_json if as_json else render_targets_text)(list_targets()), nl=False)
