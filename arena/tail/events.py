"""Every arena allocation TFLM makes while it sets up a model, in its real order.

The sequence follows the ``tflite-micro`` Python package (python/tflite_micro/
interpreter_wrapper.cc ``InterpreterWrapper``) and a firmware's ``MicroInterpreter`` alike:

1. allocator objects (micro_allocator.cc ``MicroAllocator::Create`` or
   recording_micro_allocator.cc ``RecordingMicroAllocator::Create``): the arena allocator, the
   ``GreedyMemoryPlanner``, the ``MicroAllocator``; then ``MicroResourceVariables::Create`` when the
   model has VAR_HANDLE ops (the package counts their distinct ``shared_name``);
2. ``MicroAllocator::StartModelAllocation``: ``MicroBuiltinDataAllocator``, the scratch-request
   array at the head start (``InitScratchBufferData``, room for 12 requests), one
   ``SubgraphAllocations`` per subgraph, a ``TfLiteEvalTensor`` array and a ``NodeAndRegistration``
   array per subgraph;
3. micro_interpreter.cc ``PrepareNodeAndRegistrationDataFromFlatbuffer``: each builtin op's
   ``TfLite*Params`` struct (dims and index arrays point into the flatbuffer: no allocation);
4. micro_interpreter_graph.cc ``InitSubgraphs`` then ``PrepareSubgraphs`` (kernel steps from
   :mod:`arena.tail.kernels`); after each op's Prepare, ``FinishPrepareNodeAllocations`` drops the
   temp section and regrows the scratch-request array to ``requests so far + 12``;
5. ``FinishModelAllocation``: ``ScratchBufferHandle`` array, then ``CommitStaticMemoryPlan``:
   temp subgraph offsets and one ``AllocationInfo`` per tensor and scratch request
   (micro_allocation_info.cc ``CreateAllocationInfo``), variable tensors (``AllocateVariables``,
   16-aligned, skipped when the offline plan places them), the planner's scratch (all the memory
   left, of which it needs 40 bytes per planned buffer), then the temp section is dropped and the
   head reserved for the plan;
6. micro_interpreter.cc ``AllocateTensors``: ``input_tensors_`` and ``output_tensors_`` pointer
   arrays (16-aligned) and a persistent ``TfLiteTensor`` (with quantization) per graph input and
   output.

Not modelled: compressed models (``COMPRESSION_METADATA``: lookup-table structs and decompression
scratch), ``SetDecompressionMemory``, and the linear planner used with ``preserve_all_tensors``.
"""

from __future__ import annotations

from dataclasses import dataclass

from arena.lifetimes import BufferKind, LifetimeTable
from arena.model.offline_plan import ONLINE, read_offline_plan
from arena.model.records import Model, Tensor
from arena.tail.abi import ARENA_ALIGNMENT, MAX_SCRATCH_BUFFERS_PER_OP, Abi
from arena.tail.kernels import TailKernels
from arena.tail.steps import PersistentBuffer, Step

#: ``alignof(TfLiteIntArray)``: the zero-point array of a tensor's quantization.
INT_ARRAY_ALIGNMENT = 4
INT32_BYTES = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Persistent:
    """``AllocatePersistentBuffer(size, alignment)``: the tail grows down by size plus padding."""

    component: str
    size: int
    alignment: int
    phase: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Temp:
    """``AllocateTemp(size, alignment)``: the temp section grows up from the head."""

    size: int
    alignment: int
    phase: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetTemp:
    """``ResetTempAllocations``: the temp section shrinks back to the head."""

    phase: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ResizeHead:
    """``ResizeBuffer`` of the one resizable buffer at the head start (the scratch requests)."""

    size: int
    alignment: int
    phase: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanMemory:
    """The planner's scratch: all memory left, of which ``buffers`` x 40 bytes are needed."""

    buffers: int
    phase: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReserveHead:
    """``ReserveNonPersistentOverlayMemory``: the head becomes the plan's size."""

    phase: str


Event = Persistent | Temp | ResetTemp | ResizeHead | PlanMemory | ReserveHead


def _struct(abi: Abi, struct: str, component: str, phase: str, count: int = 1) -> Persistent:
    layout = abi.layout(struct)
    return Persistent(component=component, size=layout.size * count, alignment=layout.alignment, phase=phase)


