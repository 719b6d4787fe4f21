"""Targets: boards and generic cores, read from a data file with a source for every number.

Adding a board means adding a ``[[target]]`` table to ``targets.toml``. Loading needs only the
standard library, so listing targets in ``arena --help`` stays fast.
"""

from __future__ import annotations

from arena.targets.catalog import (
    BUNDLED_CATALOG,
    DSP_CORES,
    MVE_CORES,
    Fpu,
    KernelIsa,
    Target,
    choose_target,
    get_target,
    load_targets,
    parse_targets,
    with_overrides,
)

__all__ = [
    "BUNDLED_CATALOG",
    "DSP_CORES",
    "MVE_CORES",
    "Fpu",
    "KernelIsa",
    "Target",
    "choose_target",
    "get_target",
    "load_targets",
    "parse_targets",
    "with_overrides",
]
