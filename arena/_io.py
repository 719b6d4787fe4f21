"""Atomic file output: a reader never sees a half-written file, even after Ctrl-C."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from arena.errors import ArenaError


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    The rename is atomic on POSIX, so an existing file is replaced only once the new content is
    complete on disk; an interrupted write leaves the old file (or nothing) and no temporary.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> write_atomic(target, "hello")
    >>> target.read_text()
    'hello'
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        _write_atomic(target, payload)
    except OSError as error:
        raise ArenaError(f"{target}: cannot write ({error.strerror or error})") from error


def _write_atomic(target: Path, payload: bytes) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp's 0600 would make generated files private
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise


def read_bounded(path: Path, limit: int, label: str, error: type[ArenaError] = ArenaError) -> bytes:
    """The file's bytes, refusing devices (``/dev/zero`` never ends) and anything over ``limit``.

    Raises ``error`` (an ``ArenaError`` subclass) naming ``label``; ``OSError`` passes through for
    the caller to word.
    """
    info = path.stat()
    if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
        raise error(f"{label}: not a regular file (a device)")
    if info.st_size > limit:
        raise error(f"{label}: {info.st_size:,} bytes, more than the {limit:,} accepted")
    chunks, size = [], 0
    with path.open("rb") as handle:  # a pipe has no size to check first: read it in bounded steps
        while chunk := handle.read(1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise error(f"{label}: more than the {limit:,} bytes accepted")
    return b"".join(chunks)
