"""``arena targets``: the catalog, in its file order."""

from __future__ import annotations

from arena.targets import Target
from arena.targets.catalog import load_targets


def list_targets() -> tuple[Target, ...]:
    """Every catalog target: generic cores first, then boards, as the catalog lists them."""
    return tuple(load_targets().values())
