"""Kernel libraries: what each asks of the arena beyond the model's own tensors.

A kernel library answers two questions per operator: can TFLM built with it run this op (and if
not, why), and which scratch buffers does its Prepare request, in request order. Libraries are
chosen by CLI name from :data:`KERNEL_LIBRARIES`.
"""

from __future__ import annotations

from arena.errors import ArenaError
from arena.kernels.library import KernelLibrary, ScratchRequest
from arena.kernels.reference import REFERENCE

#: CLI name -> kernel library.
KERNEL_LIBRARIES: dict[str, KernelLibrary] = {REFERENCE.name: REFERENCE}

DEFAULT_KERNELS = "reference"


def get_kernel_library(name: str) -> KernelLibrary:
    """The kernel library registered as ``name``.

    Examples
    --------
    >>> get_kernel_library("reference").name
    'reference'
    >>> get_kernel_library("cmsis")
    Traceback (most recent call last):
    ...
    arena.errors.ArenaError: unknown kernel library 'cmsis'; choose one of: reference
    """
    try:
        return KERNEL_LIBRARIES[name]
    except KeyError:
        raise ArenaError(
            f"unknown kernel library {name!r}; choose one of: {', '.join(KERNEL_LIBRARIES)}"
        ) from None


__all__ = [
    "DEFAULT_KERNELS",
    "KERNEL_LIBRARIES",
    "KernelLibrary",
    "ScratchRequest",
    "get_kernel_library",
]