def _quantization_channels(tensor: Tensor) -> int | None:
    """Channels TFLM copies quantization for, or None when it skips it (no scale or zero point)."""
    quant = tensor.quantization
    if quant is None or not quant.scale or not quant.zero_point:
        return None
    return len(quant.scale)


def _tensor_struct_sizes(abi: Abi, tensor: Tensor) -> list[tuple[str, int, int]]:
    """(what, size, alignment) of a ``TfLiteTensor`` and its quantization, in allocation order.

    micro_allocator.cc ``InitializeTfLiteTensorFromFlatbuffer``: with a non-empty scale and zero
    point it allocates a ``TfLiteAffineQuantization`` and a zero-point ``TfLiteIntArray`` of one
    int per scale (the scale array stays in the flatbuffer).
    """
    tensor_layout = abi.layout("TfLiteTensor")
    parts = [("TfLiteTensor", tensor_layout.size, tensor_layout.alignment)]
    channels = _quantization_channels(tensor)
    if channels is not None:
        quant = abi.layout("TfLiteAffineQuantization")
        parts.append(("quantization", quant.size, quant.alignment))
        parts.append(("zero points", INT32_BYTES * (1 + channels), INT_ARRAY_ALIGNMENT))
    return parts


def _allocator_objects(model: Model, abi: Abi) -> list[Event]:
    phase = "allocator setup"
    recording = "Recording" if abi.recording_allocator else ""
    events: list[Event] = [
        _struct(abi, f"{recording}SingleArenaBufferAllocator", "arena allocator object", phase),
        _struct(abi, "GreedyMemoryPlanner", "memory planner object", phase),
        _struct(abi, f"{recording}MicroAllocator", "MicroAllocator object", phase),
    ]
    names = {op.options.get("shared_name") for g in model.subgraphs for op in g.operators if op.op_name == "VAR_HANDLE"}
    if names:  # micro_resource_variable.cc ``MicroResourceVariables::Create``
        events.append(
            Persistent(
                component="resource variables",
                size=abi.size("MicroResourceVariables"),
                alignment=ARENA_ALIGNMENT,
                phase=phase,
            )
        )
        events.append(
            Persistent(
                component="resource variables",
                size=abi.size("MicroResourceVariable") * len(names),
                alignment=ARENA_ALIGNMENT,
                phase=phase,
            )
        )
    return events


def _model_structures(model: Model, abi: Abi) -> list[Event]:
    phase = "model allocation"
    request = abi.layout("ScratchBufferRequest")
    events: list[Event] = [
        _struct(abi, "MicroBuiltinDataAllocator", "MicroBuiltinDataAllocator object", phase),
        ResizeHead(size=request.size * MAX_SCRATCH_BUFFERS_PER_OP, alignment=request.alignment, phase=phase),
        _struct(abi, "SubgraphAllocations", "SubgraphAllocations", phase, count=len(model.subgraphs)),
    ]
    events += [
        _struct(abi, "TfLiteEvalTensor", "TfLiteEvalTensor array", phase, len(g.tensors)) for g in model.subgraphs
    ]
    events += [
        _struct(abi, "NodeAndRegistration", "NodeAndRegistration array", phase, len(g.operators))
        for g in model.subgraphs
    ]
    return events


def _builtin_params(model: Model, abi: Abi, params: dict[str, str]) -> list[Event]:
    events: list[Event] = []
    for graph in model.subgraphs:
        for op in graph.operators:
            struct = params.get(op.op_name)
            if op.custom_code is None and struct is not None:
                phase = f"subgraph {graph.index} op {op.index} ({op.op_name}) parse"
                events.append(_struct(abi, struct, f"builtin params ({struct})", phase))
    return events


def _kernel_steps(steps: tuple[Step, ...], graph_tensors: tuple[Tensor, ...], abi: Abi, phase: str) -> list[Event]:
    events: list[Event] = []
    for step in steps:
        if isinstance(step, PersistentBuffer):
            events.append(Persistent(component=step.component, size=step.size, alignment=ARENA_ALIGNMENT, phase=phase))
        elif 0 <= step.tensor < len(graph_tensors):
            events += [
                Temp(size=size, alignment=align, phase=phase)
                for _, size, align in _tensor_struct_sizes(abi, graph_tensors[step.tensor])
            ]
    return events


