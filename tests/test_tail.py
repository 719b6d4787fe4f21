"""Unit tests of the tail and minimum-arena model on hand-worked records-built models.

Every expected number is worked out in the comments from the struct sizes documented in
arena/tail/abi.py (64-bit: RecordingSingleArenaBufferAllocator 104/8, GreedyMemoryPlanner
72/8, RecordingMicroAllocator 272/8, MicroBuiltinDataAllocator 16/8, SubgraphAllocations 24/8,
TfLiteEvalTensor 24/8, NodeAndRegistration 64/8, TfLiteTensor 64/8, TfLiteAffineQuantization
24/8, TfLiteFullyConnectedParams 32/8, OpDataFullyConnected 72, OpDataConv 80; Cortex-M:
SingleArenaBufferAllocator 36/4, GreedyMemoryPlanner 44/4, MicroAllocator 36/4,
MicroBuiltinDataAllocator 8/4, SubgraphAllocations 8/4, TfLiteEvalTensor 12/4,
NodeAndRegistration 32/4, TfLiteTensor 32/4, TfLiteAffineQuantization 12/4,
TfLiteFullyConnectedParams 16/4, OpDataFullyConnected 48). Offsets below count bytes down from
the arena's (16-aligned) end; each allocation is aligned down from the previous one.
"""

from __future__ import annotations

import dataclasses

import pytest

from arena.errors import ArenaError
from arena.lifetimes import derive_lifetimes
from arena.model.records import Model, Quantization, Subgraph, Tensor
from arena.tail import CORTEX_M, HOST_X86_64, make_abi, minimum_arena_bytes, tail_bytes
from arena.tail.events import Persistent, ResetTemp, Temp
from arena.tail.kernels import get_tail_kernels
from arena.tail.replay import replay
from arena.tail.signal_kernels import kissfft_real_bytes
from conftest import make_model, operator


def _tensor(
    index: int,
    shape: tuple[int, ...],
    *,
    type_code: int = 9,
    const: bool = False,
    scales: int = 1,
    variable: bool = False,
) -> Tensor:
    quant = Quantization(scale=(0.5,) * scales, zero_point=(0,) * scales) if scales else None
    return Tensor(
        index=index,
        name=f"t{index}",
        shape=shape,
        type_code=type_code,
        buffer=index + 1 if const else 0,
        has_data=const,
        is_variable=variable,
        quantization=quant,
    )


def _identity_model() -> Model:
    """One int8 tensor of 4 elements that is both graph input and output; no ops, no quantization."""
    x = _tensor(0, (4,), scales=0)
    return make_model(Subgraph(index=0, name="", tensors=(x,), operators=(), inputs=(0,), outputs=(0,)))


def _fc_model(filter_scales: int = 1) -> Model:
    """input (1,4) int8 -> FULLY_CONNECTED(filter (3,4) int8, bias (3,) int32) -> output (1,3) int8."""
    tensors = (
        _tensor(0, (1, 4)),
        _tensor(1, (3, 4), const=True, scales=filter_scales),
        _tensor(2, (3,), type_code=2, const=True, scales=filter_scales),
        _tensor(3, (1, 3)),
    )
    fc = operator(0, "FULLY_CONNECTED", (0, 1, 2), (3,))
    return make_model(Subgraph(index=0, name="", tensors=tensors, operators=(fc,), inputs=(0,), outputs=(3,)))


def _component_bytes(model: Model, abi=HOST_X86_64) -> dict[str, int]:
    return {c.name: c.bytes for c in tail_bytes(model, derive_lifetimes(model), abi).components}


