"""Residual-region band splitting: region boundaries and band rows by hand, halo MACs by hand,
bit-identical outputs in real TFLM."""

from __future__ import annotations

import pytest

from arena.cost.macs import count_model
from arena.lifetimes import derive_lifetimes
from arena.model.reader import read_model, read_model_bytes
from arena.model.records import Model
from arena.model.rewrite import rewrite_graph
from arena.shrink.regions import _needs, _nodes, region_output, split_region
from conftest import proven_split_heads, shared_models_dir

# MLPerf Tiny IC ResNet-8, subgraph 0 (checked in test_resnet_layout_is_the_one_worked_here):
# 0 CONV 3x3 32x32x3->16, 1 CONV 3x3 16->16, 2 CONV 3x3 16->16, 3 ADD(op0 out, op2 out),
# 4 CONV 3x3 s2 ->16x16x32, 5 CONV 3x3, 6 CONV 1x1 s2 (reads op3 out), 7 ADD(op5, op6), ...


@pytest.fixture(scope="module")
def resnet() -> Model:
    return read_model(shared_models_dir() / "mlperf_ic_pretrainedResnet_quant.tflite")


def test_resnet_layout_is_the_one_worked_here(resnet: Model) -> None:
    ops = resnet.subgraphs[0].operators
    assert [op.op_name for op in ops[:8]] == ["CONV_2D"] * 3 + ["ADD"] + ["CONV_2D"] * 3 + ["ADD"]
    assert set(ops[3].inputs) == {ops[0].outputs[0], ops[2].outputs[0]}
    assert ops[4].inputs[0] == ops[6].inputs[0] == ops[3].outputs[0]


def test_region_output_is_the_one_tensor_handed_on(resnet: Model) -> None:
    ops = resnet.subgraphs[0].operators
    assert region_output(resnet, 1, 3) == ops[3].outputs[0]  # block 1: x comes in, the ADD goes out
    assert region_output(resnet, 0, 7) == ops[7].outputs[0]  # both blocks
    assert region_output(resnet, 1, 2) is None  # a plain chain: the patch rule's
    assert region_output(resnet, 0, 4) is None  # block 1's output is still read by op 6 outside
    assert region_output(resnet, 4, 6) is None  # no ADD, and ops 5 and 6 both hand on


def test_band_rows_of_a_residual_block_by_hand(resnet: Model) -> None:
    nodes = _nodes(resnet, 1, 3)
    assert nodes is not None
    ops = resnet.subgraphs[0].operators
    x, c1, c2, y = ops[0].outputs[0], ops[1].outputs[0], ops[2].outputs[0], ops[3].outputs[0]
    # Output rows [8, 16) of the ADD need rows [8, 16) of c2 and of x; c2 (3x3, SAME, stride 1) needs
    # c1 rows [7, 17); c1 needs x rows [6, 18). x's band is the hull over its readers: [6, 18).
    assert _needs(nodes, y, (8, 16)) == {y: (8, 16), c2: (8, 16), c1: (7, 17), x: (6, 18)}
    # At the top edge the SAME padding row is not a row of the tensor: c1 [0, 9), x [0, 10).
    assert _needs(nodes, y, (0, 8)) == {y: (0, 8), c2: (0, 8), c1: (0, 9), x: (0, 10)}


def test_split_adds_macs_only_in_the_halo_of_the_first_convolution(resnet: Model) -> None:
    split = split_region(resnet, 1, 3, 4)
    assert split is not None
    shrunk = read_model_bytes(rewrite_graph(resnet.data, split.rewrite))
    # Four bands of 8 rows: conv 1 computes rows [0,9), [7,17), [15,25), [23,32): 38 rows for 32, so
    # 6 extra rows of 32 pixels x 16 output channels x 3 x 3 x 16 input channels.
    assert count_model(shrunk).macs - count_model(resnet).macs == 6 * 32 * 16 * 3 * 3 * 16
    planned = {o.tensor for o in derive_lifetimes(shrunk).origins}
    assert planned.isdisjoint(split.rewrite.retired)
    ops = shrunk.subgraphs[0].operators
    assert sum(op.op_name == "ADD" for op in ops) == 4 + 2  # a band ADD per band, blocks 2 and 3 as they were


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("first", "last", "bands", "carry"),
    [(1, 3, 4, False), (0, 7, 3, False), (1, 3, 4, True), (0, 7, 8, True), (4, 7, 5, True)],
)
def test_region_split_is_bit_identical_in_tflm(resnet: Model, first: int, last: int, bands: int, carry: bool) -> None:
    split = split_region(resnet, first, last, bands, carry=carry)
    assert split is not None
    proven_split_heads(resnet, split.rewrite, seed=5)


def _op_shapes(model: Model, name: str) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    graph = model.subgraphs[0]
    return [
        (graph.tensors[op.inputs[0]].shape, graph.tensors[op.outputs[0]].shape)
        for op in graph.operators
        if op.op_name == name
    ]


def test_carried_bands_compute_every_row_once(resnet: Model) -> None:
    # Both blocks (ops 0..7) in 8 bands: recomputing halos would cost more MACs than the whole
    # model's 10% (each band of block 2 reaches back 6 rows through the stem and block 1); carried,
    # every row of every tensor is computed once: not one MAC more.
    recomputed, carried = split_region(resnet, 0, 7, 8), split_region(resnet, 0, 7, 8, carry=True)
    assert recomputed is not None and carried is not None and carried.carried
    macs = count_model(resnet).macs
    assert count_model(read_model_bytes(rewrite_graph(resnet.data, recomputed.rewrite))).macs > 1.1 * macs
    assert count_model(read_model_bytes(rewrite_graph(resnet.data, carried.rewrite))).macs == macs
    assert "halos carried" in carried.description


def test_carried_rows_of_a_residual_block_by_hand(resnet: Model) -> None:
    # Block 1 (ops 1..3) in 4 bands of 8 output rows. Band 0 computes conv 1 rows [0, 9) (conv 2's
    # rows [0, 8) reach one row further), conv 2 rows [0, 8), ADD rows [0, 8). Band 1 computes conv 1
    # rows [9, 17) only, from x rows [8, 18); conv 2 rows [8, 16) need conv 1 rows [7, 17): rows
    # [7, 9) carried from band 0 (a 2-row slice) joined to the 8 new ones (a 10-row window).
    split = split_region(resnet, 1, 3, 4, carry=True)
    assert split is not None
    shrunk = read_model_bytes(rewrite_graph(resnet.data, split.rewrite))
    row = (32, 16)
    convs = [(x, y) for x, y in _op_shapes(shrunk, "CONV_2D") if y[2:] == row]
    # The stem (op 0, whole), then block 1's bands: conv 1 then conv 2 per band.
    assert [y[1] for _, y in convs[:9]] == [32, 9, 8, 8, 8, 8, 8, 7, 8]
    slices = [y[1] for x, y in _op_shapes(shrunk, "STRIDED_SLICE") if x[2:] == row and x[1] in (9, 10)]
    assert slices[0] == 2  # band 0's carry: conv 1 rows [7, 9) of its 9
    windows = [y[1] for x, y in _op_shapes(shrunk, "CONCATENATION") if y[2:] == row and y[1] < 32]
    assert windows == [10, 10, 9]  # [7, 17), [15, 25), [23, 32)
    assert count_model(shrunk).macs == count_model(resnet).macs
