"""TFLM's semantics turned into an allocation problem: which buffers, how big, live when.

Follows tensorflow/lite/micro/micro_allocation_info.cc (``InitializeAllocationInfo`` and
``MarkAllocationLifetimes``) and micro_allocator.cc (``CreatePlan``) at tflite-micro 90b983c2:

* Buffers are added in TFLM's order: every tensor of subgraph 0 by index, then subgraph 1, ...,
  then one per kernel scratch request in request order (subgraph by subgraph, op by op).
* A tensor is planned when it has no data in the model, is not a variable (unless the offline
  plan places it) and has a non-zero byte size; sizes are rounded up to 16 bytes.
* One global step counter: subgraph inputs are born at the current step; op i of a subgraph
  runs at the next step; IF / WHILE / CALL_ONCE advance it once per called subgraph and walk it
  (only subgraphs reachable from subgraph 0 get lifetimes); intervals are inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from arena.allocators.problem import Buffer, Problem
from arena.errors import UnsupportedModelError
from arena.kernels import get_kernel_library
from arena.kernels.library import KernelLibrary
from arena.model.offline_plan import ONLINE, read_offline_plan
from arena.model.records import Model, Operator, Subgraph

if TYPE_CHECKING:
    import networkx as nx

#: TFLM's ``MicroArenaBufferAlignment()`` (tensorflow/lite/micro/memory_helpers.h): 16 bytes.
ARENA_ALIGNMENT = 16
#: Step value of a buffer nothing references (TFLM's ``kUninitializedLifetime``).
UNUSED_STEP = -1
#: Largest buffer TFLM's planner can place: ``GreedyMemoryPlanner::AddBuffer`` takes an ``int``
#: size and keeps ``int`` offsets (tensorflow/lite/micro/memory_planner/greedy_memory_planner.h).
MAX_BUFFER_BYTES = 2**31 - 1
#: Deepest chain of IF / WHILE / CALL_ONCE subgraph calls walked. TFLM recurses once per level
#: on the device's stack; real models nest a few levels, and a file nesting hundreds is hostile.
MAX_CALL_DEPTH = 64
#: Most op steps one walk may take. Subgraphs called twice per level (an IF whose branches call
#: the same subgraph) double the schedule per level, so a small file can describe 2^40 steps;
#: the walk stops here rather than run for hours. Real models have thousands of steps at most.
MAX_STEPS = 1 << 20
#: Ops whose options name subgraphs TFLM walks, with the option fields in walk order.
_CALLED_SUBGRAPHS = {
    "IF": ("then_subgraph_index", "else_subgraph_index"),
    "WHILE": ("cond_subgraph_index", "body_subgraph_index"),
    "CALL_ONCE": ("init_subgraph_index",),
}


class BufferKind(StrEnum):
    """What a planned buffer holds (the JSON strings)."""

    TENSOR = "tensor"
    SCRATCH = "scratch"


@dataclass(frozen=True, slots=True, kw_only=True)
class BufferOrigin:
    """Where a planned buffer comes from; parallel by index to the problem's buffers."""

    kind: BufferKind
    subgraph: int
    tensor: int | None
    global_tensor: int | None
    op: int | None
    name: str
    raw_bytes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StepOrigin:
    """What runs at a step: an op of a subgraph, or entry into a called subgraph (op None)."""

    step: int
    subgraph: int
    op: int | None
    op_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LifetimeTable:
    """The problem TFLM's planner solves for a model, with provenance and notes."""

    problem: Problem
    origins: tuple[BufferOrigin, ...]
    steps: tuple[StepOrigin, ...]
    kernels: str
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def step_origin(self, step: int | None) -> StepOrigin | None:
        """What runs at ``step`` (None for unknown steps such as -1)."""
        return next((s for s in self.steps if s.step == step), None)


def align_up(size: int, alignment: int = ARENA_ALIGNMENT) -> int:
    """Round ``size`` up to a multiple of ``alignment`` (TFLM's ``AlignSizeUp``).

    >>> align_up(490), align_up(0), align_up(16)
    (496, 0, 16)
    """
    return (size + alignment - 1) // alignment * alignment


