"""Run a plan op by op over one real byte buffer and catch every live tensor it overwrites.

The simulator does not trust the lifetime table: it walks the model's own schedule (subgraph 0's
operators in order, entering IF / WHILE / CALL_ONCE subgraphs where TFLM's lifetime walk does,
tensorflow/lite/micro/micro_allocation_info.cc ``MarkSubgraphLifetimesIfNecessary``) and plays
the memory traffic of a real run on a numpy array the size of the head:

* graph inputs are written before the first op (a called subgraph's inputs when it is entered);
* each op first reads its inputs, then writes its scratch buffers and outputs, then (because a
  kernel reads inputs while it writes outputs) checks that its inputs, scratch and outputs are
  all still intact after the op (and after any subgraphs it ran);
* graph outputs are read when their subgraph ends.

A called subgraph runs once per call, as in TFLM's lifetime walk (a WHILE's condition and body
once each): lifetimes, and so plans, do not depend on the iteration count.

Every write fills the buffer's raw bytes with data drawn from a generator seeded by a per-write
counter, and keeps a BLAKE2 digest of it; every read compares the digest. A byte-owner array says
who wrote over a damaged tensor. Only planned buffers live in the head: constants, variables and
zero-size tensors are skipped. Raw (unaligned) sizes are written, as kernels do, so an overlap
confined to alignment padding is harmless here although the validator counts it.
No kernel runs, so every model and op can be simulated. The same pass yields the memory
timeline: bytes live (aligned sizes) at every step, seen from the writes and reads themselves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from arena import __version__
from arena.allocators.problem import Plan, PlanStatus, peak_of
from arena.allocators.tflm_greedy import tflm_greedy
from arena.allocators.validate import validate_plan
from arena.errors import ArenaError
from arena.kernels import DEFAULT_KERNELS, get_kernel_library
from arena.lifetimes import BufferKind, LifetimeTable, derive_lifetimes
from arena.model.records import Model, Operator, Subgraph
from arena.planning import PlanResult

#: Ops that run subgraphs, with the option fields naming them in TFLM's walk order. Re-stated
#: here rather than imported from lifetimes.py so that the simulator re-derives the schedule.
_CALLS = {
    "IF": ("then_subgraph_index", "else_subgraph_index"),
    "WHILE": ("cond_subgraph_index", "body_subgraph_index"),
    "CALL_ONCE": ("init_subgraph_index",),
}
#: Layout version of :func:`simulation_document`.
SIMULATION_SCHEMA_VERSION = 1
#: Fields a plan file's buffer row must share with the model's buffer list.
_ROW_FIELDS = ("kind", "tensor", "subgraph", "op", "aligned_bytes", "first", "last")


class BadPlanError(ArenaError):
    """A plan file that is unreadable or does not belong to the model (buffers, hash, offsets)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Clobber:
    """A live buffer whose bytes another buffer overwrote before its last reader (or op) was done.

    ``victim`` and ``writer`` index the problem's buffers; ``byte_range`` is ``[lo, hi)`` in head
    offsets; ``step`` is where the damage was seen, ``written_step`` where the writer wrote it.
    """

    step: int
    subgraph: int
    op: int | None
    op_name: str
    victim: int
    writer: int
    written_step: int
    byte_range: tuple[int, int]
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StepLoad:
    """Bytes live at one step: an op, entry into a called subgraph, or step 0 (graph inputs)."""

    step: int
    subgraph: int
    op: int | None
    op_name: str
    live_bytes: int
    live_buffers: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeline:
    """Live bytes per step (aligned sizes), the peak, and the head bytes free at the peak.

    ``fragmentation_bytes`` counts head bytes no live buffer covers at the peak step: head minus
    peak live bytes for a plan without overlaps (a plan overlapping live buffers covers less).
    """

    steps: tuple[StepLoad, ...]
    head_bytes: int
    peak: StepLoad | None
    fragmentation_bytes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationResult:
    """What the simulated run found: clobbers (none when ``ok``), the timeline, and notes."""

    model: str
    allocator: str
    head_bytes: int
    clobbers: tuple[Clobber, ...]
    timeline: Timeline
    notes: tuple[str, ...]
    writes: int
    reads: int

    @property
    def ok(self) -> bool:
        """True when no live buffer was overwritten."""
        return not self.clobbers


#: Largest head the simulator holds (one byte plus a 4-byte owner index per arena byte); far
#: beyond any microcontroller SRAM.
MAX_SIMULATED_HEAD_BYTES = 256 * 1024 * 1024


