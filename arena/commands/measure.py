"""``arena measure``: real TFLM on an emulated Cortex-M beside arena's 32-bit prediction.

The measurement (:mod:`arena.proofs.emulator`) builds TFLM 90b983c2 with CMSIS-NN or the
reference kernels for the target's core, runs the model in QEMU and reads back the head, tail
and minimum arena; the prediction is ``plan_model`` with TFLM's own greedy allocator on the same
target and kernels. The record carries both and their differences; it prints nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from arena.proofs.emulator.build import Progress
from arena.proofs.emulator.measure import EmulatorRun, prepare_library, run_model


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasuredFigure:
    """One quantity, predicted and measured (bytes)."""

    name: str
    predicted_bytes: int
    measured_bytes: int

    @property
    def difference_bytes(self) -> int:
        """Measured minus predicted."""
        return self.measured_bytes - self.predicted_bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasureResult:
    """Predicted vs measured head, tail and minimum arena of one model on one emulated core."""

    model: str
    target: str
    core: str
    machine: str
    kernels: str
    figures: tuple[MeasuredFigure, ...]
    arena_used_bytes: int
    invoke_instructions: int
    op_instructions: tuple[tuple[str, int], ...]
    output_sha256: str
    #: The outputs equal the tflite-micro wheel's (reference kernels, host) on the same inputs;
    #: None when the wheel could not run (``wheel_error`` says why) or was not asked for.
    outputs_identical_to_wheel: bool | None
    wheel_error: str | None
    crashed_probes: tuple[int, ...]
    build_seconds: float
    library_cached: bool
    link_seconds: float
    run_seconds: float

    @property
    def ok(self) -> bool:
        """True when every prediction equals the measurement and the outputs are not known to differ."""
        return all(f.difference_bytes == 0 for f in self.figures) and self.outputs_identical_to_wheel is not False


def measure(
    model_path: str | Path,
    *,
    target_name: str,
    kernels: str | None = None,
    sources: str | Path,
    seed: int = 0,
    jobs: int = 2,
    compare_outputs: bool = True,
    progress: Progress | None = None,
) -> MeasureResult:
    """Measure ``model_path`` on the emulated board for ``target_name``'s core.

    Raises
    ------
    ArenaError
        For an unknown target, a core QEMU cannot emulate, missing tools or sources, or a build
        or run that fails.
    """
    from arena.model.reader import read_model
    from arena.plan.pipeline import plan_model
    from arena.targets import get_target

    target = get_target(target_name)
    family = kernels or target.default_kernels
    model = read_model(model_path)
    library = prepare_library(target.core, family, sources=Path(sources), jobs=jobs, progress=progress)
    run: EmulatorRun = run_model(library, model, seed=seed)
    predicted = plan_model(model, allocator="tflm", kernels=family, target=target)
    sizing = predicted.sizing
    assert sizing is not None
    measured = run.measurement
    comparison = None
    if compare_outputs:
        from arena.proofs.emulator.wheel import compare_with_wheel

        if progress is not None:
            progress("running the same inputs through the tflite-micro wheel ...")
        comparison = compare_with_wheel(model, run.inputs, measured.outputs, seed)
    figures = (
        MeasuredFigure(name="head", predicted_bytes=sizing.head_bytes, measured_bytes=measured.head_bytes),
        MeasuredFigure(name="tail", predicted_bytes=sizing.tail_bytes, measured_bytes=measured.tail_bytes),
        MeasuredFigure(
            name="minimum arena", predicted_bytes=sizing.tflm_total_bytes, measured_bytes=measured.minimum_arena_bytes
        ),
    )
    return MeasureResult(
        model=str(model_path),
        target=target.name,
        core=target.core,
        machine=measured.machine,
        kernels=family,
        figures=figures,
        arena_used_bytes=measured.arena_used_bytes,
        invoke_instructions=measured.invoke_instructions,
        op_instructions=tuple((op.tag, op.instructions) for op in measured.ops),
        output_sha256=hashlib.sha256(b"".join(measured.outputs)).hexdigest(),
        outputs_identical_to_wheel=comparison.identical if comparison else None,
        wheel_error=comparison.error if comparison else None,
        crashed_probes=measured.crashed_probes,
        build_seconds=run.build_seconds,
        library_cached=run.library_cached,
        link_seconds=run.link_seconds,
        run_seconds=measured.run_seconds,
    )
