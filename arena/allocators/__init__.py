"""Allocators: the problem and plan types, the independent validator, and one module per rule.

The registry (:mod:`arena.allocators.registry`) names every allocator once. Types are re-exported
lazily so that importing this package for the CLI's choices does not import numpy.
"""

from __future__ import annotations

import importlib
from typing import Any

from arena.allocators.registry import (
    ALLOCATORS,
    BEST_ALLOCATOR,
    DEVICE_ALLOCATOR,
    AllocatorSpec,
    get_allocator,
    run_allocator,
)

_LAZY = {
    "Buffer": "arena.allocators.problem",
    "Plan": "arena.allocators.problem",
    "PlanStatus": "arena.allocators.problem",
    "Problem": "arena.allocators.problem",
    "peak_of": "arena.allocators.problem",
    "ValidationReport": "arena.allocators.validate",
    "Violation": "arena.allocators.validate",
    "validate_plan": "arena.allocators.validate",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ALLOCATORS",
    "BEST_ALLOCATOR",
    "DEVICE_ALLOCATOR",
    "AllocatorSpec",
    "get_allocator",
    "run_allocator",
    *_LAZY,
]
