"""Kernel libraries: what each asks of the arena beyond the model's own tensors.

A kernel library answers two questions per operator: can TFLM built with it run this op (and if
not, why), and which scratch buffers does its Prepare request, in request order. Users name a
family (``reference`` or ``cmsis-nn``); CMSIS-NN's sizes depend on the core's ISA, so the family
resolves to one library per ISA (``cmsis-nn-dsp``, ``cmsis-nn-mve``, ``cmsis-nn-plain``) through
the target.
"""

from __future__ import annotations

from arena.errors import ArenaError
from arena.kernels.cmsis_nn import CMSIS_NN_BY_ISA, CMSIS_NN_DSP, CMSIS_NN_MVE, CMSIS_NN_PLAIN
from arena.kernels.library import KernelLibrary, ScratchRequest
from arena.kernels.reference import REFERENCE

#: Library name -> kernel library (every concrete build arena models).
KERNEL_LIBRARIES: dict[str, KernelLibrary] = {
    library.name: library for library in (REFERENCE, CMSIS_NN_DSP, CMSIS_NN_MVE, CMSIS_NN_PLAIN)
}

#: What users choose on the command line: a family, resolved per target by :func:`resolve_kernels`.
KERNEL_FAMILIES: dict[str, str] = {
    "reference": "TFLM reference kernels (portable C++; what the tflite-micro Python package runs)",
    "cmsis-nn": "TFLM with Arm CMSIS-NN kernels (Cortex-M builds); scratch sizes follow the core's ISA",
}

DEFAULT_KERNELS = "reference"


def resolve_kernels(family: str, isa: str | None = None) -> str:
    """The library name for a family on a core with ``isa`` (``dsp``, ``mve``, ``none``).

    Examples
    --------
    >>> resolve_kernels("cmsis-nn", "mve"), resolve_kernels("reference", "mve")
    ('cmsis-nn-mve', 'reference')
    >>> resolve_kernels("cmsis-nn")   # no target: the DSP build (Cortex-M4/M7/M33)
    'cmsis-nn-dsp'
    """
    if family == "cmsis-nn":
        return CMSIS_NN_BY_ISA[isa or "dsp"].name
    if family in KERNEL_LIBRARIES:
        return family
    raise ArenaError(f"unknown kernel library {family!r}; choose one of: {', '.join(KERNEL_FAMILIES)}")


def get_kernel_library(name: str) -> KernelLibrary:
    """The kernel library registered as ``name`` (a family name resolves with no target).

    Examples
    --------
    >>> get_kernel_library("reference").name
    'reference'
    >>> get_kernel_library("cmsis")
    Traceback (most recent call last):
    ...
    arena.errors.ArenaError: unknown kernel library 'cmsis'; choose one of: reference, cmsis-nn
    """
    return KERNEL_LIBRARIES[resolve_kernels(name)]


__all__ = [
    "DEFAULT_KERNELS",
    "KERNEL_FAMILIES",
    "KERNEL_LIBRARIES",
    "KernelLibrary",
    "ScratchRequest",
    "get_kernel_library",
    "resolve_kernels",
]
