"""``arena cost``: cycles, latency and energy of one inference of a model on a catalog target.

Beside the cycle estimate, the report carries instruction counts: predicted per op from the
shipped per-kernel fit (:mod:`arena.cost.instructions`) where one exists for the target's core
and kernels, and, with ``measure``, counted by running the model with real TFLM on the emulated
core (:mod:`arena.proofs.emulator`, docs/on-target.md). The record prints nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from arena.cost.estimate import CostEstimate
from arena.cost.instructions import InstructionEstimate
from arena.cost.on_target import estimate_on_target, instructions_on_target
from arena.errors import ArenaError
from arena.model.reader import read_model
from arena.model.records import Model
from arena.targets import Target, choose_target


def cost_model_on_target(
    model: Model | str | Path,
    target_name: str,
    *,
    kernels: str | None = None,
    clock_mhz: float | None = None,
    rate_hz: float | None = None,
    stack: str | None = None,
) -> CostEstimate:
    """``arena cost``: read the model, choose the target (with a clock override), estimate."""
    target = choose_target(target_name, clock_mhz=clock_mhz)
    loaded = model if isinstance(model, Model) else read_model(model)
    return estimate_on_target(loaded, target, kernels=kernels, rate_hz=rate_hz, stack=stack)


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasuredInstructions:
    """Instructions real TFLM executed per op on the emulated core (``arena cost --measure``)."""

    machine: str
    kernels: str
    #: (TFLM op name, instructions) per invoked op, in execution order.
    ops: tuple[tuple[str, int], ...]
    #: The same counts lined up with the estimate's layers; None where they could not be lined up.
    per_layer: tuple[int | None, ...]
    invoke_instructions: int
    library_cached: bool
    build_seconds: float
    run_seconds: float

    @property
    def op_instructions(self) -> int:
        """Sum over the invoked ops (Invoke adds its own loop on top)."""
        return sum(count for _, count in self.ops)

    @property
    def lined_up(self) -> bool:
        """True when every layer has its measured count."""
        return all(count is not None for count in self.per_layer)


@dataclass(frozen=True, slots=True, kw_only=True)
class CostReport:
    """What ``arena cost`` shows: the cycle estimate and the instruction counts beside it."""

    estimate: CostEstimate
    #: Predicted instructions per op; None when no fit covers the target (``instructions_reason``).
    instructions: InstructionEstimate | None
    instructions_reason: str | None
    measured: MeasuredInstructions | None = None


def _per_layer(estimate: CostEstimate, ops: tuple[tuple[str, int], ...]) -> tuple[int | None, ...]:
    """Measured counts by layer when the firmware invoked exactly the model's ops, in order."""
    names = [layer.op_name for layer in estimate.layers]
    same = len(names) == len(ops) and all(
        n == tag or n.endswith(":" + tag) for n, (tag, _) in zip(names, ops, strict=False)
    )
    return tuple(count for _, count in ops) if same else tuple(None for _ in names)


def measure_instructions(
    model: Model,
    target: Target,
    estimate: CostEstimate,
    *,
    kernels: str | None,
    sources: str | Path,
    jobs: int = 2,
    progress: Callable[[str], None] | None = None,
) -> MeasuredInstructions:
    """Run ``model`` with real TFLM on the emulated board for the target's core.

    Raises
    ------
    ArenaError
        For a core QEMU does not emulate, a kernel family the emulator does not build, missing
        tools or sources, or a build or run that fails (one line).
    """
    from arena.proofs.emulator.boards import board_for_core
    from arena.proofs.emulator.measure import prepare_library, run_model

    family = kernels or target.default_kernels
    board = board_for_core(target.core)  # the one-line error for M0+ and M85, before any tool check
    library = prepare_library(target.core, family, sources=Path(sources), jobs=jobs, progress=progress)
    if progress is not None:
        progress(f"running {model.display_name} on {board.machine} ...")
    run = run_model(library, model)
    measured = run.measurement
    ops = tuple((op.tag, op.instructions) for op in measured.ops)
    return MeasuredInstructions(
        machine=measured.machine,
        kernels=family,
        ops=ops,
        per_layer=_per_layer(estimate, ops),
        invoke_instructions=measured.invoke_instructions,
        library_cached=run.library_cached,
        build_seconds=run.build_seconds,
        run_seconds=measured.run_seconds,
    )


def cost_report(
    model_path: str | Path,
    target_name: str,
    *,
    kernels: str | None = None,
    clock_mhz: float | None = None,
    rate_hz: float | None = None,
    stack: str | None = None,
    measure: bool = False,
    sources: str | Path | None = None,
    jobs: int = 2,
    progress: Callable[[str], None] | None = None,
) -> CostReport:
    """``arena cost``: the estimate, predicted instructions and (with ``measure``) measured ones.

    Raises
    ------
    ArenaError
        For a bad model or target, or (with ``measure``) anything :func:`measure_instructions`
        raises; ``sources`` is required then.
    """
    target = choose_target(target_name, clock_mhz=clock_mhz)
    model = read_model(model_path)
    estimate = estimate_on_target(model, target, kernels=kernels, rate_hz=rate_hz, stack=stack)
    predicted, reason = instructions_on_target(model, target, kernels)
    measured = None
    if measure:
        if sources is None:
            raise ArenaError("arena cost --measure needs the TFLM sources (--sources DIR)")
        measured = measure_instructions(
            model, target, estimate, kernels=kernels, sources=sources, jobs=jobs, progress=progress
        )
    return CostReport(estimate=estimate, instructions=predicted, instructions_reason=reason, measured=measured)