def test_identity_model_tail_64bit() -> None:
    # allocators 104 + 72 + 272 = 448; MicroBuiltinDataAllocator 16 -> 464; SubgraphAllocations
    # 24 -> 488; one TfLiteEvalTensor 24 -> 512; no ops, so an empty NodeAndRegistration array.
    # input_tensors_ (8 bytes, 16-aligned): 520 -> 528; its TfLiteTensor 64 -> 592 (no
    # quantization to copy); output_tensors_: 600 -> 608; TfLiteTensor 64 -> 672.
    model = _identity_model()
    estimate = tail_bytes(model, derive_lifetimes(model))
    assert estimate.total_bytes == 672
    parts = {c.name: (c.bytes, c.count) for c in estimate.components}
    assert parts["arena allocator object"] == (104, 1)
    assert parts["TfLiteEvalTensor array"] == (24, 1)
    assert parts["input TfLiteTensor* array"] == (16, 1)  # 8 bytes + 8 of alignment padding
    assert parts["I/O TfLiteTensor"] == (128, 2)
    assert sum(b for b, _ in parts.values()) == 672


def test_identity_model_tail_cortex_m() -> None:
    # SingleArenaBufferAllocator 36, GreedyMemoryPlanner 44, MicroAllocator 36 -> 116;
    # MicroBuiltinDataAllocator 8 -> 124; SubgraphAllocations (no compression: 2 pointers) 8 ->
    # 132; TfLiteEvalTensor 12 -> 144; input_tensors_ 4 bytes: 148 -> 160; TfLiteTensor 32 ->
    # 192; output_tensors_: 196 -> 208; TfLiteTensor 32 -> 240.
    model = _identity_model()
    assert tail_bytes(model, derive_lifetimes(model), CORTEX_M).total_bytes == 240


def test_identity_model_minimum_is_the_planning_transient() -> None:
    # Head: the 4-byte tensor rounded to 16. Tail at commit time: 512 (everything before the
    # I/O tensors). Temp at commit: scratch-request array 12 x 16 = 192, subgraph offsets 8 ->
    # 200, one AllocationInfo 32 -> 232, aligned up to 240; the planner needs 40 bytes for its
    # one buffer, so the tail must start at 280 or later, i.e. at 288 (it is 16-aligned):
    # arena >= 512 + 288 = 800, more than head + tail = 16 + 672.
    model = _identity_model()
    minimum = minimum_arena_bytes(model, derive_lifetimes(model), head_bytes=16)
    assert minimum.minimum_bytes == 800
    assert minimum.binding_phase == "memory planning"
    assert minimum.transient_bytes == 800 - 16 - 672


def test_fully_connected_tail_64bit() -> None:
    # 488 as above; 4 TfLiteEvalTensors 96 -> 584; one NodeAndRegistration 64 -> 648;
    # TfLiteFullyConnectedParams 32 -> 680; OpDataFullyConnected 72 (16-aligned) -> 752; a
    # per-tensor filter needs no per-channel arrays. input_tensors_ 760 -> 768; TfLiteTensor 64
    # -> 832, TfLiteAffineQuantization 24 -> 856, one zero point (size + 1 int) 8 -> 864;
    # output_tensors_ 872 -> 880, then 944, 968, 976.
    parts = _component_bytes(_fc_model())
    assert sum(parts.values()) == 976
    assert parts["builtin params (TfLiteFullyConnectedParams)"] == 32
    assert parts["kernel OpData (OpDataFullyConnected)"] == 72
    assert "per-channel output multipliers" not in parts
    assert parts["I/O tensor quantization"] == 2 * (24 + 8)


def test_per_channel_fully_connected_adds_two_int32_arrays() -> None:
    # Three filter scales: Prepare allocates 3 multipliers (12 bytes, 752 -> 768) and 3 shifts
    # (768 -> 784); the I/O tensors then end at 784 + 224 = 1008.
    parts = _component_bytes(_fc_model(filter_scales=3))
    assert parts["per-channel output multipliers"] == 16
    assert parts["per-channel output shifts"] == 16
    assert sum(parts.values()) == 1008


