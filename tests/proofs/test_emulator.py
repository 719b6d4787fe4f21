"""Real TFLM 90b983c2 built for Cortex-M and run in QEMU against arena's 32-bit predictions.

Marked ``emulator``: each (core, kernels) library is built once per machine (~6-12 min on 2
cores; cached under ~/.cache/arena/tflm-build) and once per session here; each model is then a
link (~1 s) and a QEMU run (< 1 s). Expected values come only from the emulated device: the
measured head (non-persistent bytes), tail (persistent bytes) and smallest arena that
``AllocateTensors`` accepts, found by bisection on the device with the failure one byte below
recorded. Skips when the Debian packages are missing, fails under CI=true.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from arena.errors import ArenaError
from arena.model.reader import read_model
from arena.plan.pipeline import plan_model
from arena.proofs.emulator.build import Library, check_tools
from arena.proofs.emulator.measure import EmulatorRun, prepare_library, run_model
from arena.proofs.inputs import make_inputs
from arena.targets import get_target
from conftest import SHARED_DIR, model_id

pytestmark = pytest.mark.emulator

#: Every shared model TFLM runs: the top-level folder (special/ needs the Ethos-U NPU,
#: unsupported/ ops TFLM lacks).
MODELS = sorted((SHARED_DIR / "models").glob("*.tflite")) if (SHARED_DIR / "models").is_dir() else []
#: (arena target, kernel family): M4 with CMSIS-NN (DSP), M55 with CMSIS-NN (Helium), M4 reference.
BUILDS = (("cortex-m4", "cmsis-nn"), ("cortex-m55", "cmsis-nn"), ("cortex-m4", "reference"))


def _skip_or_fail(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def libraries() -> dict[tuple[str, str], Library]:
    """One TFLM build per (core, kernels), from the shared sources (cached across sessions)."""
    try:
        check_tools()
    except ArenaError as error:
        _skip_or_fail(str(error))
    sources = SHARED_DIR / "third_party"
    if not sources.is_dir():
        _skip_or_fail(f"{sources} is missing: the pinned TFLM sources live beside the project checkout")
    return {}


def _library(libraries: dict[tuple[str, str], Library], target: str, kernels: str) -> Library:
    key = (target, kernels)
    if key not in libraries:
        core = get_target(target).core
        libraries[key] = prepare_library(core, kernels, sources=SHARED_DIR / "third_party")
    return libraries[key]


_RUNS: dict[tuple[str, str, str], EmulatorRun] = {}


def _run(libraries: dict[tuple[str, str], Library], target: str, kernels: str, path: Path) -> EmulatorRun:
    key = (target, kernels, str(path))
    if key not in _RUNS:
        _RUNS[key] = run_model(_library(libraries, target, kernels), read_model(path))
    return _RUNS[key]


@pytest.mark.parametrize("target,kernels", BUILDS, ids=[f"{t}-{k}" for t, k in BUILDS])
@pytest.mark.parametrize("path", MODELS, ids=model_id)
def test_predicted_32_bit_arena_equals_measured(
    libraries: dict[tuple[str, str], Library], target: str, kernels: str, path: Path
) -> None:
    measured = _run(libraries, target, kernels, path).measurement
    # The bisection brackets the minimum: accepted at it, refused (or crashed) one byte below.
    assert measured.probes[measured.minimum_arena_bytes] is True
    assert measured.probes[measured.minimum_arena_bytes - 1] is False
    assert measured.arena_used_bytes == measured.head_bytes + measured.tail_bytes
    sizing = plan_model(path, allocator="tflm", kernels=kernels, target=get_target(target)).sizing
    assert sizing is not None
    predicted = (sizing.head_bytes, sizing.tail_bytes, sizing.tflm_total_bytes)
    assert predicted == (measured.head_bytes, measured.tail_bytes, measured.minimum_arena_bytes)


@pytest.mark.parametrize("path", MODELS, ids=model_id)
def test_reference_kernels_on_cortex_m4_give_the_wheels_outputs(
    libraries: dict[tuple[str, str], Library], path: Path
) -> None:
    # Same reference kernels, same seeded inputs: the 32-bit build's outputs equal the x86-64
    # tflite-micro wheel's byte for byte (float models included: both use IEEE single precision
    # without fused multiply-add on a soft-float M4).
    from tflite_micro import runtime  # type: ignore[import-untyped]

    run = _run(libraries, "cortex-m4", "reference", path)
    model = read_model(path)
    arrays = make_inputs(model, seed=run.seed)
    assert tuple(a.tobytes() for a in arrays) == run.inputs
    interpreter = runtime.Interpreter.from_file(str(path), arena_size=4 * 1024 * 1024)
    for position, array in enumerate(arrays):
        interpreter.set_input(array, position)
    interpreter.invoke()
    graph = model.subgraphs[0]
    wheel = tuple(interpreter.get_output(k).tobytes() for k in range(len(graph.outputs)))
    assert run.measurement.outputs == wheel


def test_instruction_counts_repeat_exactly(libraries: dict[tuple[str, str], Library]) -> None:
    # -icount shift=0 makes the emulated clock a function of the instructions executed, so two
    # runs of the same firmware count the same instructions per op.
    path = SHARED_DIR / "models" / "mlperf_kws_ref_model.tflite"
    library = _library(libraries, "cortex-m4", "cmsis-nn")
    first = run_model(library, read_model(path)).measurement
    second = run_model(library, read_model(path)).measurement
    assert [op.instructions for op in first.ops] == [op.instructions for op in second.ops]
    assert first.invoke_instructions == second.invoke_instructions > sum(op.instructions for op in first.ops) > 0
