"""Real-TFLM proof of a shrunk model: same outputs, bit for bit, and exactly the planned head.

Both models run in the ``tflite-micro`` wheel (reference kernels) in child processes, driven by
:mod:`arena.execute` (its child protocol, input generation and arena sizing): the original with a
generous arena, the shrunk one with head + measured tail + slack. TFLM reports the head it used
(``print_allocations``); the shrunk model's must equal the head of the plan it carries.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

from arena.model.reader import read_model_bytes
from arena.model.records import Model

#: The runtime of :func:`prove_in_tflm`.
WHEEL_RUNTIME = "tflite-micro wheel (reference kernels, x86-64)"


@dataclass(frozen=True, slots=True, kw_only=True)
class TflmProof:
    """What TFLM measured: heads of both models, output identity, errors."""

    original_head_bytes: int | None
    shrunk_head_bytes: int | None
    expected_head_bytes: int | None
    outputs_identical: bool
    arena_size_bytes: int
    error: str | None
    #: Where both models ran (the wheel on the host, or TFLM + CMSIS-NN on an emulated core).
    runtime: str = WHEEL_RUNTIME

    @property
    def head_matches(self) -> bool:
        """True when TFLM's head for the shrunk model is the planned one."""
        return self.shrunk_head_bytes is not None and self.shrunk_head_bytes == self.expected_head_bytes

    @property
    def ok(self) -> bool:
        """Bit-identical outputs and the planned head."""
        return self.error is None and self.outputs_identical and self.head_matches

    def against(self, head_bytes: int) -> TflmProof:
        """The same measurement judged against the planned ``head_bytes``."""
        return dataclasses.replace(self, expected_head_bytes=head_bytes)


def prove_in_tflm(original: Model, shrunk_bytes: bytes, *, seed: int = 0, timeout_seconds: float = 300.0) -> TflmProof:
    """Run both models in TFLM on the same seeded inputs and compare every output byte."""
    import numpy as np

    from arena.lifetimes import derive_lifetimes
    from arena.proofs.inputs import make_inputs
    from arena.proofs.tflm_run import REFERENCE_ARENA_BYTES, _run_child, default_arena_size

    shrunk = read_model_bytes(shrunk_bytes, original.path)
    graph = original.subgraphs[0]
    io_tensors = (graph.inputs, graph.outputs)
    arrays = make_inputs(original, None, seed)
    buffers = len(derive_lifetimes(shrunk).problem.buffers)
    with tempfile.TemporaryDirectory(prefix="arena-shrink-") as folder:
        work = Path(folder)
        (work / "unmodified.tflite").write_bytes(original.data)
        (work / "shrunk.tflite").write_bytes(shrunk_bytes)
        np.savez(work / "inputs.npz", *arrays)
        generous = max(REFERENCE_ARENA_BYTES, 10 * original.size_bytes)
        before = _run_child(work, "tflm", "unmodified", generous, io_tensors, timeout_seconds)
        probe = _run_child(work, "tflm", "shrunk", generous, io_tensors, timeout_seconds)
        head = probe.head_bytes if probe.head_bytes is not None else generous
        tail = probe.tail_bytes if probe.tail_bytes is not None else REFERENCE_ARENA_BYTES
        # Second run in an arena sized from the shrunk model's own head and tail (a rewrite adds
        # ops, hence tail): a head that only fits in a generous arena is not what the plan claims.
        size = default_arena_size(head, tail, buffers)
        after = _run_child(work, "tflm", "shrunk", size, io_tensors, timeout_seconds)
    error = before.error or after.error
    identical = (
        error is None
        and len(before.outputs) == len(after.outputs)
        and all(a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
                for a, b in zip(before.outputs, after.outputs, strict=True))
    )  # fmt: skip
    return TflmProof(
        original_head_bytes=before.head_bytes,
        shrunk_head_bytes=after.head_bytes,
        expected_head_bytes=None,
        outputs_identical=identical,
        arena_size_bytes=size,
        error=error,
    )


__all__ = ["WHEEL_RUNTIME", "TflmProof", "prove_in_tflm"]
