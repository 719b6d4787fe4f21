"""From a model file to a measurement on an emulated core: sources -> library -> firmware -> run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from arena.errors import ArenaError
from arena.model.records import Model
from arena.proofs.emulator.boards import Board, board_for_core
from arena.proofs.emulator.build import KERNEL_DIRS, Library, Progress, build_library, check_tools
from arena.proofs.emulator.firmware_link import GeneratedSource, link_firmware
from arena.proofs.emulator.model_source import data_source, op_registrations, resolver_methods, resolver_source
from arena.proofs.emulator.run import CAPACITY_BYTES, Measurement, measure_firmware
from arena.proofs.emulator.sources import unpack_sources


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorRun:
    """A measurement and how it was obtained (the library build, the firmware, the inputs)."""

    measurement: Measurement
    library_key: str
    library_cached: bool
    build_seconds: float
    link_seconds: float
    inputs: tuple[bytes, ...]
    seed: int


def prepare_library(
    core: str,
    kernels: str,
    *,
    sources: Path,
    cache: Path | None = None,
    jobs: int = 2,
    progress: Progress | None = None,
) -> Library:
    """Check the kernels and tools, unpack the sources and build (or reuse) TFLM for the core and kernels."""
    if kernels not in KERNEL_DIRS:
        raise ArenaError(f"the emulator builds {' or '.join(KERNEL_DIRS)} kernels, not {kernels!r}")
    check_tools()
    board: Board = board_for_core(core)
    tree = unpack_sources(sources, cache)
    return build_library(tree, board, kernels, cache=cache, jobs=jobs, progress=progress)


def firmware_sources(library: Library, model: Model, inputs: tuple[bytes, ...]) -> tuple[str, str]:
    """The generated data (C) and resolver (C++) sources for ``model`` with ``inputs``."""
    header = library.source.root / "tensorflow/lite/micro/micro_mutable_op_resolver.h"
    registrations = op_registrations(model, resolver_methods(header))
    return data_source(bytes(model.data), inputs, CAPACITY_BYTES), resolver_source(registrations)


def seeded_inputs(model: Model, seed: int) -> tuple[bytes, ...]:
    """The input bytes ``arena simulate --execute`` feeds for ``seed`` (arena.execute.make_inputs)."""
    from arena.proofs.inputs import make_inputs

    return tuple(array.tobytes() for array in make_inputs(model, seed=seed))


def run_model(library: Library, model: Model, *, seed: int = 0) -> EmulatorRun:
    """Link and run ``model`` on the library's board with seeded inputs."""
    inputs = seeded_inputs(model, seed)
    started = time.monotonic()
    data_text, resolver_text = firmware_sources(library, model, inputs)
    sources = (GeneratedSource(data_text, ".c"), GeneratedSource(resolver_text, ".cc"))
    elf = link_firmware(library, sources, tag=Path(model.path).stem[:40] or "model")
    link_seconds = time.monotonic() - started
    measurement = measure_firmware(library.board, library.kernels, elf)
    return EmulatorRun(
        measurement=measurement,
        library_key=library.directory.name,
        library_cached=library.cached,
        build_seconds=library.build_seconds,
        link_seconds=round(link_seconds, 3),
        inputs=inputs,
        seed=seed,
    )
