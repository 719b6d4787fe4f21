"""Compile the firmware harness against a built library and link one ELF per model.

The harness (``firmware/main.cc``, ``startup.c``, ``semihost.c``) is compiled once per library
with TFLM's own flags (cached by the harness's digest); each model adds generated sources: its
data (model, inputs, static arena; plain C) and its op resolver (C++, shared by models with the
same ops), or, to prove an export, the exported header, arena source and model array in place of
the data. Objects and ELFs are cached in the library's directory by the digest of what went
into them, so re-measuring a model costs only the emulator run.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
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


def _compile(library: Library, source: Path, output: Path, *, include: Path | None = None) -> None:
    is_cxx = source.suffix == ".cc"
    compiler = "arm-none-eabi-g++" if is_cxx else "arm-none-eabi-gcc"
    flags = list(library.cxxflags if is_cxx else library.ccflags)
    local = [f"-I{include}"] if include is not None else []
    command = [compiler, *flags, "-O2", *local, *library.includes, "-c", str(source), "-o", str(output)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        first = next((line for line in result.stderr.splitlines() if "error" in line), result.stderr.strip()[:200])
        raise ArenaError(f"compiling {source.name} for {library.board.core} failed: {first}")


def harness_digest() -> str:
    """A digest of the harness sources: the key of their objects and part of every ELF's key."""
    digest = hashlib.sha256()
    for name in _HARNESS:
        digest.update((_firmware_dir() / name).read_bytes())
    return digest.hexdigest()[:16]


def _harness_objects(library: Library) -> list[Path]:
    objects_dir = library.directory / f"harness-{harness_digest()}"
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


@dataclass(frozen=True, slots=True)
class GeneratedSource:
    """One source file linked into a firmware: its text, its suffix (``.c``/``.cc``) and the
    headers it includes by name (written beside it for the compile)."""

    text: str
    suffix: str
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def digest(self) -> str:
        """The cache key of its object: the text and every header's name and text."""
        digest = hashlib.sha256(self.text.encode() + self.suffix.encode())
        for name, text in self.headers:
            digest.update(name.encode() + b"\0" + text.encode())
        return digest.hexdigest()[:20]


def _object_for(library: Library, generated: GeneratedSource) -> Path:
    """Compile a generated source once per content (cached under ``objects/`` by its digest)."""
    digest, suffix = generated.digest, generated.suffix
    out_dir = library.directory / "objects"
    obj = out_dir / f"{digest}{suffix}.o"
    if not obj.is_file():
        out_dir.mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
            source = Path(scratch) / f"{digest}{suffix}"
            source.write_text(generated.text)
            for name, text in generated.headers:
                (Path(scratch) / name).write_text(text)
            tmp = out_dir / f"{digest}{suffix}.tmp"
            _compile(library, source, tmp, include=Path(scratch))
            tmp.rename(obj)
    return obj


def link_firmware(
    library: Library,
    sources: Sequence[GeneratedSource],
    *,
    symbols: Sequence[tuple[str, str]] = (),
    tag: str = "model",
) -> Path:
    """The firmware ELF for one model's generated sources (built now, or reused from the cache).

    ``symbols`` are ``(name, target)`` linker aliases (``--defsym``): they bind the names the
    harness declares (``arena_model_data``, ``arena_buffer``) to the arrays of exported firmware
    files, which are then compiled exactly as a user's project compiles them.

    Raises
    ------
    ArenaError
        When compiling or linking fails (e.g. the model and arena do not fit the board's RAM).
    """
    key = hashlib.sha256(harness_digest().encode())
    for generated in sources:
        key.update(generated.digest.encode())
    for name, target in symbols:
        key.update(f"{name}={target}".encode())
    digest = key.hexdigest()[:20]
    out_dir = library.directory / "firmware"
    elf = out_dir / f"{tag}-{digest}.elf"
    with file_lock(library.directory / "firmware.lock"):
        if elf.is_file():
            return elf
        out_dir.mkdir(exist_ok=True)
        generated_objects = [_object_for(library, generated) for generated in sources]
        boards = _firmware_dir() / "boards"
        tmp = elf.with_suffix(".tmp")
        command = [
            "arm-none-eabi-g++",
            *_machine_flags(library),
            "-nostartfiles",
            "--specs=nosys.specs",
            "-Wl,--gc-sections",
            *(f"-Wl,--defsym={name}={target}" for name, target in symbols),
            f"-L{boards}",
            f"-T{boards / library.board.linker_script}",
            *(str(obj) for obj in _harness_objects(library)),
            *(str(obj) for obj in generated_objects),
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
