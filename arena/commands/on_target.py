"""The exported firmware files proven on an emulated core (``arena simulate --execute --on-target``).

The files are the ones ``arena export`` writes for the same model, target, allocator and kernels,
rendered by the same functions, so what runs in QEMU is what a user pastes into firmware.
"""

from __future__ import annotations

from pathlib import Path

from arena.allocators import BEST_ALLOCATOR
from arena.commands.export import ExportBundle, build_export
from arena.model.reader import read_model
from arena.plan.c_source import render_header, render_model_array, render_source
from arena.proofs.emulator.build import Progress
from arena.proofs.emulator.exported import ExportedFiles, OnTargetProof, prove_exported
from arena.proofs.emulator.measure import prepare_library
from arena.targets import Target

#: The header name the exported arena source includes (as ``arena export --header`` names it).
HEADER_NAME = "model_arena.h"


def exported_files(bundle: ExportBundle) -> ExportedFiles:
    """The header, arena source and model array of an export, as text."""
    arena = bundle.arena
    return ExportedFiles(
        prefix=arena.prefix,
        header_name=HEADER_NAME,
        header_text=render_header(arena),
        source_text=render_source(arena, HEADER_NAME),
        model_array_text=render_model_array(bundle.model_bytes, arena.prefix, arena.model_name),
        arena_size_bytes=arena.total_bytes,
        tensor_offsets=arena.tensor_offsets,
    )


def prove_on_target(
    model: str | Path,
    *,
    target: Target,
    allocator: str = BEST_ALLOCATOR,
    kernels: str | None = None,
    sources: str | Path,
    seed: int = 0,
    jobs: int = 2,
    progress: Progress | None = None,
) -> OnTargetProof:
    """Export ``model`` for ``target`` and run the files and the unmodified model on its core.

    Raises
    ------
    ArenaError
        For kernels the emulator does not build, a core QEMU cannot emulate, missing tools or
        sources, or a build that fails.
    """
    family = kernels or target.default_kernels
    library = prepare_library(target.core, family, sources=Path(sources), jobs=jobs, progress=progress)
    bundle = build_export(model, target=target, allocator=allocator, kernels=family)
    if progress is not None:
        progress(f"running the unmodified and the exported model on {library.board.machine} ...")
    return prove_exported(library, read_model(model), exported_files(bundle), seed=seed)