class _Run:
    """Mutable state of one simulated run; never escapes :func:`simulate_plan`."""

    def __init__(self, result: PlanResult, seed: int) -> None:
        self.model = result.model
        self.table = result.table
        self.offsets = result.plan.offsets
        self.seed = seed
        head = peak_of(result.table.problem, self.offsets)
        if head > MAX_SIMULATED_HEAD_BYTES:
            raise ArenaError(
                f"{result.model.display_name}: a {head:,} B head is too large to simulate"
                f" (limit {MAX_SIMULATED_HEAD_BYTES:,} B: 5 bytes of memory per arena byte)"
            )
        self.memory = np.zeros(head, dtype=np.uint8)
        self.owner = np.full(head, -1, dtype=np.int32)
        self.digests: dict[int, bytes] = {}
        self.written_step: dict[int, int] = {}
        self.spans: dict[int, list[int]] = {}
        self.tensors = {
            (o.subgraph, o.tensor): i for i, o in enumerate(self.table.origins) if o.kind is BufferKind.TENSOR
        }
        self.scratch: dict[tuple[int, int | None], list[int]] = {}
        for index, origin in enumerate(self.table.origins):
            if origin.kind is BufferKind.SCRATCH:
                self.scratch.setdefault((origin.subgraph, origin.op), []).append(index)
        self.step = 0
        self.where: tuple[int, int | None, str] = (0, None, "(inputs)")
        self.steps: list[tuple[int, int, int | None, str]] = [(0, 0, None, "(inputs)")]
        self.clobbers: list[Clobber] = []
        self.reported: set[tuple[int, int, int]] = set()  # (victim, writer, step written)
        self.notes: list[str] = []
        self.writes = 0
        self.reads = 0

    def label(self, index: int) -> str:
        origin = self.table.origins[index]
        graph = f" of subgraph {origin.subgraph}" if origin.subgraph else ""
        if origin.kind is BufferKind.SCRATCH:
            return f"scratch {self.table.problem.buffers[index].name} of op {origin.op}{graph} ({origin.name})"
        name = origin.name if len(origin.name) <= 40 else "..." + origin.name[-37:]
        return f"tensor {origin.tensor}{graph} '{name}'"

    def region(self, index: int) -> slice:
        start = self.offsets[index]
        return slice(start, start + self.table.origins[index].raw_bytes)

    def touch(self, index: int) -> None:
        span = self.spans.setdefault(index, [self.step, self.step])
        span[0], span[1] = min(span[0], self.step), max(span[1], self.step)

    def write(self, index: int | None) -> None:
        if index is None:
            return
        self.touch(index)
        region = self.region(index)
        fill = np.random.default_rng((self.seed, self.writes)).integers(
            0, 256, region.stop - region.start, dtype=np.uint8
        )
        self.writes += 1
        self.memory[region] = fill
        self.owner[region] = index
        self.digests[index] = hashlib.blake2b(fill.tobytes(), digest_size=16).digest()
        self.written_step[index] = self.step

    def read(self, index: int | None) -> None:
        if index is None:
            return
        self.touch(index)
        self.reads += 1
        if index not in self.digests:
            note = f"{self.label(index)} is read at step {self.step} but nothing writes it first"
            if note not in self.notes:
                self.notes.append(note)
            return
        region = self.region(index)
        digest = hashlib.blake2b(self.memory[region].tobytes(), digest_size=16).digest()
        owners = self.owner[region]
        if digest == self.digests[index] and bool((owners == index).all()):
            return
        for writer in (int(w) for w in np.unique(owners[owners != index])):
            if (index, writer, self.written_step[writer]) in self.reported:
                continue  # report each overwrite once
            self.reported.add((index, writer, self.written_step[writer]))
            hits = np.flatnonzero(owners == writer)
            self.clobber(index, writer, (region.start + int(hits[0]), region.start + int(hits[-1]) + 1))
        self.digests[index] = digest

    def clobber(self, victim: int, writer: int, byte_range: tuple[int, int]) -> None:
        subgraph, op, op_name = self.where
        place = f"subgraph {subgraph}, op {op} {op_name}" if op is not None else f"subgraph {subgraph} {op_name}"
        written = self.written_step[writer]
        message = (
            f"step {self.step} ({place}): {self.label(victim)} lost bytes [{byte_range[0]}, {byte_range[1]})"
            f" to {self.label(writer)}, written at step {written}"
        )
        self.clobbers.append(
            Clobber(
                step=self.step,
                subgraph=subgraph,
                op=op,
                op_name=op_name,
                victim=victim,
                writer=writer,
                written_step=written,
                byte_range=byte_range,
                message=message,
            )
        )

    def buffer(self, subgraph: int, tensor: int) -> int | None:
        return self.tensors.get((subgraph, tensor)) if tensor >= 0 else None

    def run_subgraph(self, graph: Subgraph) -> None:
        inputs = [self.buffer(graph.index, t) for t in graph.inputs]
        for index in inputs:
            self.write(index)
        for index in inputs:
            self.read(index)
        for op in graph.operators:
            self.run_op(graph, op)
        self.where = (graph.index, None, "(outputs)")
        for tensor in graph.outputs:
            self.read(self.buffer(graph.index, tensor))

    def run_op(self, graph: Subgraph, op: Operator) -> None:
        self.step += 1
        self.where = (graph.index, op.index, op.op_name)
        self.steps.append((self.step, graph.index, op.index, op.op_name))
        inputs = [self.buffer(graph.index, t) for t in op.inputs]
        outputs = [self.buffer(graph.index, t) for t in op.outputs]
        scratch: list[int | None] = list(self.scratch.get((graph.index, op.index), ()))
        for index in inputs:
            self.read(index)
        for index in [*scratch, *outputs]:
            self.write(index)
        for field in _CALLS.get(op.op_name, ()):
            called = self.model.subgraphs[int(op.options[field])]  # type: ignore[call-overload]
            self.step += 1
            self.where = (called.index, None, "(enter)")
            self.steps.append((self.step, called.index, None, "(enter)"))
            self.run_subgraph(called)
            self.where = (graph.index, op.index, op.op_name)
        for index in [*inputs, *scratch, *outputs]:
            self.read(index)

    def timeline(self) -> Timeline:
        sizes = [b.size for b in self.table.problem.buffers]
        live = np.zeros(self.step + 2, dtype=np.int64)
        count = np.zeros(self.step + 2, dtype=np.int64)
        for index, (first, last) in self.spans.items():
            live[first] += sizes[index]
            live[last + 1] -= sizes[index]
            count[first] += 1
            count[last + 1] -= 1
        live, count = np.cumsum(live), np.cumsum(count)
        loads = tuple(
            StepLoad(
                step=step,
                subgraph=subgraph,
                op=op,
                op_name=name,
                live_bytes=int(live[step]),
                live_buffers=int(count[step]),
            )
            for step, subgraph, op, name in self.steps
        )
        peak = max(loads, key=lambda load: load.live_bytes) if self.spans else None
        covered = np.zeros(len(self.memory), dtype=bool)
        for index, (first, last) in self.spans.items():
            if peak is not None and first <= peak.step <= last:
                covered[self.offsets[index] : self.offsets[index] + sizes[index]] = True
        return Timeline(
            steps=loads,
            head_bytes=len(self.memory),
            peak=peak,
            fragmentation_bytes=len(self.memory) - int(covered.sum()),
        )


