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
from dataclasses import dataclass

import numpy as np

from arena.allocators.problem import peak_of
from arena.errors import ArenaError
from arena.lifetimes import BufferKind, BufferOrigin
from arena.model.records import Operator, Subgraph
from arena.plan.pipeline import PlanResult

#: Ops that run subgraphs, with the option fields naming them in TFLM's walk order. Re-stated
#: here rather than imported from lifetimes.py so that the simulator re-derives the schedule.
_CALLS = {
    "IF": ("then_subgraph_index", "else_subgraph_index"),
    "WHILE": ("cond_subgraph_index", "body_subgraph_index"),
    "CALL_ONCE": ("init_subgraph_index",),
}


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
    #: Provenance of every planned buffer (parallel to the problem), so reports can name them.
    origins: tuple[BufferOrigin, ...] = ()

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
        and a plan, as :func:`arena.plan.pipeline.plan_model` or :func:`read_plan_file` return.
    seed
        Seed of the fill patterns (any seed finds the same clobbers; digests make them distinct).

    Returns
    -------
    SimulationResult
        ``ok`` when no live buffer was overwritten, with the memory timeline either way.

    Examples
    --------
    >>> from arena.lifetimes import derive_lifetimes
    >>> from arena.model.records import Model, Operator, Subgraph, Tensor
    >>> from arena.plan.plan_file import plan_for_offsets
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
        origins=tuple(result.table.origins),
    )
