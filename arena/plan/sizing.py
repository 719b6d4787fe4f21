"""The whole arena for a target: the planned head, TFLM's persistent tail, and the minimum to set.

``kTensorArenaSize`` must cover the head (the plan), the tail (TFLM's own structs, kernel data,
variables) and the transient of committing the plan; :func:`size_arena` gives all three for the
target's pointer width, and the same for TFLM's default plan so users see what a better plan
saves on the number they actually set.
"""

from __future__ import annotations

from dataclasses import dataclass

from arena.lifetimes import LifetimeTable
from arena.model.records import Model
from arena.tail import CORTEX_M, HOST_X86_64, Abi, MinimumArena, TailEstimate
from arena.tail import minimum_arena_bytes as _minimum_arena
from arena.tail import tail_bytes as _tail
from arena.targets import Target


@dataclass(frozen=True, slots=True, kw_only=True)
class ArenaSizing:
    """Head, tail and minimum arena of one plan on one target, and of TFLM's default plan."""

    target: Target
    abi: str
    tail: TailEstimate
    minimum: MinimumArena
    tflm_minimum: MinimumArena
    notes: tuple[str, ...] = ()

    @property
    def head_bytes(self) -> int:
        """The plan's head."""
        return self.minimum.head_bytes

    @property
    def tail_bytes(self) -> int:
        """TFLM's persistent section for this model on this target."""
        return self.tail.total_bytes

    @property
    def total_bytes(self) -> int:
        """The minimum ``kTensorArenaSize``: head + tail, or the commit transient if larger."""
        return self.minimum.minimum_bytes

    @property
    def tflm_total_bytes(self) -> int:
        """The minimum arena with TFLM's own greedy plan."""
        return self.tflm_minimum.minimum_bytes


def abi_for(target: Target) -> Abi:
    """The struct-size table for the target: the 64-bit host package or a 32-bit Cortex-M build."""
    return HOST_X86_64 if target.pointer_bits == 64 else CORTEX_M


def size_arena(
    model: Model, table: LifetimeTable, head_bytes: int, tflm_head_bytes: int, target: Target
) -> ArenaSizing:
    """Tail and minimum arena of a plan with ``head_bytes`` (and of TFLM's plan) on ``target``.

    Raises
    ------
    ArenaError
        When TFLM's allocation could not succeed for the model (an op the tail model refuses).
    """
    abi = abi_for(target)
    kernels = table.kernels
    notes: list[str] = []
    if abi is CORTEX_M and kernels.startswith("cmsis-nn"):
        notes.append(
            "CMSIS-NN tail from the kernels' source and 32-bit struct sizes; not measured for this build (no emulated"
            " Cortex-M0+)"
            if kernels == "cmsis-nn-plain"
            else "CMSIS-NN tail from the kernels' source and 32-bit struct sizes, equal to real TFLM + CMSIS-NN on"
            " emulated cores for every shared model (`arena measure` runs this one)"
        )
    tail = _tail(model, table, abi, kernels=kernels)
    minimum = _minimum_arena(model, table, head_bytes, abi, kernels=kernels)
    tflm_minimum = (
        minimum
        if tflm_head_bytes == head_bytes
        else _minimum_arena(model, table, tflm_head_bytes, abi, kernels=kernels)
    )
    return ArenaSizing(
        target=target, abi=abi.name, tail=tail, minimum=minimum, tflm_minimum=tflm_minimum, notes=tuple(notes)
    )
