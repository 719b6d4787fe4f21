"""Byte quantities as people write them: ``100KB``, ``0.25MB``, ``102400``.

Embedded datasheets use KB for 1024 bytes, so KB and KiB both mean 1024 here (and MB, MiB
1024 * 1024). This is the one place sizes are parsed and formatted.
"""

from __future__ import annotations

import re
from fractions import Fraction

from arena.errors import BadSizeError

_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1024**2, "MB": 1024**2, "MIB": 1024**2}
#: ASCII digits only: ``\d`` alone would also take other scripts' digits (and ``float`` with it).
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$", re.ASCII)
#: Largest size accepted: what the int64 columns of a problem hold.
MAX_SIZE_BYTES = 2**63 - 1
#: Longest number read; longer ones are refused before any arithmetic (bounded work).
_MAX_DIGITS = 40


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
    arena.errors.BadSizeError: size 'lots' does not parse; write e.g. 100KB, 0.25MB or 102400
    >>> parse_size("1.5", "--budget")
    Traceback (most recent call last):
    ...
    arena.errors.BadSizeError: --budget '1.5' is not a whole number of bytes
    >>> parse_size("-5KB")
    Traceback (most recent call last):
    ...
    arena.errors.BadSizeError: size '-5KB' is negative
    >>> parse_size("9007199254740993")   # exact: no trip through a float
    9007199254740993
    """
    shown = repr(text) if len(text) <= 40 else repr(text[:37] + "...")
    match = _SIZE.match(text)
    unit = match.group(2).upper() if match else ""
    if not match or unit not in _UNITS:
        if text.strip().startswith("-") and _SIZE.match(text.strip()[1:]):
            raise BadSizeError(f"{what} {shown} is negative")
        raise BadSizeError(f"{what} {shown} does not parse; write e.g. 100KB, 0.25MB or 102400")
    number = match.group(1)
    if len(number) > _MAX_DIGITS:
        raise BadSizeError(f"{what} {shown} is larger than {MAX_SIZE_BYTES:,} bytes")
    value = Fraction(number) * _UNITS[unit]
    if value.denominator != 1:
        raise BadSizeError(f"{what} {shown} is not a whole number of bytes")
    if value > MAX_SIZE_BYTES:
        raise BadSizeError(f"{what} {shown} is larger than {MAX_SIZE_BYTES:,} bytes")
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
