"""Shared fixtures: the ../shared folder (skip when absent, fail under CI) and tiny records."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from arena.model.records import Model, Operator, Subgraph, Tensor

if TYPE_CHECKING:
    from arena.model.rewrite import GraphRewrite
    from arena.proofs.emulator.build import Library

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = PROJECT_ROOT.parent / "shared"
BUNDLED_MODELS = PROJECT_ROOT / "models"


def shared_models_dir() -> Path:
    """``../shared/models``, or skip (a user's clone) / fail (CI=true) when it is missing."""
    models = SHARED_DIR / "models"
    if not models.is_dir():
        message = f"{models} is missing: the shared real models live beside the project checkout"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return models


def shared_model_paths() -> list[Path]:
    """Every shared .tflite (empty when ../shared is absent; tests then skip via the fixture)."""
    models = SHARED_DIR / "models"
    return sorted(models.rglob("*.tflite")) if models.is_dir() else []


def model_id(path: Path) -> str:
    return path.name.removesuffix(".tflite")


@pytest.fixture
def shared_dir() -> Path:
    """The shared models folder, with the skip/fail rule above."""
    return shared_models_dir()


def proven_split_heads(model: Model, rewrite: GraphRewrite, seed: int) -> tuple[int | None, int | None]:
    """Plan ``model`` rewritten by ``rewrite`` exactly, run it and ``model`` in the tflite-micro
    wheel on seeded inputs, and assert the outputs bit-identical and TFLM's head equal to the plan.

    Returns TFLM's measured heads (original, shrunk) for further checks.
    """
    from arena.model.reader import read_model_bytes
    from arena.model.rewrite import rewrite_graph
    from arena.plan.embed import embed_plan
    from arena.plan.pipeline import plan_model
    from arena.proofs.shrink_proof import prove_in_tflm

    shrunk = plan_model(read_model_bytes(rewrite_graph(model.data, rewrite)), allocator="exact")
    assert shrunk.ok
    proof = prove_in_tflm(model, embed_plan(shrunk), seed=seed).against(shrunk.plan.peak_bytes)
    assert proof.error is None
    assert proof.outputs_identical
    assert proof.shrunk_head_bytes == shrunk.plan.peak_bytes  # TFLM uses exactly the embedded plan
    return proof.original_head_bytes, proof.shrunk_head_bytes


def tensor(
    index: int,
    shape: tuple[int, ...],
    *,
    type_code: int = 9,
    const: bool = False,
    variable: bool = False,
    name: str | None = None,
) -> Tensor:
    """A tensor record; int8 (type 9) unless told otherwise."""
    return Tensor(
        index=index,
        name=name or f"t{index}",
        shape=shape,
        type_code=type_code,
        buffer=index + 1 if const else 0,
        has_data=const,
        is_variable=variable,
    )


def operator(
    index: int,
    op_name: str,
    inputs: tuple[int, ...],
    outputs: tuple[int, ...],
    options: dict[str, object] | None = None,
    custom_options: bytes = b"",
) -> Operator:
    """An operator record; builtin unless ``op_name`` starts with ``CUSTOM:``."""
    custom = op_name.split(":", 1)[1] if op_name.startswith("CUSTOM:") else None
    return Operator(
        index=index,
        opcode_index=0,
        builtin_code=32 if custom else 0,
        op_name=op_name,
        custom_code=custom,
        version=1,
        inputs=inputs,
        outputs=outputs,
        options=options or {},
        custom_options=custom_options,
    )


def make_model(*subgraphs: Subgraph, name: str = "test.tflite") -> Model:
    """A Model record around hand-built subgraphs (no flatbuffer behind it)."""
    return Model(
        path=name,
        sha256="0" * 64,
        size_bytes=0,
        version=3,
        description="",
        subgraphs=subgraphs,
        metadata=(),
        buffer_count=0,
        data=b"",
    )


#: The pinned TFLM source tarballs the emulator tests build from.
EMULATOR_SOURCES = Path(os.environ.get("ARENA_TFLM_SOURCES", str(SHARED_DIR / "third_party")))
#: The (core, kernels) libraries the emulator tests build (issue 13: M4 with CMSIS-NN, M55 with
#: CMSIS-NN and Helium, M4 with the reference kernels); every emulator test stays within them so
#: that CI on a new machine builds three libraries, not more.
EMULATOR_CONFIGS = (("cortex-m4", "cmsis-nn"), ("cortex-m55", "cmsis-nn"), ("cortex-m4", "reference"))
_EMULATOR_TOOLS = ("arm-none-eabi-gcc", "arm-none-eabi-g++", "qemu-system-arm", "make")


@pytest.fixture(scope="session")
def library_for() -> Callable[[str, str], Library]:
    """Build (or reuse from the cache) one TFLM library per (core, kernels), once per session.

    Skips when the toolchain, QEMU or the sources are missing, except under ``CI=true`` where
    ``.ci/run`` installs them, so a missing tool fails instead of passing silently.
    """
    from arena.errors import ArenaError
    from arena.proofs.emulator.measure import prepare_library

    missing = [tool for tool in _EMULATOR_TOOLS if shutil.which(tool) is None]
    if missing or not EMULATOR_SOURCES.is_dir():
        message = f"emulator tests need {', '.join(missing) or EMULATOR_SOURCES}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    libraries: dict[tuple[str, str], Library | ArenaError] = {}

    def get(core: str, kernels: str) -> Library:
        # A failed build is remembered, so the other tests of that core fail at once instead of rebuilding.
        if (core, kernels) not in libraries:
            try:
                libraries[core, kernels] = prepare_library(core, kernels, sources=EMULATOR_SOURCES, jobs=2)
            except ArenaError as error:
                libraries[core, kernels] = error
        library = libraries[core, kernels]
        if isinstance(library, ArenaError):
            pytest.fail(f"TFLM for {core} with {kernels} kernels: {library}")
        return library

    return get
