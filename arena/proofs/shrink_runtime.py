"""Where a shrunk model is proven: the runtime that runs the kernel library it was shrunk for.

A rewrite is only as good as the run that proves it, and each kernel library runs somewhere
else: the reference kernels in the ``tflite-micro`` wheel on this host, CMSIS-NN in TFLM built
for a Cortex-M and run in QEMU. This module picks that runtime once per ``arena shrink`` (building
or reusing the TFLM library up front, so a missing toolchain fails before minutes of search) and
hands back one function that proves a shrunk model against the original.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from arena.errors import ArenaError
from arena.model.records import Model
from arena.proofs.shrink_proof import WHEEL_RUNTIME, TflmProof

#: The emulated core that runs a CMSIS-NN build when the target's own core has no QEMU board
#: (or no target is given): the DSP build on a Cortex-M4, the Helium build on a Cortex-M55.
CORE_FOR_LIBRARY = {"cmsis-nn-dsp": "cortex-m4", "cmsis-nn-mve": "cortex-m55"}

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ShrinkProver:
    """Proves a shrunk model (bytes) against the original on one runtime, named for reports."""

    runtime: str
    prove: Callable[[Model, bytes, int], TflmProof]

    def __call__(self, original: Model, shrunk_bytes: bytes, *, seed: int = 0) -> TflmProof:
        return self.prove(original, shrunk_bytes, seed)


def provable_libraries() -> frozenset[str]:
    """Kernel library builds some runtime here can run (the others cannot be proven)."""
    return frozenset({"reference", *CORE_FOR_LIBRARY})


def prover_for(
    library: str,
    *,
    target_core: str | None = None,
    sources: str | Path | None = None,
    jobs: int = 2,
    progress: Progress | None = None,
) -> ShrinkProver:
    """The runtime for ``library`` (a resolved build such as ``cmsis-nn-dsp``), ready to run.

    For CMSIS-NN the target's core is used when QEMU emulates it, else the core of
    :data:`CORE_FOR_LIBRARY`; its TFLM library is built now (minutes, once) or reused.

    Raises
    ------
    ArenaError
        For a library no runtime here runs (plain CMSIS-NN: no Cortex-M0+ board in QEMU), or
        missing tools or sources for the emulator (one line naming the Debian packages).
    """
    if library == "reference":
        from arena.proofs.shrink_proof import prove_in_tflm

        return ShrinkProver(WHEEL_RUNTIME, lambda original, shrunk, seed: prove_in_tflm(original, shrunk, seed=seed))
    if library not in CORE_FOR_LIBRARY:
        raise ArenaError(
            f"a model shrunk for {library} cannot be proven here: no emulated core runs that build"
            " (QEMU has no Cortex-M0+ board with enough RAM); use --no-prove to rely on the simulator alone"
        )
    from arena.proofs.emulator.boards import BOARDS
    from arena.proofs.emulator.measure import prepare_library
    from arena.proofs.emulator.shrink_proof import prove_on_core, runtime_name
    from arena.proofs.emulator.sources import default_sources_dir

    core = target_core if target_core in BOARDS else CORE_FOR_LIBRARY[library]
    built = prepare_library(
        core, "cmsis-nn", sources=Path(sources or default_sources_dir()), jobs=jobs, progress=progress
    )
    return ShrinkProver(
        runtime_name(built), lambda original, shrunk, seed: prove_on_core(built, original, shrunk, seed=seed)
    )


__all__ = ["CORE_FOR_LIBRARY", "ShrinkProver", "provable_libraries", "prover_for"]
