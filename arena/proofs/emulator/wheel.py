"""The same model and seeded inputs through the tflite-micro wheel, to compare with the emulator.

The wheel is TFLM's reference kernels built for the host, so for ``--kernels reference`` the
emulated firmware must produce the same bytes; CMSIS-NN's int8 kernels aim to match the
reference ones bit for bit, which ``arena measure`` checks rather than assumes (measured equal on
every shared model on the emulated Cortex-M4, 2026-12-04). The wheel runs in a child process
(:mod:`arena.proofs.tflm_child`) so that a crash in it cannot take the command down.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from arena.model.records import Model

#: Wheel arena: large enough for every shared model (the wheel has no bisection to do here).
_WHEEL_ARENA_BYTES = 8 * 1024 * 1024
_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True, slots=True, kw_only=True)
class WheelComparison:
    """Whether the emulator's outputs equal the wheel's (None when the wheel could not run)."""

    identical: bool | None
    error: str | None


def compare_with_wheel(
    model: Model, inputs: tuple[bytes, ...], outputs: tuple[bytes, ...], seed: int
) -> WheelComparison:
    """Run the wheel on ``model`` with the seed's inputs and compare its outputs with ``outputs``."""
    import numpy as np

    from arena.proofs.inputs import make_inputs
    from arena.proofs.tflm_run import _run_child

    arrays = make_inputs(model, seed=seed)
    if tuple(a.tobytes() for a in arrays) != inputs:
        return WheelComparison(identical=None, error="the emulator's inputs are not the seed's")
    subgraph = model.subgraphs[0]
    work = Path(tempfile.mkdtemp(prefix="arena-measure-wheel-"))
    try:
        shutil.copyfile(model.path, work / "unmodified.tflite")
        np.savez(work / "inputs.npz", *arrays)
        run = _run_child(
            work,
            "tflm",
            "unmodified",
            _WHEEL_ARENA_BYTES,
            (tuple(subgraph.inputs), tuple(subgraph.outputs)),
            _TIMEOUT_SECONDS,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if run.error is not None:
        return WheelComparison(identical=None, error=run.error)
    return WheelComparison(identical=tuple(a.tobytes() for a in run.outputs) == outputs, error=None)