class _Walk:
    """Mutable state of one lifetime walk; never escapes :func:`derive_lifetimes`."""

    def __init__(self, model: Model, scratch_ops: dict[tuple[int, int], list[int]]) -> None:
        self.model = model
        self.first: dict[tuple[int, int], int] = {}
        self.last: dict[tuple[int, int], int] = {}
        self.scratch_first: dict[int, int] = {}
        self.scratch_last: dict[int, int] = {}
        self.scratch_ops = scratch_ops
        self.steps: list[StepOrigin] = []
        self.scope = 0

    def touch(self, key: tuple[int, int], first: bool) -> None:
        if first:
            self.first.setdefault(key, self.scope)
        self.last[key] = self.scope

    def subgraph(self, index: int) -> None:
        graph = self.model.subgraphs[index]
        for tensor in graph.inputs:
            self.touch((index, tensor), first=True)
        for op in graph.operators:
            self.op(graph, op)
        for tensor in graph.outputs:
            self.touch((index, tensor), first=True)

    def op(self, graph: Subgraph, op: Operator) -> None:
        self.scope += 1
        self.steps.append(StepOrigin(step=self.scope, subgraph=graph.index, op=op.index, op_name=op.op_name))
        for tensor in op.outputs:
            self.first.setdefault((graph.index, tensor), self.scope)
        start = self.scope
        for called in _called_subgraphs(self.model, graph, op):
            self.scope += 1
            self.steps.append(StepOrigin(step=self.scope, subgraph=called, op=None, op_name="(enter)"))
            self.subgraph(called)
        for tensor in op.inputs:
            if tensor >= 0:
                self.last[(graph.index, tensor)] = self.scope
        for tensor in op.outputs:
            self.last[(graph.index, tensor)] = self.scope
        for request in self.scratch_ops.get((graph.index, op.index), ()):
            self.scratch_first.setdefault(request, start)
            self.scratch_last[request] = self.scope


def _called_subgraphs(model: Model, graph: Subgraph, op: Operator) -> list[int]:
    """The subgraphs an IF / WHILE / CALL_ONCE op runs, in TFLM's walk order."""
    called = []
    for field_name in _CALLED_SUBGRAPHS.get(op.op_name, ()):
        index = op.options.get(field_name, -1)
        if not isinstance(index, int) or not 0 <= index < len(model.subgraphs):
            raise UnsupportedModelError(
                f"{model.display_name}: subgraph {graph.index}, op {op.index}"
                f" ({op.op_name}): calls subgraph {index}, which does not exist"
            )
        called.append(index)
    return called


def _check_schedule(model: Model) -> None:
    """Reject subgraph calls TFLM's walk cannot finish: cycles, deep nesting, too many steps.

    Counts the steps of the walk without taking it (each subgraph's count is computed once), so
    a small file describing an exponential schedule is refused at once, not after hours.
    """
    steps_of: dict[int, int] = {}

    def steps(index: int, chain: list[int]) -> int:
        if index in steps_of:
            return steps_of[index]
        if index in chain:
            cycle = " -> ".join(str(i) for i in [*chain, index])
            raise UnsupportedModelError(f"{model.display_name}: subgraphs call each other in a cycle ({cycle})")
        if len(chain) > MAX_CALL_DEPTH:
            raise UnsupportedModelError(
                f"{model.display_name}: subgraph {chain[-1]} calls subgraph {index} at nesting depth"
                f" {len(chain)}, deeper than the {MAX_CALL_DEPTH} arena follows"
            )
        graph = model.subgraphs[index]
        total = 0
        for op in graph.operators:
            total += 1
            for called in _called_subgraphs(model, graph, op):
                total += 1 + steps(called, [*chain, index])
            if total > MAX_STEPS:
                raise UnsupportedModelError(
                    f"{model.display_name}: subgraph {index}, op {op.index} ({op.op_name}): the schedule"
                    f" passes {MAX_STEPS:,} op steps (subgraphs called many times over)"
                )
        steps_of[index] = total
        return total

    steps(0, [])


def _check_references(model: Model) -> None:
    """Reject tensor indices outside their subgraph, which TFLM would read out of bounds."""
    for graph in model.subgraphs:
        count = len(graph.tensors)
        where = f"{model.display_name}: subgraph {graph.index}"
        for role, indices in (("input", graph.inputs), ("output", graph.outputs)):
            bad = [i for i in indices if not 0 <= i < count]
            if bad:
                raise UnsupportedModelError(f"{where}: graph {role} tensor {bad[0]} does not exist ({count} tensors)")
        for op in graph.operators:
            for index in (*op.inputs, *op.outputs, *op.intermediates):
                if index >= count or index < -1 or (index == -1 and index in op.outputs):
                    raise UnsupportedModelError(
                        f"{where}, op {op.index} ({op.op_name}): tensor {index} does not exist ({count} tensors)"
                    )


