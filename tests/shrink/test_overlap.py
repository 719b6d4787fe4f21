"""Partial overlap: required leads worked by hand, the simulator's replay, and real TFLM."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.lifetimes import derive_lifetimes
from arena.model.records import Model, Operator, Subgraph
from arena.proofs.alias_simulate import simulate_aliased
from arena.shrink.alias import Alias, AliasKind
from arena.shrink.overlap import _memcpy_lead, _pad_lead, required_lead
from conftest import tensor


def _dw_model(height: int, width: int, channels: int, stride: int) -> Model:
    out_h = (height + stride - 1) // stride
    out_w = (width + stride - 1) // stride
    tensors = (
        tensor(0, (1, height, width, channels)),
        tensor(1, (1, height, width, channels)),
        tensor(2, (1, 3, 3, channels), const=True),
        tensor(3, (channels,), type_code=2, const=True),
        tensor(4, (1, out_h, out_w, channels)),
        tensor(5, (1, out_h, out_w, channels)),
    )
    options = {"padding": 0, "stride_h": stride, "stride_w": stride, "depth_multiplier": 1}
    ops = (
        Operator(index=0, opcode_index=0, builtin_code=19, op_name="RELU", custom_code=None, version=1,
                 inputs=(0,), outputs=(1,)),
        Operator(index=1, opcode_index=1, builtin_code=4, op_name="DEPTHWISE_CONV_2D", custom_code=None, version=1,
                 inputs=(1, 2, 3), outputs=(4,), options=options),
        Operator(index=2, opcode_index=0, builtin_code=19, op_name="RELU", custom_code=None, version=1,
                 inputs=(4,), outputs=(5,)),
    )  # fmt: skip
    graph = Subgraph(index=0, name="", tensors=tensors, operators=ops, inputs=(0,), outputs=(5,))
    return Model(path="dw.tflite", sha256="", size_bytes=0, version=3, description="", subgraphs=(graph,),
                 metadata=(), buffer_count=6, data=b"")  # fmt: skip


def test_lead_of_a_same_size_depthwise_by_hand() -> None:
    model = _dw_model(5, 4, 2, 1)
    graph = model.subgraphs[0]
    # 8-byte rows, pad_top 1: writing row y (end (y+1)*8) while rows from y-1 on are read (start (y-1)*8):
    # y = 0 -> 8 - 0 = 8; y >= 1 -> (y+1)*8 - (y-1)*8 = 16. The output must start 16 B below the input.
    assert required_lead(model, graph, graph.operators[1]) == 16


def test_lead_of_a_strided_depthwise_by_hand() -> None:
    model = _dw_model(8, 8, 1, 2)
    graph = model.subgraphs[0]
    # 8x8 -> 4x4, pad_top 0 (total 3*2 + 3 - 8 = 1, all at the bottom); input rows 8 B, output rows 4 B:
    # y -> (y+1)*4 - 2y*8 is largest at y = 0: 4.
    assert required_lead(model, graph, graph.operators[1]) == 4


def test_lead_of_a_pad_by_hand() -> None:
    # 2x2 input, one pad row on top and one column each side -> 3x4 output, written in raster order:
    # p p p p / p i i p / p i i p. Bytes read after each write: 0 0 0 0 0 1 2 2 2 3 4 4; while input
    # remains (first 10 writes) the write position k+1 runs ahead of the reads by at most 10 - 3 = 7.
    assert _pad_lead((1, 2, 2, 1), (0, 0, 1, 0, 1, 1, 0, 0)) == 7


def _offsets(model: Model, output_below_input: int) -> tuple[int, ...]:
    table = derive_lifetimes(model)
    where = {1: 64, 4: 64 - output_below_input, 0: 200, 5: 200}  # t0 and t5 far from the overlap
    return tuple(where[o.tensor] for o in table.origins if o.tensor is not None)


def test_simulator_accepts_the_lead_and_rejects_less() -> None:
    model = _dw_model(5, 4, 2, 1)
    table = derive_lifetimes(model)
    alias = (Alias(op=1, kind=AliasKind.OVERLAP, source=1, target=4, byte_offset=16),)
    assert simulate_aliased(model, table, _offsets(model, 16), alias).ok
    report = simulate_aliased(model, table, _offsets(model, 8), alias)
    assert not report.ok  # row 1 written over input row 0, which output row 1 still reads
    assert "op 1 DEPTHWISE_CONV_2D" in report.problems[0]


@pytest.mark.oracle
def test_kws_overlaps_are_bit_identical_and_a_short_lead_is_not(shared_dir: Path) -> None:
    from arena.commands.shrink import shrink_model
    from arena.model.reader import read_model, read_model_bytes
    from arena.model.writer import embed_offline_plan
    from arena.proofs.shrink_proof import prove_in_tflm

    path = shared_dir / "mlperf_kws_ref_model.tflite"
    result = shrink_model(path, patches=False)
    assert result.tflm is not None and result.tflm.ok  # bit-identical, TFLM head = plan head
    assert result.tflm.original_head_bytes is not None
    assert result.tflm.shrunk_head_bytes is not None
    assert result.tflm.shrunk_head_bytes < result.tflm.original_head_bytes
    overlap = next(a for a in result.aliases if a.kind is AliasKind.OVERLAP)
    # Same plan, but one overlapped output moved up onto its input (lead 0): TFLM must now differ.
    shrunk = read_model_bytes(result.model_bytes)
    from arena.model.offline_plan import read_offline_plan

    offsets = list(read_offline_plan(shrunk).offsets)
    offsets[overlap.target] = offsets[overlap.source]
    broken = embed_offline_plan(result.model_bytes, offsets)
    proof = prove_in_tflm(read_model(path), broken)
    assert proof.error is None
    assert not proof.outputs_identical


@pytest.mark.parametrize(
    "name", ["mlperf_kws_ref_model.tflite", "tflm_micro_speech_quantized.tflite", "mlperf_vww_96_int8.tflite"]
)
def test_cmsis_nn_overlaps_only_on_the_raster_paths(shared_dir: Path, name: str) -> None:
    """CMSIS-NN DSP: overlaps only on the functions read to be raster ordered (never a 1x1 or
    grouped convolution) and on PAD with its copies' destinations below their sources; the Helium
    build gets none."""
    from arena.kernels.cmsis_nn import kernel_for_op
    from arena.model import read_model
    from arena.shrink.overlap import RASTER_CMSIS_NN_KERNELS, _memcpy_lead, find_overlaps
    from arena.shrink.rows import _int32s

    model = read_model(shared_dir / name)
    graph = model.subgraphs[0]
    dsp = find_overlaps(model, derive_lifetimes(model, "cmsis-nn-dsp"))
    for alias in dsp:
        op = graph.operators[alias.op]
        if op.op_name == "PAD":
            pads = _int32s(model, graph, op.inputs[1])
            assert pads is not None
            assert alias.byte_offset >= _memcpy_lead(graph.tensors[op.inputs[0]].shape, pads)
            continue
        assert kernel_for_op(graph, op, "dsp") in RASTER_CMSIS_NN_KERNELS
        if op.op_name == "CONV_2D":
            weights = graph.tensors[op.inputs[1]].shape
            assert weights[1:3] != (1, 1) and weights[3] == graph.tensors[op.inputs[0]].shape[3]
    assert find_overlaps(model, derive_lifetimes(model, "cmsis-nn-mve")) == ()
    if name == "tflm_micro_speech_quantized.tflite":  # its one DEPTHWISE_CONV_2D runs arm_depthwise_conv_s8
        assert len(dsp) == 1


def test_cmsis_nn_pad_lead_keeps_every_memcpy_below_its_source() -> None:
    """arm_pad_s8 copies rows with memcpy (undefined on overlapping ranges): hand-worked, a 2x2
    image padded one row on top and a column each side copies its rows to output bytes 5-6 and
    9-10 from input bytes 0-1 and 2-3; at lead 9 the last copy ends exactly where its source
    starts. The reference kernel's element order allows 7 (test above), where that copy would be
    onto itself."""
    shape, pads = (1, 2, 2, 1), (0, 0, 1, 0, 1, 1, 0, 0)
    assert _memcpy_lead(shape, pads) == 9 > _pad_lead(shape, pads) == 7
    # Channel padding copies pixel by pixel: 1x2x1 image, one channel added in front -> pixels go to
    # output bytes 1 and 3 from input bytes 0 and 1: lead >= max(1 + 1 - 0, 3 + 1 - 1) = 3.
    assert _memcpy_lead((1, 1, 2, 1), (0, 0, 0, 0, 0, 0, 1, 0)) == 3