def _kernels(model: Model, table: LifetimeTable, abi: Abi, kernels: TailKernels) -> list[Event]:
    events: list[Event] = []
    for graph in model.subgraphs:
        for op in graph.operators:
            phase = f"subgraph {graph.index} op {op.index} ({op.op_name}) init"
            events += _kernel_steps(kernels.init_steps(model, graph, op, abi), graph.tensors, abi, phase)
    request = abi.layout("ScratchBufferRequest")
    requests_so_far = 0
    scratch_ops = [(o.subgraph, o.op) for o in table.origins if o.kind is BufferKind.SCRATCH]
    for graph in model.subgraphs:
        for op in graph.operators:
            phase = f"subgraph {graph.index} op {op.index} ({op.op_name}) prepare"
            events += _kernel_steps(kernels.prepare_steps(model, graph, op, abi), graph.tensors, abi, phase)
            requests_so_far += scratch_ops.count((graph.index, op.index))
            events.append(ResetTemp(phase=phase))
            size = request.size * (requests_so_far + MAX_SCRATCH_BUFFERS_PER_OP)
            events.append(ResizeHead(size=size, alignment=request.alignment, phase=phase))
    return events


def _commit(model: Model, table: LifetimeTable, abi: Abi) -> list[Event]:
    phase = "memory planning"
    scratch_count = sum(1 for o in table.origins if o.kind is BufferKind.SCRATCH)
    events: list[Event] = []
    if scratch_count:
        events.append(_struct(abi, "ScratchBufferHandle", "scratch buffer handles", phase, scratch_count))
    size_t = abi.layout("size_t")
    info = abi.layout("AllocationInfo")
    events.append(Temp(size=size_t.size * len(model.subgraphs), alignment=size_t.alignment, phase=phase))
    events.append(Temp(size=info.size * (model.tensor_count + scratch_count), alignment=info.alignment, phase=phase))
    offline = read_offline_plan(model)
    global_index = 0
    for graph in model.subgraphs:
        for tensor in graph.tensors:
            placed = offline is not None and offline.offsets[global_index] != ONLINE
            if tensor.is_variable and not placed:
                events.append(
                    Persistent(
                        component="variable tensors", size=tensor.byte_size or 0, alignment=ARENA_ALIGNMENT, phase=phase
                    )
                )
            global_index += 1
    events.append(PlanMemory(buffers=len(table.problem.buffers), phase=phase))
    events.append(ResetTemp(phase=phase))
    events.append(ResizeHead(size=0, alignment=1, phase=phase))
    events.append(ReserveHead(phase="head reservation"))
    return events


def _io_tensors(model: Model, abi: Abi) -> list[Event]:
    phase = "input/output tensors"
    graph = model.subgraphs[0]
    events: list[Event] = []
    for role, indices in (("input", graph.inputs), ("output", graph.outputs)):
        events.append(
            Persistent(
                component=f"{role} TfLiteTensor* array",
                size=abi.pointer_bytes * len(indices),
                alignment=ARENA_ALIGNMENT,
                phase=phase,
            )
        )
        for index in indices:
            for what, size, align in _tensor_struct_sizes(abi, graph.tensors[index]):
                component = "I/O TfLiteTensor" if what == "TfLiteTensor" else "I/O tensor quantization"
                events.append(Persistent(component=component, size=size, alignment=align, phase=phase))
    return events


def allocation_events(
    model: Model, table: LifetimeTable, abi: Abi, kernels: TailKernels, params: dict[str, str]
) -> tuple[Event, ...]:
    """All arena allocations TFLM makes for ``model``, in order (see the module docstring).

    Parameters
    ----------
    model, table
        The model and the buffers TFLM plans for it (:func:`arena.lifetimes.derive_lifetimes`;
        its scratch requests give the per-op request counts, its buffers the planner's count).
    abi
        Struct layouts and build options.
    kernels
        The kernel library's Init/Prepare rules.
    params
        Builtin op name -> the ``TfLite*Params`` struct its parser allocates.
    """
    return (
        *_allocator_objects(model, abi),
        *_model_structures(model, abi),
        *_builtin_params(model, abi, params),
        *_kernels(model, table, abi, kernels),
        *_commit(model, table, abi),
        *_io_tensors(model, abi),
    )