def simulate_plan(result: PlanResult, *, seed: int = 0) -> SimulationResult:
    """Play ``result``'s plan through the model's schedule and report every clobbered buffer.

    Parameters
    ----------
    result
        A model, its lifetime table (for buffer sizes, scratch requests and provenance only)
        and a plan, as :func:`arena.planning.plan_model` or :func:`read_plan_file` return.
    seed
        Seed of the fill patterns (any seed finds the same clobbers; digests make them distinct).

    Returns
    -------
    SimulationResult
        ``ok`` when no live buffer was overwritten, with the memory timeline either way.

    Examples
    --------
    >>> from arena.model.records import Operator, Tensor
    >>> t = [Tensor(index=i, name=f"t{i}", shape=(16,), type_code=9, buffer=0, has_data=False,
    ...             is_variable=False) for i in range(3)]
    >>> ops = [Operator(index=i, opcode_index=0, builtin_code=0, op_name="RELU", custom_code=None,
    ...                 version=1, inputs=(i,), outputs=(i + 1,)) for i in range(2)]
    >>> model = Model(path="m.tflite", sha256="", size_bytes=0, version=3, description="",
    ...               subgraphs=(Subgraph(index=0, name="", tensors=tuple(t), operators=tuple(ops),
    ...                                   inputs=(0,), outputs=(2,)),), metadata=(), buffer_count=0, data=b"")
    >>> table = derive_lifetimes(model)
    >>> def run(offsets):
    ...     return simulate_plan(plan_for_offsets(model, table, offsets, allocator="hand"))
    >>> run((0, 16, 0)).ok        # t0 is dead when op 1 writes t2 over it
    True
    >>> print(run((0, 0, 16)).clobbers[0].message)
    step 1 (subgraph 0, op 0 RELU): tensor 0 't0' lost bytes [0, 16) to tensor 1 't1', written at step 1
    """
    run = _Run(result, seed)
    run.run_subgraph(result.model.subgraphs[0])
    return SimulationResult(
        model=result.model.display_name,
        allocator=result.allocator,
        head_bytes=len(run.memory),
        clobbers=tuple(run.clobbers),
        timeline=run.timeline(),
        notes=tuple(run.notes),
        writes=run.writes,
        reads=run.reads,
    )


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
    origin, buffer = table.origins[index], table.problem.buffers[index]
    return {
        "kind": str(origin.kind),
        "tensor": origin.global_tensor,
        "subgraph": origin.subgraph,
        "op": origin.op,
        "aligned_bytes": buffer.size,
        "first": buffer.first,
        "last": buffer.last,
    }


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
    for key in _ROW_FIELDS:
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


