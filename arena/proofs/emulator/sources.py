"""The pinned TFLM, CMSIS-NN and third-party sources, unpacked once into arena's cache.

TFLM's Makefile downloads its dependencies into ``tensorflow/lite/micro/tools/make/downloads/``
unless they are already there; this module lays out the offline snapshots exactly as its
``*_download.sh`` scripts would (directory names, TFLM's own patches to flatbuffers and kissfft,
an empty ``pigweed/``), so ``make`` never touches the network. The snapshots are ``git archive``
tarballs of the public repositories at the commits TFLM 90b983c2 pins (see the README next to
them, e.g. ``../shared/third_party/README.md``).

The unpacked tree is keyed by the tarballs' SHA-256 digests, so different sources never share a
tree, and it is created under a lock and renamed into place only when complete.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from arena.errors import ArenaError

#: Tarball -> directory under TFLM's ``downloads/`` it unpacks into ("" = the TFLM tree itself).
#: From tensorflow/lite/micro/tools/make/ext_libs/*_download.sh and *_download.sh at 90b983c2.
SOURCE_TARBALLS: dict[str, str] = {
    "tflite-micro.tar.gz": "",
    "cmsis-nn.tar.gz": "cmsis_nn",
    "cmsis6.tar.gz": "cmsis",
    "cortex_dfp.tar.gz": "cmsis/Cortex_DFP",
    "flatbuffers.tar.gz": "flatbuffers",
    "gemmlowp.tar.gz": "gemmlowp",
    "ruy.tar.gz": "ruy",
    "kissfft.tar.gz": "kissfft",
}
#: TFLM's patches, applied after unpacking (paths inside the TFLM tree; downloads dir they patch).
_PATCHES: tuple[tuple[str, str], ...] = (
    ("tensorflow/lite/micro/tools/make/flatbuffers.patch", "flatbuffers"),
    ("third_party/kissfft/kissfft.patch", "kissfft"),
)
DOWNLOADS = "tensorflow/lite/micro/tools/make/downloads"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/arena`` or ``~/.cache/arena``: where sources and builds are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "arena"


def default_sources_dir() -> Path:
    """Where ``arena measure`` looks for the source tarballs when none are named."""
    return default_cache_dir() / "tflm-src"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceTree:
    """An unpacked, patched TFLM tree ready for ``make``, and the digest that names it."""

    root: Path
    digest: str

    @property
    def makefile(self) -> Path:
        """TFLM's top-level Makefile."""
        return self.root / "tensorflow/lite/micro/tools/make/Makefile"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_digest(sources: Path) -> str:
    """One digest over every tarball's name and SHA-256 (checked against ``SHA256SUMS`` if present).

    Raises
    ------
    ArenaError
        When a tarball is missing or does not match ``SHA256SUMS``.
    """
    if not sources.is_dir():
        raise ArenaError(f"{sources}: no such directory of TFLM source tarballs (see docs/on-target.md)")
    missing = [name for name in SOURCE_TARBALLS if not (sources / name).is_file()]
    if missing:
        raise ArenaError(f"{sources}: missing source tarball(s) {', '.join(missing)} (see docs/on-target.md)")
    sums = _read_sums(sources / "SHA256SUMS")
    combined = hashlib.sha256()
    for name in SOURCE_TARBALLS:
        actual = _sha256(sources / name)
        if name in sums and sums[name] != actual:
            raise ArenaError(f"{sources / name}: SHA-256 {actual[:12]}... does not match SHA256SUMS")
        combined.update(f"{name} {actual}\n".encode())
    return combined.hexdigest()


