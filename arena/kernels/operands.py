"""An op's input and output tensors as a kernel's Prepare sees them.

TFLM's ``AllocateTempInputTensor`` / ``AllocateTempOutputTensor`` return null for a slot the
op does not have or an omitted (-1) input; every kernel rule reads its operands this way.
"""

from __future__ import annotations

from arena.model.records import Operator, Subgraph, Tensor


def op_input(subgraph: Subgraph, op: Operator, slot: int) -> Tensor | None:
    """The tensor at input ``slot``, None when the slot is absent, omitted or out of range."""
    if slot >= len(op.inputs) or not 0 <= op.inputs[slot] < len(subgraph.tensors):
        return None
    return subgraph.tensors[op.inputs[slot]]


def op_output(subgraph: Subgraph, op: Operator, slot: int = 0) -> Tensor | None:
    """The tensor at output ``slot``, None when the slot is absent or out of range."""
    if slot >= len(op.outputs) or not 0 <= op.outputs[slot] < len(subgraph.tensors):
        return None
    return subgraph.tensors[op.outputs[slot]]
