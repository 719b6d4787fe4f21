"""Row-band splitting: receptive-field arithmetic by hand, and bit-identical outputs in real TFLM."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.cost.macs import count_model
from arena.lifetimes import derive_lifetimes
from arena.model.reader import read_model, read_model_bytes
from arena.model.rewrite import rewrite_graph
from arena.shrink.patches import _Layer, _same_padding, split_chain, splittable_chains
from arena.shrink.regions import _input_rows, _Node
from conftest import proven_split_heads, shared_models_dir


def _layer(height_in: int, height_out: int, kernel: int, stride: int) -> _Layer:
    top, _ = _same_padding(height_in, height_out, kernel, stride)
    op = None  # the band arithmetic reads only the geometry
    return _Layer(op=op, in_shape=(1, height_in, 8, 1), out_shape=(1, height_out, 8, 1),  # type: ignore[arg-type]
                  kernel=(kernel, kernel), stride=(stride, stride), pad_top=top, pad_left=1, pad_right=1)  # fmt: skip


def test_same_padding_matches_tflm_rule() -> None:
    # 96 -> 48 with a 3x3 stride-2 SAME conv: total = (48-1)*2 + 3 - 96 = 1, TFLM puts 0 before, 1 after.
    assert _same_padding(96, 48, 3, 2) == (0, 1)
    # 48 -> 48 with 3x3 stride 1: total 2, one on each side.
    assert _same_padding(48, 48, 3, 1) == (1, 1)


def _node(layer: _Layer) -> _Node:
    return _Node(op=None, layer=layer, inputs=())  # type: ignore[arg-type]


def test_band_rows_of_a_strided_conv_by_hand() -> None:
    node = _node(_layer(96, 48, 3, 2))
    # Output rows [0, 12) read input rows 0 .. 11*2 + 2 = 24: [0, 25), no padding rows.
    assert _input_rows(node, (0, 12)) == ((0, 25), 0, 0)
    # Output rows [36, 48) read rows 72 .. 47*2 + 2 = 96; row 96 is the bottom SAME pad row.
    assert _input_rows(node, (36, 48)) == ((72, 96), 0, 1)


def test_band_rows_through_two_layers_by_hand() -> None:
    first, second = _node(_layer(96, 48, 3, 2)), _node(_layer(48, 48, 3, 1))
    # Final rows [0, 24): the stride-1 conv needs rows -1 .. 24 of its input -> [0, 25) and one top
    # pad row; those 25 rows of the stride-2 conv need input rows 0 .. 24*2 + 2 = 50 -> [0, 51).
    assert _input_rows(second, (0, 24)) == ((0, 25), 1, 0)
    assert _input_rows(first, (0, 25)) == ((0, 51), 0, 0)


def test_person_detect_has_one_long_chain(shared_dir: Path) -> None:
    # tflm_person_detect is MobileNet v1: 27 conv/depthwise ops in a row, then pool, reshape, softmax.
    model = read_model(shared_dir / "tflm_person_detect.tflite")
    assert splittable_chains(model) == [(0, 26)]


def test_split_adds_macs_only_in_halos(shared_dir: Path) -> None:
    model = read_model(shared_dir / "tflm_person_detect.tflite")
    split = split_chain(model, 0, 3, 4)
    assert split is not None
    shrunk = read_model_bytes(rewrite_graph(model.data, split.rewrite))
    before, after = count_model(model).macs, count_model(shrunk).macs
    assert before < after < before * 1.05  # halo rows are recomputed, nothing else


def test_retired_tensors_are_not_planned(shared_dir: Path) -> None:
    model = read_model(shared_dir / "tflm_person_detect.tflite")
    split = split_chain(model, 0, 3, 4)
    assert split is not None
    shrunk = read_model_bytes(rewrite_graph(model.data, split.rewrite))
    planned = {o.tensor for o in derive_lifetimes(shrunk).origins}
    assert planned.isdisjoint(split.rewrite.retired)


@pytest.mark.oracle
@pytest.mark.parametrize(("name", "last_op", "bands"), [("tflm_person_detect", 3, 4), ("mlperf_vww_96_int8", 3, 6)])
def test_split_model_is_bit_identical_in_tflm(name: str, last_op: int, bands: int) -> None:
    model = read_model(shared_models_dir() / f"{name}.tflite")
    split = split_chain(model, 0, last_op, bands)
    assert split is not None
    original, shrunk = proven_split_heads(model, split.rewrite, seed=3)
    assert original is not None and shrunk is not None and shrunk < original