def _scratch_requests(
    model: Model, library: KernelLibrary, allow_unsupported: bool
) -> tuple[list[tuple[int, int, str, int]], list[str]]:
    """(subgraph, op, purpose, bytes) per scratch request in TFLM's Prepare order, and warnings."""
    requests: list[tuple[int, int, str, int]] = []
    warnings: list[str] = []
    for graph in model.subgraphs:
        for op in graph.operators:
            reason = library.unsupported_reason(model, graph, op)
            if reason is not None:
                message = f"{model.display_name}: subgraph {graph.index}, op {op.index} ({op.op_name}): {reason}"
                if not allow_unsupported:
                    raise UnsupportedModelError(message)
                warnings.append(f"{message}; planned without its scratch buffers")
                continue
            for request in library.scratch_requests(model, graph, op):
                if not 0 <= request.size_bytes <= MAX_BUFFER_BYTES - ARENA_ALIGNMENT:
                    raise UnsupportedModelError(
                        f"{model.display_name}: subgraph {graph.index}, op {op.index} ({op.op_name}):"
                        f" scratch buffer '{request.purpose}' of {request.size_bytes:,} bytes does not fit"
                        f" TFLM's planner (0 to {MAX_BUFFER_BYTES:,} bytes)"
                    )
                requests.append((graph.index, op.index, request.purpose, request.size_bytes))
    return requests, warnings


def _check_planned(model: Model, graph: Subgraph, tensor_index: int, size: int, fixed: int) -> None:
    """Reject a planned tensor TFLM's ``int`` sizes and offsets cannot hold, or a bad offline offset."""
    tensor = graph.tensors[tensor_index]
    where = f"{model.display_name}: subgraph {graph.index}, tensor {tensor_index} '{tensor.name}'"
    if align_up(size) > MAX_BUFFER_BYTES:
        raise UnsupportedModelError(
            f"{where}: {size:,} bytes is more than TFLM's planner can place ({MAX_BUFFER_BYTES:,})"
        )
    if fixed < ONLINE or fixed + align_up(size) > MAX_BUFFER_BYTES:
        raise UnsupportedModelError(
            f"{where}: offline-planned offset {fixed} is outside 0 to {MAX_BUFFER_BYTES:,} bytes"
            f" (or -1 to plan online) for its {align_up(size):,} bytes"
        )


def _check_tensors(model: Model) -> None:
    """Reject what TFLM rejects before planning: unsized types, non-empty intermediates."""
    for graph in model.subgraphs:
        for tensor in graph.tensors:
            if tensor.byte_size is None:
                raise UnsupportedModelError(
                    f"{model.display_name}: subgraph {graph.index}, tensor {tensor.index}"
                    f" '{tensor.name}': TFLM cannot size type {tensor.type_name}"
                )
            if any(d < 0 for d in tensor.shape):
                raise UnsupportedModelError(
                    f"{model.display_name}: subgraph {graph.index}, tensor {tensor.index}"
                    f" '{tensor.name}': negative dimension in shape {list(tensor.shape)}"
                )
        for op in graph.operators:
            for index in op.intermediates:
                if index >= 0 and graph.tensors[index].byte_size:
                    raise UnsupportedModelError(
                        f"{model.display_name}: subgraph {graph.index}, op {op.index} ({op.op_name}):"
                        f" intermediate tensor {index} has non-zero size (TFLM rejects this)"
                    )


def _check_load(model: Model, problem: Problem) -> None:
    """Reject a model whose live bytes at one step already pass TFLM's ``int`` offsets."""
    bound = problem.lower_bound_bytes()
    if bound > MAX_BUFFER_BYTES:
        raise UnsupportedModelError(
            f"{model.display_name}: {bound:,} bytes are live at step {problem.peak_step()}, more than"
            f" TFLM's planner can place ({MAX_BUFFER_BYTES:,})"
        )


def _is_planned(tensor_has_data: bool, is_variable: bool, size: int, offline: int) -> bool:
    """TFLM's ``needs_allocating``: no data, not a variable (unless placed offline), size > 0."""
    if is_variable and offline != ONLINE:
        return True
    return not tensor_has_data and not is_variable and size != 0


