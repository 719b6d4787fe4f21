"""The plan file, both ways: the buffer rows ``arena plan --json`` writes and reading them back.

A plan file is how a plan travels between tools and people (hand-edited offsets, a plan made on
another machine). The row layout is defined once here; the writer (:func:`buffer_rows`) and the
reader (:func:`read_plan_file`) share it, so a field renamed on one side cannot silently break the
other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from arena.allocators.problem import Plan, PlanStatus, peak_of
from arena.allocators.tflm_greedy import tflm_greedy
from arena.allocators.validate import validate_plan
from arena.errors import ArenaError, BadPlanError
from arena.kernels import DEFAULT_KERNELS, get_kernel_library
from arena.lifetimes import LifetimeTable, derive_lifetimes
from arena.model.records import Model
from arena.plan.pipeline import PlanResult

#: Version of the plan document layout; bumped when a field changes meaning or disappears.
PLAN_SCHEMA_VERSION = 1
#: Every field of a buffer row, in the order written.
ROW_FIELDS = ("kind", "tensor", "subgraph", "op", "name", "bytes", "aligned_bytes", "first", "last", "offset", "fixed")
#: Fields a plan file's row must share with the model's own buffer list to be accepted.
CHECKED_FIELDS = ("kind", "tensor", "subgraph", "op", "aligned_bytes", "first", "last")


def buffer_row(table: LifetimeTable, index: int, *, offset: int) -> dict[str, Any]:
    """The row of planned buffer ``index`` placed at ``offset``, with every field of :data:`ROW_FIELDS`."""
    origin, buffer = table.origins[index], table.problem.buffers[index]
    return {
        "kind": str(origin.kind),
        "tensor": origin.global_tensor,
        "subgraph": origin.subgraph,
        "op": origin.op,
        "name": origin.name,
        "bytes": origin.raw_bytes,
        "aligned_bytes": buffer.size,
        "first": buffer.first,
        "last": buffer.last,
        "offset": offset,
        "fixed": buffer.fixed_offset is not None,
    }


def buffer_rows(result: PlanResult) -> list[dict[str, Any]]:
    """One JSON-ready row per planned buffer, in TFLM's AddBuffer order."""
    offsets = result.plan.offsets
    return [buffer_row(result.table, index, offset=offsets[index]) for index in range(len(offsets))]


def plan_for_offsets(model: Model, table: LifetimeTable, offsets: Sequence[int], *, allocator: str) -> PlanResult:
    """A plan result for offsets chosen elsewhere (a plan file, a hand edit): head recomputed, validated.

    Raises
    ------
    ProblemError
        When the number of offsets differs from the number of planned buffers.
    """
    problem = table.problem
    values = tuple(int(o) for o in offsets)
    peak = peak_of(problem, values)
    bound = problem.lower_bound_bytes()
    plan = Plan(
        offsets=values,
        peak_bytes=peak,
        allocator=allocator,
        status=PlanStatus.OPTIMAL if peak == bound else PlanStatus.HEURISTIC,
        lower_bound_bytes=bound,
    )
    return PlanResult(
        model=model,
        table=table,
        plan=plan,
        allocator=allocator,
        validation=validate_plan(problem, plan),
        tflm_head_bytes=tflm_greedy(problem).peak_bytes,
    )


def _expected_row(table: LifetimeTable, index: int) -> dict[str, Any]:
    row = buffer_row(table, index, offset=0)
    return {key: row[key] for key in CHECKED_FIELDS}


