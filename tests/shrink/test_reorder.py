"""Operator reordering: a branched graph worked by hand, the shared models, and a reordered graph in TFLM."""

from __future__ import annotations

import pytest

from arena.model.reader import read_model, read_model_bytes
from arena.model.records import Model, Operator, Subgraph
from arena.model.rewrite import GraphRewrite, rewrite_graph
from arena.shrink.reorder import best_order, order_peak
from conftest import shared_models_dir, tensor


def _two_branches() -> Model:
    """x (10 B) -> p (100 B) -> q (1 B); x -> r (100 B) -> s (1 B); out = ADD(q, s), listed p, r, q, s, add."""
    tensors = (tensor(0, (10,)), tensor(1, (100,)), tensor(2, (100,)), tensor(3, (1,)), tensor(4, (1,)),
               tensor(5, (1,)))  # fmt: skip

    def op(index: int, inputs: tuple[int, ...], output: int) -> Operator:
        return Operator(index=index, opcode_index=0, builtin_code=0, op_name="ADD", custom_code=None, version=1,
                        inputs=inputs, outputs=(output,))  # fmt: skip

    ops = (op(0, (0,), 1), op(1, (0,), 2), op(2, (1,), 3), op(3, (2,), 4), op(4, (3, 4), 5))
    graph = Subgraph(index=0, name="", tensors=tensors, operators=ops, inputs=(0,), outputs=(5,))
    return Model(path="b.tflite", sha256="", size_bytes=0, version=3, description="", subgraphs=(graph,),
                 metadata=(), buffer_count=1, data=b"")  # fmt: skip


def test_branch_order_by_hand() -> None:
    model = _two_branches()
    # Listed order: while r is computed, x, p and r are all live: 10 + 100 + 100 = 210.
    assert order_peak(model, (0, 1, 2, 3, 4)) == 210
    # Finishing one branch first: at q, x + p + q = 111; at r, x + q + r = 111 (p is dead); at s, q + r + s = 102.
    assert best_order(model) == (111, (0, 2, 1, 3, 4))


def test_a_linear_graph_keeps_its_order() -> None:
    model = read_model(shared_models_dir() / "armex_cnn_s_quantized.tflite")
    count = len(model.subgraphs[0].operators)
    found = best_order(model)
    assert found is not None and found[1] == tuple(range(count))


def test_resnet_listed_order_is_already_peak_optimal() -> None:
    # IC ResNet's peak is op 2 (32x32x16 int8 = 16,384 B each): the block input (read again by the ADD),
    # conv1's output and conv2's output, 3 * 16,384 = 49,152, in any topological order.
    model = read_model(shared_models_dir() / "mlperf_ic_pretrainedResnet_quant.tflite")
    found = best_order(model)
    assert found is not None and found[0] == 49_152 == order_peak(model, tuple(range(16)))


@pytest.mark.oracle
def test_reordered_resnet_is_bit_identical_in_tflm() -> None:
    """Any topological order computes the same values: run the shortcut conv (op 6) before op 4 in real TFLM."""
    from arena.proofs.shrink_proof import prove_in_tflm

    model = read_model(shared_models_dir() / "mlperf_ic_pretrainedResnet_quant.tflite")
    order = (0, 1, 2, 3, 6, 4, 5, *range(7, 16))
    data = rewrite_graph(model.data, GraphRewrite(operators=order))
    assert [op.outputs for op in read_model_bytes(data).subgraphs[0].operators][4] == model.subgraphs[0].operators[
        6
    ].outputs
    proof = prove_in_tflm(model, data, seed=5)
    assert proof.error is None
    assert proof.outputs_identical
