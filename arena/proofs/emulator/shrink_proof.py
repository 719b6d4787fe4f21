"""Prove a shrunk model on an emulated Cortex-M: the CMSIS-NN counterpart of the wheel's proof.

The ``tflite-micro`` wheel runs only the reference kernels, so a model shrunk for CMSIS-NN is
proven where those kernels really run: TFLM 90b983c2 + CMSIS-NN built for the core and run in
QEMU (:mod:`arena.proofs.emulator.measure`). The unmodified and the shrunk model (its plan
embedded) run the same seeded inputs on the same core; the proof holds when every output byte is
equal and the head TFLM reports for the shrunk model is the plan's (the judgement is
:class:`arena.proofs.shrink_proof.TflmProof`, shared with the wheel).
"""

from __future__ import annotations

from arena.errors import ArenaError
from arena.model.reader import read_model_bytes
from arena.model.records import Model
from arena.proofs.emulator.build import Library
from arena.proofs.emulator.measure import run_model
from arena.proofs.shrink_proof import TflmProof


def runtime_name(library: Library) -> str:
    """How the proof ran, for reports: TFLM, the kernels, the core and the QEMU machine."""
    return f"TFLM 90b983c2 + {library.kernels} on {library.board.core} (QEMU {library.board.machine})"


def prove_on_core(library: Library, original: Model, shrunk_bytes: bytes, *, seed: int = 0) -> TflmProof:
    """Run both models on the library's emulated core and compare outputs and the shrunk head.

    A failure to link or run the shrunk model is the proof's ``error`` (the model is then not
    proven); a failure on the unmodified model is raised, since nothing can be compared.

    Raises
    ------
    ArenaError
        When the unmodified model cannot be run on the core.
    """
    before = run_model(library, original, seed=seed).measurement
    shrunk = read_model_bytes(shrunk_bytes, original.path)
    try:
        after = run_model(library, shrunk, seed=seed).measurement
    except ArenaError as failure:
        return TflmProof(
            original_head_bytes=before.head_bytes,
            shrunk_head_bytes=None,
            expected_head_bytes=None,
            outputs_identical=False,
            arena_size_bytes=0,
            error=str(failure),
            runtime=runtime_name(library),
        )
    return TflmProof(
        original_head_bytes=before.head_bytes,
        shrunk_head_bytes=after.head_bytes,
        expected_head_bytes=None,
        outputs_identical=len(before.outputs) == len(after.outputs) and before.outputs == after.outputs,
        arena_size_bytes=after.minimum_arena_bytes,
        error=None,
        runtime=runtime_name(library),
    )


__all__ = ["prove_on_core", "runtime_name"]