def _shown(value: object) -> str:
    """``repr(value)`` cut short for a one-line message (a plan file may hold anything)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_kernel_library(name: str) -> bool:
    try:
        get_kernel_library(name)
    except ArenaError:
        return False
    return True


def _offset_room(table: LifetimeTable) -> int:
    """Highest offset a plan file may give: all buffers end to end (above the highest fixed one).

    No plan needs a buffer higher: laying every buffer side by side already fits below. The
    bound keeps a file from claiming a head of 2^60 bytes, which the simulator would allocate.
    """
    buffers = table.problem.buffers
    fixed = max((b.fixed_offset + b.size for b in buffers if b.fixed_offset is not None), default=0)
    return sum(b.size for b in buffers) + fixed


def _row_offset(row: object, index: int, expected: dict[str, Any], label: str, room: int) -> int:
    if not isinstance(row, Mapping):
        raise BadPlanError(f"{label}: buffers[{index}] is not an object")
    for key in CHECKED_FIELDS:
        if key not in row or row[key] != expected[key] or isinstance(row[key], bool):
            raise BadPlanError(
                f"{label}: buffers[{index}] {key} is {_shown(row.get(key, 'missing'))}, the model's buffer"
                f" {index} has {expected[key]!r} (plan made for another model or kernel library?)"
            )
    offset = row.get("offset")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise BadPlanError(f"{label}: buffers[{index}] offset {_shown(offset)} is not a non-negative integer")
    if offset > room:
        raise BadPlanError(
            f"{label}: buffers[{index}] offset {_shown(offset)} is above {room:,}, the highest any plan"
            " needs (all buffers end to end)"
        )
    return offset


def plan_from_document(
    document: object, model: Model, *, label: str = "plan", allow_unsupported: bool = False
) -> PlanResult:
    """Check an ``arena plan --json`` document against ``model`` and return it as a plan result.

    The document must list the model's planned buffers in TFLM's order with the same kind,
    tensor, subgraph, op, aligned size and lifetime (its ``kernels`` names the library, default
    reference); a ``model.sha256`` must match. Only offsets are taken from it, so a user may
    hand-edit them; the head is recomputed and the plan validated (an invalid plan is a verdict).

    Raises
    ------
    BadPlanError
        Naming the first field that does not fit.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("buffers"), list):
        raise BadPlanError(f"{label}: not a plan document (no 'buffers' list)")
    recorded = document.get("model")
    digest = recorded.get("sha256") if isinstance(recorded, Mapping) else None
    if digest is not None and digest != model.sha256:
        raise BadPlanError(
            f"{label}: made for a model with sha256 {str(digest)[:16]}..., but"
            f" {model.display_name} has {model.sha256[:16]}..."
        )
    kernels = document.get("kernels", DEFAULT_KERNELS)
    if not isinstance(kernels, str) or not _is_kernel_library(kernels):
        raise BadPlanError(f"{label}: kernels {_shown(kernels)} is not a kernel library arena knows")
    table = derive_lifetimes(model, kernels, allow_unsupported=allow_unsupported)
    rows = document["buffers"]
    if len(rows) != len(table.problem.buffers):
        raise BadPlanError(
            f"{label}: {len(rows)} buffers, but {model.display_name} has {len(table.problem.buffers)} planned buffers"
        )
    room = _offset_room(table)
    offsets = tuple(_row_offset(row, i, _expected_row(table, i), label, room) for i, row in enumerate(rows))
    return plan_for_offsets(model, table, offsets, allocator=f"file:{label}")


def read_plan_file(path: str | Path, model: Model, *, allow_unsupported: bool = False) -> PlanResult:
    """Read a JSON plan file (``arena plan --json`` output, offsets possibly edited) for ``model``.

    Raises
    ------
    BadPlanError
        When the file cannot be read, is not JSON, or does not match the model.
    """
    label = Path(path).name
    if Path(path).is_char_device() or Path(path).is_block_device():
        raise BadPlanError(f"{label}: not a plan file (a device)")
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise BadPlanError(f"{label}: cannot read plan file ({error.strerror or error})") from error
    except UnicodeDecodeError as error:
        raise BadPlanError(f"{label}: plan file is not UTF-8 text ({error.reason})") from error
    except json.JSONDecodeError as error:
        raise BadPlanError(f"{label}: not JSON (line {error.lineno}, column {error.colno}: {error.msg})") from error
    except ValueError as error:  # an integer longer than Python converts (4,300 digits)
        raise BadPlanError(f"{label}: not a plan document ({str(error)[:80]})") from error
    except RecursionError as error:
        raise BadPlanError(f"{label}: not a plan document (arrays or objects nested too deep)") from error
    return plan_from_document(document, model, label=label, allow_unsupported=allow_unsupported)
