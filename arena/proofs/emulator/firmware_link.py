"""Compile the firmware harness against a built library and link one ELF per model.

The harness (``firmware/main.cc``, ``startup.c``, ``semihost.c``) is compiled once per library
with TFLM's own flags; each model adds two generated sources: its data (model, inputs, static
arena; plain C) and its op resolver (C++, shared by models with the same ops). ELFs are cached
in the library's directory by the digest of that source, so re-measuring a model costs only the
emulator run.
"""

from __future__ import annotations

import hashlib
import subprocess
from importlib import resources
from pathlib import Path

from arena.errors import ArenaError
from arena.proofs.emulator.build import Library
from arena.proofs.emulator.sources import file_lock

_HARNESS = ("main.cc", "startup.c", "semihost.c")


def _firmware_dir() -> Path:
    return Path(str(resources.files("arena.proofs.emulator") / "firmware"))


def _machine_flags(library: Library) -> list[str]:
    """The ``-m`` options (core, FPU, float ABI, Thumb) that must match between objects and link."""
    return [flag for flag in library.cxxflags if flag.startswith("-m")]


def _compile(library: Library, source: Path, output: Path) -> None:
    is_cxx = source.suffix == ".cc"
    compiler = "arm-none-eabi-g++" if is_cxx else "arm-none-eabi-gcc"
    flags = list(library.cxxflags if is_cxx else library.ccflags)
    command = [compiler, *flags, "-O2", *library.includes, "-c", str(source), "-o", str(output)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        first = next((line for line in result.stderr.splitlines() if "error" in line), result.stderr.strip()[:200])
        raise ArenaError(f"compiling {source.name} for {library.board.core} failed: {first}")


def _harness_objects(library: Library) -> list[Path]:
    objects_dir = library.directory / "harness"
    with file_lock(library.directory / "harness.lock"):
        objects_dir.mkdir(exist_ok=True)
        objects = []
        for name in _HARNESS:
            obj = objects_dir / (name + ".o")
            if not obj.is_file():
                tmp = obj.with_suffix(".tmp")
                _compile(library, _firmware_dir() / name, tmp)
                tmp.rename(obj)
            objects.append(obj)
    return objects


def _object_for(library: Library, text: str, suffix: str) -> Path:
    """Compile a generated source once per content (cached under ``objects/`` by its digest)."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    out_dir = library.directory / "objects"
    obj = out_dir / f"{digest}{suffix}.o"
    if not obj.is_file():
        out_dir.mkdir(exist_ok=True)
        source = out_dir / f"{digest}{suffix}"
        source.write_text(text)
        tmp = out_dir / f"{digest}{suffix}.tmp"
        _compile(library, source, tmp)
        tmp.rename(obj)
        source.unlink()
    return obj


def link_firmware(library: Library, data_text: str, resolver_text: str, *, tag: str = "model") -> Path:
    """The firmware ELF for one model's generated sources (built now, or reused from the cache).

    Raises
    ------
    ArenaError
        When compiling or linking fails (e.g. the model and arena do not fit the board's RAM).
    """
    digest = hashlib.sha256((data_text + resolver_text).encode()).hexdigest()[:20]
    out_dir = library.directory / "firmware"
    elf = out_dir / f"{tag}-{digest}.elf"
    with file_lock(library.directory / "firmware.lock"):
        if elf.is_file():
            return elf
        out_dir.mkdir(exist_ok=True)
        generated = [_object_for(library, data_text, ".c"), _object_for(library, resolver_text, ".cc")]
        boards = _firmware_dir() / "boards"
        tmp = elf.with_suffix(".tmp")
        command = [
            "arm-none-eabi-g++",
            *_machine_flags(library),
            "-nostartfiles",
            "--specs=nosys.specs",
            "-Wl,--gc-sections",
            f"-L{boards}",
            f"-T{boards / library.board.linker_script}",
            *(str(obj) for obj in _harness_objects(library)),
            *(str(obj) for obj in generated),
            str(library.archive),
            "-lm",
            "-o",
            str(tmp),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            lines = [line for line in result.stderr.splitlines() if "warning" not in line]
            raise ArenaError(f"linking the firmware for {library.board.core} failed: {' | '.join(lines[:3])[:300]}")
        tmp.rename(elf)
    return elf