def _place(subgraph: int, op: int | None, op_name: str) -> str:
    return f"op {op} {op_name}" if op is not None else f"{op_name} subgraph {subgraph}"


def simulation_document(result: SimulationResult) -> dict[str, Any]:
    """A JSON-ready dict of the simulation (``arena simulate --json``)."""
    peak = result.timeline.peak
    return {
        "schema_version": SIMULATION_SCHEMA_VERSION,
        "tool": {"name": "arena", "version": __version__},
        "model": result.model,
        "allocator": result.allocator,
        "safe": result.ok,
        "head_bytes": result.head_bytes,
        "peak": None if peak is None else asdict(peak),
        "fragmentation_bytes": result.timeline.fragmentation_bytes,
        "writes": result.writes,
        "reads": result.reads,
        "clobbers": [{**asdict(c), "byte_range": list(c.byte_range)} for c in result.clobbers],
        "notes": list(result.notes),
        "steps": [asdict(s) for s in result.timeline.steps],
    }


def render_simulation_json(result: SimulationResult) -> str:
    """:func:`simulation_document` as indented JSON text ending in a newline."""
    return json.dumps(simulation_document(result), indent=2) + "\n"


def render_simulation_text(result: SimulationResult) -> str:
    """A short verdict: head, peak, fragmentation, and every clobber."""
    timeline = result.timeline
    lines = [
        f"model         {result.model}",
        f"plan          {result.allocator}",
        f"arena head    {result.head_bytes:,} B",
        f"simulated     {result.writes} writes, {result.reads} checked reads",
    ]
    if timeline.peak is not None:
        peak = timeline.peak
        lines.append(
            f"peak          step {peak.step} ({_place(peak.subgraph, peak.op, peak.op_name)}):"
            f" {peak.live_bytes:,} B live, {timeline.fragmentation_bytes:,} B of the head free"
        )
    lines.extend(f"note          {note}" for note in result.notes)
    if result.ok:
        lines.append("verdict       SAFE: no live tensor is overwritten before its last reader")
    else:
        count = len(result.clobbers)
        lines.append(f"verdict       UNSAFE: {count} clobber{'s' if count != 1 else ''}")
        lines.extend(f"  {c.message}" for c in result.clobbers)
    return "\n".join(lines) + "\n"


def render_timeline_chart(result: SimulationResult, width: int = 40) -> str:
    """One bar per step: live bytes against the head, the peak step marked with ``<- peak``."""
    timeline = result.timeline
    scale = max(timeline.head_bytes, 1)
    lines = [f"live bytes per step ({width} columns = head {timeline.head_bytes:,} B)"]
    for load in timeline.steps:
        filled = round(load.live_bytes / scale * width)
        mark = "  <- peak" if load is timeline.peak else ""
        name = _place(load.subgraph, load.op, load.op_name)[:28]
        bar = "#" * filled + "." * (width - filled)
        lines.append(f"{load.step:>5} {name:<28} |{bar}| {load.live_bytes:>9,} B{mark}")
    return "\n".join(lines) + "\n"
