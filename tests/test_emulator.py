"""On-target truth (issue 13): arena's 32-bit prediction against real TFLM on emulated Cortex-M.

Expected values come only from the emulator: TFLM 90b983c2 built with arm-none-eabi-gcc for the
core (CMSIS-NN or reference kernels) and run in qemu-system-arm, which reports the allocator's
head and tail and the smallest arena ``AllocateTensors`` accepts (bisection inside the firmware).
The libraries are built once per (core, kernels) for the whole session and cached under
``~/.cache/arena/tflm-build`` (about 6 minutes each on 2 cores the first time).

Marked ``emulator``; skipped when the toolchain or QEMU is missing, except under ``CI=true``
where ``.ci/run`` installs them, so a missing tool fails instead of passing silently.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from arena.model.reader import read_model
from arena.plan.pipeline import plan_model
from arena.proofs.emulator.build import Library
from arena.proofs.emulator.measure import prepare_library, run_model
from arena.targets import get_target
from tests.conftest import SHARED_DIR, model_id

pytestmark = pytest.mark.emulator

SOURCES = Path(os.environ.get("ARENA_TFLM_SOURCES", str(SHARED_DIR / "third_party")))

#: Every shared model TFLM runs: the top level of ../shared/models (not special/ or unsupported/).
MODELS = sorted((SHARED_DIR / "models").glob("*.tflite"))

#: (target, kernels) pairs the issue asks for: M4 with CMSIS-NN, M55 with CMSIS-NN (Helium), M4 reference.
CONFIGS = (("cortex-m4", "cmsis-nn"), ("cortex-m55", "cmsis-nn"), ("cortex-m4", "reference"))

_TOOLS = ("arm-none-eabi-gcc", "arm-none-eabi-g++", "qemu-system-arm", "make")


@pytest.fixture(scope="session")
def library_for() -> Callable[[str, str], Library]:
    """Build (or reuse from the cache) one TFLM library per (core, kernels), once per session."""
    missing = [tool for tool in _TOOLS if shutil.which(tool) is None]
    if missing or not SOURCES.is_dir():
        message = f"emulator tests need {', '.join(missing) or SOURCES}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    libraries: dict[tuple[str, str], Library] = {}

    def get(core: str, kernels: str) -> Library:
        if (core, kernels) not in libraries:
            libraries[core, kernels] = prepare_library(core, kernels, sources=SOURCES, jobs=2)
        return libraries[core, kernels]

    return get


@pytest.mark.parametrize(("target_name", "kernels"), CONFIGS, ids=[f"{t}-{k}" for t, k in CONFIGS])
@pytest.mark.parametrize("path", MODELS, ids=[model_id(p) for p in MODELS])
def test_predicted_head_tail_minimum_equal_measured(
    library_for: Callable[[str, str], Library], path: Path, target_name: str, kernels: str
) -> None:
    target = get_target(target_name)
    model = read_model(path)
    measured = run_model(library_for(target.core, kernels), model, seed=0).measurement
    sizing = plan_model(model, allocator="tflm", kernels=kernels, target=target).sizing
    assert sizing is not None
    # The measured minimum is bracketed: accepted at N, refused (or crashed) at N - 1.
    minimum = measured.minimum_arena_bytes
    assert measured.probes[minimum] is True
    assert measured.probes.get(minimum - 1) is False or minimum - 1 in measured.crashed_probes
    assert (sizing.head_bytes, sizing.tail_bytes, sizing.tflm_total_bytes) == (
        measured.head_bytes,
        measured.tail_bytes,
        measured.minimum_arena_bytes,
    )


def test_kws_arena_used_bytes_matches_the_recorded_run(library_for: Callable[[str, str], Library]) -> None:
    """../shared/third_party/README.md records 22820 for KWS on an emulated M4 with CMSIS-NN."""
    path = SHARED_DIR / "models" / "mlperf_kws_ref_model.tflite"
    measured = run_model(library_for("cortex-m4", "cmsis-nn"), read_model(path)).measurement
    assert measured.arena_used_bytes == 22820