def derive_lifetimes(model: Model, kernels: str = "reference", *, allow_unsupported: bool = False) -> LifetimeTable:
    """The buffers TFLM plans for ``model`` with the given kernel library, in AddBuffer order.

    Parameters
    ----------
    model
        A loaded model.
    kernels
        Kernel library name (decides scratch buffers and which ops are supported).
    allow_unsupported
        Plan ops the library cannot run (without their scratch) and report them as warnings,
        instead of failing.

    Raises
    ------
    UnsupportedModelError
        For anything TFLM itself would refuse while allocating: unknown ops, bad tensor
        references, unsized types, a malformed offline plan, a subgraph call cycle.
    """
    library = get_kernel_library(kernels)
    _check_references(model)
    _check_schedule(model)
    _check_tensors(model)
    offline = read_offline_plan(model)
    requests, warnings = _scratch_requests(model, library, allow_unsupported)
    scratch_ops: dict[tuple[int, int], list[int]] = {}
    for number, (graph_index, op_index, _, _) in enumerate(requests):
        scratch_ops.setdefault((graph_index, op_index), []).append(number)
    walk = _Walk(model, scratch_ops)
    walk.subgraph(0)

    buffers: list[Buffer] = []
    origins: list[BufferOrigin] = []
    global_index = 0
    for graph in model.subgraphs:
        for tensor in graph.tensors:
            size = tensor.byte_size or 0
            fixed = offline.offsets[global_index] if offline else ONLINE
            if _is_planned(tensor.has_data, tensor.is_variable, size, fixed):
                _check_planned(model, graph, tensor.index, size, fixed)
                key = (graph.index, tensor.index)
                buffers.append(
                    Buffer(
                        name=f"t{global_index}",
                        size=align_up(size),
                        first=walk.first.get(key, UNUSED_STEP),
                        last=walk.last.get(key, UNUSED_STEP),
                        alignment=1 if fixed != ONLINE else ARENA_ALIGNMENT,
                        fixed_offset=None if fixed == ONLINE else fixed,
                    )
                )
                origins.append(
                    BufferOrigin(
                        kind=BufferKind.TENSOR,
                        subgraph=graph.index,
                        tensor=tensor.index,
                        global_tensor=global_index,
                        op=None,
                        name=tensor.name,
                        raw_bytes=size,
                    )
                )
            global_index += 1
    for number, (graph_index, op_index, purpose, size) in enumerate(requests):
        buffers.append(
            Buffer(
                name=f"s{number}",
                size=align_up(size),
                first=walk.scratch_first.get(number, UNUSED_STEP),
                last=walk.scratch_last.get(number, UNUSED_STEP),
                alignment=ARENA_ALIGNMENT,
            )
        )
        origins.append(
            BufferOrigin(
                kind=BufferKind.SCRATCH,
                subgraph=graph_index,
                tensor=None,
                global_tensor=None,
                op=op_index,
                name=purpose,
                raw_bytes=size,
            )
        )
    problem = Problem(buffers=tuple(buffers))
    _check_load(model, problem)
    return LifetimeTable(
        problem=problem,
        origins=tuple(origins),
        steps=tuple(walk.steps),
        kernels=library.name,
        warnings=tuple(warnings),
    )


def lifetime_graph(model: Model, table: LifetimeTable) -> nx.DiGraph:
    """The model as a bipartite networkx graph of ops and tensors, for later analyses.

    Nodes are ``("op", subgraph, op)`` with ``op_name`` and ``step``, and ``("tensor", subgraph,
    tensor)`` with ``bytes``, ``planned`` and, when planned, ``first``/``last``/``buffer`` (index
    into the problem). Edges run tensor -> op for inputs and op -> tensor for outputs.
    """
    import networkx as nx

    graph = nx.DiGraph()
    step_of = {(s.subgraph, s.op): s.step for s in table.steps if s.op is not None}
    planned = {(o.subgraph, o.tensor): i for i, o in enumerate(table.origins) if o.kind is BufferKind.TENSOR}
    for sub in model.subgraphs:
        for tensor in sub.tensors:
            attrs: dict[str, object] = {
                "name": tensor.name,
                "bytes": tensor.byte_size or 0,
                "planned": (sub.index, tensor.index) in planned,
            }
            if attrs["planned"]:
                index = planned[(sub.index, tensor.index)]
                buffer = table.problem.buffers[index]
                attrs.update(first=buffer.first, last=buffer.last, buffer=index)
            graph.add_node(("tensor", sub.index, tensor.index), **attrs)
        for op in sub.operators:
            node = ("op", sub.index, op.index)
            graph.add_node(node, op_name=op.op_name, step=step_of.get((sub.index, op.index), UNUSED_STEP))
            for tensor_index in op.inputs:
                if tensor_index >= 0:
                    graph.add_edge(("tensor", sub.index, tensor_index), node)
            for tensor_index in op.outputs:
                graph.add_edge(node, ("tensor", sub.index, tensor_index))
    return graph