def test_fully_connected_tail_cortex_m() -> None:
    # 132 as above; 4 TfLiteEvalTensors 48 -> 180; NodeAndRegistration 32 -> 212;
    # TfLiteFullyConnectedParams 5 (90b983c2: five 1-byte fields, aligned 1) -> 217;
    # OpDataFullyConnected 48: 265 -> 272 (16-aligned); input_tensors_ 276 -> 288;
    # TfLiteTensor 32 -> 320, quantization 12 -> 332, zero points 8 -> 340; output_tensors_
    # 344 -> 352; 384, 396, 404.
    assert sum(_component_bytes(_fc_model(), CORTEX_M).values()) == 404


def test_fully_connected_minimum_is_the_prepare_transient() -> None:
    # While FULLY_CONNECTED prepares, the head holds the 12-request array (192 bytes) and the
    # kernel opens temp tensors for input, filter, bias and output: 4 x (64 + 24 + 8) = 384, up
    # to 576. The tail then starts 752 bytes below the end, so the arena needs 752 + 576 = 1328.
    # Planning needs less (192 + 8 + 4 x 32 = 328 -> 336, + 2 x 40 = 416; 752 + 416 = 1168)
    # and head + tail is 32 + 976 = 1008.
    model = _fc_model()
    minimum = minimum_arena_bytes(model, derive_lifetimes(model), head_bytes=32)
    assert minimum.minimum_bytes == 1328
    assert minimum.binding_phase == "subgraph 0 op 0 (FULLY_CONNECTED) prepare"


def test_conv_always_allocates_per_channel_arrays() -> None:
    # kernels/conv_common.cc sizes the arrays by filter.dims[0] even for a per-tensor filter:
    # 8 output channels -> two arrays of 32 bytes, each at a 16-byte boundary.
    tensors = (
        _tensor(0, (1, 4, 4, 2)),
        _tensor(1, (8, 1, 1, 2), const=True),
        _tensor(2, (8,), type_code=2, const=True),
        _tensor(3, (1, 4, 4, 8)),
    )
    conv = operator(0, "CONV_2D", (0, 1, 2), (3,), {"stride_w": 1, "stride_h": 1})
    model = make_model(Subgraph(index=0, name="", tensors=tensors, operators=(conv,), inputs=(0,), outputs=(3,)))
    parts = _component_bytes(model)
    assert parts["per-channel output multipliers"] == 32
    assert parts["per-channel output shifts"] == 32
    # 488, 4 TfLiteEvalTensors -> 584, NodeAndRegistration -> 648, TfLiteConvParams 28 (align 4)
    # -> 676; OpDataConv 80: 756, aligned down to the 16-byte boundary at 768, so 92 bytes.
    assert parts["kernel OpData (OpDataConv)"] == 92


def test_variable_tensor_is_16_aligned_in_the_tail() -> None:
    # 488, 2 TfLiteEvalTensors -> 536, NodeAndRegistration -> 600, RELU parses no params,
    # ReluOpData 28 -> 628, aligned to 640. The 5-element int16 variable (10 bytes) goes to the
    # next 16-byte boundary: 650 -> 656. No graph inputs: an empty input_tensors_ array; the
    # output's pointer array 664 -> 672 and its TfLiteTensor (no quantization) -> 736.
    state = _tensor(0, (5,), type_code=7, variable=True, scales=0)
    out = _tensor(1, (5,), type_code=7, scales=0)
    relu = operator(0, "RELU", (0,), (1,))
    model = make_model(Subgraph(index=0, name="", tensors=(state, out), operators=(relu,), inputs=(), outputs=(1,)))
    parts = _component_bytes(model)
    assert parts["variable tensors"] == 16
    assert parts["input TfLiteTensor* array"] == 0
    assert sum(parts.values()) == 736


