"""The steps a kernel's Init or Prepare takes in the arena, and helpers to write kernel rules.

A rule describes one op's calls in order: :class:`PersistentBuffer` for
``context->AllocatePersistentBuffer`` (tail, 16-byte aligned: micro_interpreter_context.cc
``MicroInterpreterContext::AllocatePersistentBuffer`` goes through
``MicroAllocator::AllocatePersistentBuffer`` with ``MicroArenaBufferAlignment()``) and
:class:`TempTensor` for ``MicroContext::AllocateTempInputTensor`` / ``AllocateTempOutputTensor``
(temp section; micro_context.cc skips optional inputs, index -1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from arena.kernels.reference_scratch import custom_options
from arena.model.records import Model, Operator, Subgraph, Tensor
from arena.tail.abi import Abi

INT32_BYTES = 4


@dataclass(frozen=True, slots=True)
class PersistentBuffer:
    """``context->AllocatePersistentBuffer(size)``: tail memory, 16-byte aligned."""

    component: str
    size: int


@dataclass(frozen=True, slots=True)
class TempTensor:
    """A temporary ``TfLiteTensor`` (plus its quantization) for tensor ``tensor`` of the subgraph."""

    tensor: int


Step = PersistentBuffer | TempTensor
#: (model, subgraph, op, abi) -> the op's steps in call order.
KernelRule = Callable[[Model, Subgraph, Operator, Abi], tuple[Step, ...]]


def tensor_at(graph: Subgraph, op: Operator, slot: int, outputs: bool = False) -> Tensor | None:
    """The tensor at an input (or output) slot; None when absent or omitted (-1)."""
    indices = op.outputs if outputs else op.inputs
    if slot >= len(indices) or not 0 <= indices[slot] < len(graph.tensors):
        return None
    return graph.tensors[indices[slot]]


def temps(op: Operator, *slots: int | str) -> tuple[TempTensor, ...]:
    """Temp tensors for input slots (ints) and output slots ('o0', 'o1', ...), skipping -1.

    >>> from arena.model.records import Operator
    >>> op = Operator(index=0, opcode_index=0, builtin_code=9, op_name="FULLY_CONNECTED",
    ...               custom_code=None, version=1, inputs=(0, 1, -1), outputs=(3,))
    >>> [t.tensor for t in temps(op, "o0", 0, 1, 2)]
    [3, 0, 1]
    """
    steps = []
    for slot in slots:
        if isinstance(slot, str):
            index = int(slot[1:])
            if index < len(op.outputs):
                steps.append(TempTensor(op.outputs[index]))
        elif slot < len(op.inputs) and op.inputs[slot] >= 0:
            steps.append(TempTensor(op.inputs[slot]))
    return tuple(steps)


def inputs_then_outputs(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """The common Prepare: a temp tensor per input (optional ones skipped), then per output."""
    del model, graph, abi
    return (*temps(op, *range(len(op.inputs))), *temps(op, *(f"o{i}" for i in range(len(op.outputs)))))


def opdata(struct: str, abi: Abi) -> PersistentBuffer:
    """The persistent buffer holding a kernel's ``struct``."""
    return PersistentBuffer(component=f"kernel OpData ({struct})", size=abi.size(struct))


def custom_int(op: Operator, key: str) -> int:
    """An integer from a custom op's flexbuffer options (0 when absent, like ``AsInt32``)."""
    value = custom_options(op).get(key, 0)
    return int(value) if isinstance(value, bool | int | float) else 0
