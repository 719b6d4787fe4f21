"""arena: size, shrink, prove and export the TensorFlow Lite Micro tensor arena of int8 models.

The public functions and types are re-exported here lazily, so that ``import arena`` (and
``arena --help``) does not pull in numpy, networkx or the flatbuffers schema.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "ArenaError": "arena.errors",
    "read_model": "arena.model",
    "read_model_bytes": "arena.model",
    "derive_lifetimes": "arena.lifetimes",
    "lifetime_graph": "arena.lifetimes",
    "LifetimeTable": "arena.lifetimes",
    "Buffer": "arena.allocators.problem",
    "Problem": "arena.allocators.problem",
    "Plan": "arena.allocators.problem",
    "PlanStatus": "arena.allocators.problem",
    "validate_plan": "arena.allocators.validate",
    "tflm_greedy": "arena.allocators.tflm_greedy",
    "plan_model": "arena.plan.pipeline",
    "PlanResult": "arena.plan.pipeline",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["__version__", *_LAZY]