def _read_sums(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    sums: dict[str, str] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            sums[parts[1].lstrip("*")] = parts[0]
    return sums


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (``flock``) on ``path``, so concurrent runs build only once."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def unpack_sources(sources: Path, cache: Path | None = None) -> SourceTree:
    """Unpack and patch the tarballs in ``sources`` into ``cache/tflm-build/src-<digest>``, once.

    Raises
    ------
    ArenaError
        For missing or mismatched tarballs, or a patch that does not apply.
    """
    digest = source_digest(sources)
    builds = (cache or default_cache_dir()) / "tflm-build"
    root = builds / f"src-{digest[:16]}"
    with file_lock(builds / f"src-{digest[:16]}.lock"):
        if (root / ".complete").is_file():
            return SourceTree(root=root, digest=digest)
        staging = Path(tempfile.mkdtemp(prefix="src-", dir=builds))
        try:
            _unpack_into(sources, staging)
            (staging / ".complete").write_text(digest + "\n")
            if root.exists():
                shutil.rmtree(root)
            staging.rename(root)
        finally:
            if staging.exists():
                shutil.rmtree(staging)
    return SourceTree(root=root, digest=digest)


def _unpack_into(sources: Path, tree: Path) -> None:
    downloads = tree / DOWNLOADS
    for name, subdir in SOURCE_TARBALLS.items():
        target = tree if not subdir else downloads / subdir
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(sources / name) as archive:
            archive.extractall(target, filter="data")
    (downloads / "pigweed").mkdir(exist_ok=True)
    for patch, subdir in _PATCHES:
        apply_patch((tree / patch).read_text(), downloads / subdir, label=patch)
    # flatbuffers_download.sh deletes its BUILD files (they break TFLM's bazel build, not make).
    for build_file in (*downloads.glob("flatbuffers/**/BUILD"), *downloads.glob("flatbuffers/**/BUILD.bazel")):
        build_file.unlink()


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply_patch(text: str, directory: Path, *, label: str) -> None:
    """Apply a ``git diff`` (unified, ``a/`` ``b/`` prefixes) to files under ``directory``.

    Strict on purpose: every hunk's context and removed lines must match the file at the stated
    line, as they do for the pinned snapshots; anything else means the sources are not the
    pinned ones, so it fails rather than guessing.

    Raises
    ------
    ArenaError
        When a file is missing or a hunk does not match.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "f.txt").write_text("a\\nb\\nc\\n")
    >>> apply_patch("--- a/f.txt\\n+++ b/f.txt\\n@@ -1,3 +1,3 @@\\n a\\n-b\\n+B\\n c\\n", folder, label="p")
    >>> (folder / "f.txt").read_text()
    'a\\nB\\nc\\n'
    """
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].startswith("--- "):
            index += 1
            continue
        target = lines[index + 1][4:].split("\t")[0]
        relative = target[2:] if target.startswith("b/") else target
        path = directory / relative
        if not path.is_file():
            raise ArenaError(f"{label}: patches {relative}, which is not in {directory}")
        original = path.read_text().split("\n")
        index += 2
        result: list[str] = []
        cursor = 0
        while index < len(lines) and lines[index].startswith("@@"):
            match = _HUNK.match(lines[index])
            if match is None:
                raise ArenaError(f"{label}: malformed hunk header {lines[index]!r}")
            start = int(match.group(1)) - (0 if match.group(2) == "0" else 1)
            old_left = int(match.group(2) or "1")
            new_left = int(match.group(4) or "1")
            result.extend(original[cursor:start])
            cursor = start
            index += 1
            while old_left > 0 or new_left > 0:
                if index >= len(lines):
                    raise ArenaError(f"{label}: hunk for {relative} ends early")
                kind, body = lines[index][:1], lines[index][1:]
                if kind == "\\":  # "\ No newline at end of file"
                    index += 1
                    continue
                if kind in (" ", "", "-"):
                    if cursor >= len(original) or original[cursor] != body:
                        raise ArenaError(f"{label}: hunk does not match {relative} at line {cursor + 1}")
                    cursor += 1
                    old_left -= 1
                if kind in (" ", ""):
                    result.append(body)
                    new_left -= 1
                elif kind == "+":
                    result.append(body)
                    new_left -= 1
                index += 1
        result.extend(original[cursor:])
        path.write_text("\n".join(result))
