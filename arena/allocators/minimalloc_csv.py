"""MiniMalloc's CSV problem format, converted at the edge to arena's inclusive lifetimes.

MiniMalloc (google/minimalloc) writes one buffer per row, ``id,lower,upper,size``, live in the
half-open interval ``[lower, upper)``; solutions add an ``offset`` column. arena's core uses
TFLM's inclusive ``[first, last]``, so ``first = lower`` and ``last = upper - 1``. The row
``7,3,8,64`` (live at steps 3..7) becomes ``Buffer(name="7", size=64, first=3, last=7)`` and
converts back to ``7,3,8,64`` unchanged.
"""

from __future__ import annotations

import csv
import io
import re

from arena.allocators.problem import Buffer, Plan, Problem
from arena.errors import ProblemFileError

_REQUIRED = ("id", "lower", "upper", "size")
#: A plain decimal integer: ``int()`` alone would also take ``1_000`` and other scripts' digits.
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
#: Largest step accepted: four times the largest in MiniMalloc's benchmark set (1,048,576). The
#: max-load bound allocates 16 bytes per step of the time span (``Problem.load_per_step``), so a
#: single row claiming step 2^40 must be refused rather than allocated.
MAX_STEP = 1 << 22
#: Largest total of all sizes: keeps every offset and end an allocator computes inside int64.
MAX_TOTAL_BYTES = 1 << 62


def _shown(text: str) -> str:
    """``text`` quoted for a one-line message, cut short when long."""
    return repr(text if len(text) <= 24 else text[:21] + "...")


def _int_field(row: dict[str, str], column: str, line: int, label: str) -> int:
    text = (row.get(column) or "").strip()
    if not _INTEGER.fullmatch(text):
        raise ProblemFileError(f"{label}: line {line}: {column} {_shown(text)} is not an integer")
    if len(text) > 30:  # refused before converting: every bound below is far smaller
        raise ProblemFileError(f"{label}: line {line}: {column} {_shown(text)} is too large")
    return int(text)


def _check_row(name: str, lower: int, upper: int, size: int, line: int, label: str) -> None:
    where = f"{label}: line {line}: buffer {_shown(name)}"
    if upper <= lower:
        raise ProblemFileError(f"{where} has upper {upper} <= lower {lower} (intervals are half-open [lower, upper))")
    if lower < 0 or upper > MAX_STEP:
        raise ProblemFileError(f"{where} is live in [{lower}, {upper}), outside the steps 0 to {MAX_STEP:,}")
    if size < 0:
        raise ProblemFileError(f"{where} has negative size {size}")
    if size > MAX_TOTAL_BYTES:
        raise ProblemFileError(f"{where} has size {size}, more than {MAX_TOTAL_BYTES:,} bytes")


def parse_problem_csv(text: str, label: str = "problem.csv", capacity: int | None = None) -> Problem:
    """Parse MiniMalloc CSV text into a problem (alignment 1, no fixed offsets).

    Examples
    --------
    >>> p = parse_problem_csv("id,lower,upper,size\\n7,3,8,64\\n")
    >>> p.buffers[0]
    Buffer(7: 64 B [3..7])
    >>> parse_problem_csv("id,lower,upper,size\\n1,5,5,8\\n", "x.csv")
    Traceback (most recent call last):
    ...
    arena.errors.ProblemFileError: x.csv: line 2: buffer '1' has upper 5 <= lower 5 (intervals are half-open [lower, upper))
    """
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))  # a BOM, as Excel writes
    try:
        buffers = _read_rows(reader, label)
    except csv.Error as error:
        raise ProblemFileError(f"{label}: line {reader.line_num}: not CSV ({error})") from error
    return Problem(buffers=tuple(buffers), capacity=capacity)


def _read_rows(reader: csv.DictReader[str], label: str) -> list[Buffer]:
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise ProblemFileError(f"{label}: missing column(s) {', '.join(missing)}; expected id,lower,upper,size")
    reader.fieldnames = header
    buffers = []
    seen: set[str] = set()
    total = 0
    for row in reader:
        line = reader.line_num
        name = (row.get("id") or "").strip()
        if not name or name in seen:
            raise ProblemFileError(f"{label}: line {line}: id {_shown(name)} is empty or repeated")
        seen.add(name)
        lower, upper, size = (_int_field(row, c, line, label) for c in ("lower", "upper", "size"))
        _check_row(name, lower, upper, size, line, label)
        total += size
        if total > MAX_TOTAL_BYTES:
            raise ProblemFileError(f"{label}: line {line}: sizes add up to more than {MAX_TOTAL_BYTES:,} bytes")
        buffers.append(Buffer(name=name, size=size, first=lower, last=upper - 1))
    return buffers


def render_solution_csv(problem: Problem, plan: Plan) -> str:
    """The input columns plus ``offset``, half-open again, one row per buffer in input order.

    Examples
    --------
    >>> from arena.allocators.problem import PlanStatus
    >>> p = parse_problem_csv("id,lower,upper,size\\n7,3,8,64\\n")
    >>> plan = Plan(offsets=(0,), peak_bytes=64, allocator="x", status=PlanStatus.OPTIMAL,
    ...             lower_bound_bytes=64)
    >>> print(render_solution_csv(p, plan), end="")
    id,lower,upper,size,offset
    7,3,8,64,0
    """
    if len(plan.offsets) != len(problem.buffers):
        raise ProblemFileError(f"plan has {len(plan.offsets)} offsets for {len(problem.buffers)} buffers")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*_REQUIRED, "offset"])
    for buffer, offset in zip(problem.buffers, plan.offsets, strict=True):
        writer.writerow([buffer.name, buffer.first, buffer.last + 1, buffer.size, offset])
    return out.getvalue()
