"""Byte quantities as people write them: ``100KB``, ``0.25MB``, ``102400``.

Embedded datasheets use KB for 1024 bytes, so KB and KiB both mean 1024 here (and MB, MiB
1024 * 1024). This is the one place sizes are parsed and formatted.
"""

from __future__ import annotations

import re

from arena.errors import ArenaError

_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1024**2, "MB": 1024**2, "MIB": 1024**2}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


class BadSizeError(ArenaError):
    """A size string that does not parse."""


def parse_size(text: str, what: str = "size") -> int:
    """Bytes in ``text``; KB = KiB = 1024 bytes, MB = MiB = 1024 KiB.

    ``what`` names the value in the error message (e.g. ``--capacity``).

    Examples
    --------
    >>> parse_size("100KB"), parse_size("100KiB"), parse_size("0.25MB"), parse_size("102400")
    (102400, 102400, 262144, 102400)
    >>> parse_size("lots")
    Traceback (most recent call last):
    ...
    arena.units.BadSizeError: size 'lots' does not parse; write e.g. 100KB, 0.25MB or 102400
    >>> parse_size("1.5", "--budget")
    Traceback (most recent call last):
    ...
    arena.units.BadSizeError: --budget '1.5' is not a whole number of bytes
    """
    match = _SIZE.match(text)
    unit = match.group(2).upper() if match else ""
    if not match or unit not in _UNITS:
        raise BadSizeError(f"{what} {text!r} does not parse; write e.g. 100KB, 0.25MB or 102400")
    value = float(match.group(1)) * _UNITS[unit]
    if value != int(value):
        raise BadSizeError(f"{what} {text!r} is not a whole number of bytes")
    return int(value)


def format_bytes(size: int) -> str:
    """``size`` with thousands separators and, from 1 KiB on, a KiB figure.

    Examples
    --------
    >>> format_bytes(16000), format_bytes(32), format_bytes(1048576)
    ('16,000 B (15.6 KiB)', '32 B', '1,048,576 B (1.00 MiB)')
    """
    if size < 1024:
        return f"{size:,} B"
    if size < 1024**2:
        return f"{size:,} B ({size / 1024:.1f} KiB)"
    return f"{size:,} B ({size / 1024**2:.2f} MiB)"