def test_resource_variables_are_counted_by_shared_name() -> None:
    # Two VAR_HANDLE ops naming one variable: MicroResourceVariables (16) then one
    # MicroResourceVariable (40), both 16-aligned: 16 + 48 = 64 bytes.
    handle = _tensor(0, (), type_code=13, scales=0)
    ops = (
        operator(0, "VAR_HANDLE", (), (0,), {"shared_name": b"v"}),
        operator(1, "VAR_HANDLE", (), (0,), {"shared_name": b"v"}),
    )
    model = make_model(Subgraph(index=0, name="", tensors=(handle,), operators=ops, inputs=(), outputs=()))
    assert _component_bytes(model)["resource variables"] == 16 + 48


def test_scratch_requests_become_handles() -> None:
    # SVDF with int8 input requests two scratch buffers -> two 8-byte ScratchBufferHandles.
    tensors = (
        _tensor(0, (1, 4)),
        _tensor(1, (6, 4), const=True),
        _tensor(2, (6, 3), type_code=7, const=True),
        _tensor(3, (3,), type_code=2, const=True),
        _tensor(4, (1, 18), type_code=7, variable=True),
        _tensor(5, (1, 3)),
    )
    svdf = operator(0, "SVDF", (0, 1, 2, 3, 4), (5,), {"rank": 2})
    model = make_model(Subgraph(index=0, name="", tensors=tensors, operators=(svdf,), inputs=(0,), outputs=(5,)))
    assert _component_bytes(model)["scratch buffer handles"] == 16


def test_rfft_state_matches_kissfft_arithmetic() -> None:
    # kiss_fftr_alloc(512): n = 256 complex points of int16 (4 bytes). kiss_fft_state = 2 ints +
    # 64 factor ints + 1 twiddle = 268, + 255 more twiddles = 1288; plus 384 super twiddles and
    # scratch (3n/2 complex) = 1536; plus kiss_fftr_state (3 pointers).
    assert kissfft_real_bytes(512, 7, HOST_X86_64) == 24 + 1288 + 1536
    assert kissfft_real_bytes(512, 7, CORTEX_M) == 12 + 1288 + 1536


def test_persistent_allocation_over_live_temps_fails() -> None:
    # TFLM checks a persistent allocation only against the head; landing on live temp memory is
    # undefined behaviour, which the replay refuses, and allows again after a reset.
    events = [Temp(size=64, alignment=8, phase="p"), Persistent(component="x", size=16, alignment=16, phase="p")]
    assert replay(events, 96, 0).ok
    assert "overlap live temp" in (replay(events, 79, 0).failure or "")
    assert replay([events[0], ResetTemp(phase="p"), events[1]], 79, 0).ok


def test_compression_changes_subgraph_allocations() -> None:
    assert make_abi(8, compression=True, recording_allocator=True).size("SubgraphAllocations") == 24
    assert make_abi(8, compression=False, recording_allocator=True).size("SubgraphAllocations") == 16
    assert "OpDataAssignVariable" not in CORTEX_M.layouts


def test_bad_abi_and_library_names_are_refused() -> None:
    with pytest.raises(ArenaError, match="4 or 8"):
        make_abi(2, compression=False, recording_allocator=False)
    with pytest.raises(ArenaError, match="no layout"):
        HOST_X86_64.layout("NoSuchStruct")
    with pytest.raises(ArenaError, match="no tail model"):
        get_tail_kernels("cmsis-nn-v0")


def test_tail_does_not_depend_on_the_head() -> None:
    model = _fc_model()
    table = derive_lifetimes(model)
    low = minimum_arena_bytes(model, table, head_bytes=32)
    high = minimum_arena_bytes(model, table, head_bytes=100_000)
    assert low.tail_bytes == high.tail_bytes == 976
    # With a huge head, head + tail decides: the last allocation (output zero points) fails.
    assert high.minimum_bytes == 100_000 + 976
    assert high.binding_phase == "input/output tensors"


def test_abi_records_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        HOST_X86_64.pointer_bytes = 4  # type: ignore[misc]
