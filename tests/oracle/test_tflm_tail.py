"""The tail and minimum-arena model against the live TFLM package, model by model.

For every model TFLM runs, the predicted 64-bit tail must equal ``print_allocations()``'s tail
and the predicted minimum arena must equal the smallest ``arena_size`` the package accepts (found
by bisection in child processes, about 7 s per model). Nothing here is pasted from a previous
run: expected values are measured live, or worked out by hand in comments.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
import tflite

from arena.plan.pipeline import plan_model
from arena.tail import minimum_arena_bytes, tail_bytes
from conftest import BUNDLED_MODELS, model_id, shared_model_paths
from tflm_probe import TflmProbe, probe_min_arena, probe_tflm

pytestmark = pytest.mark.oracle

MODELS = [*shared_model_paths(), *sorted(BUNDLED_MODELS.glob("*.tflite"))]

#: print_allocations() kind -> the tail components that RecordingMicroAllocator files under it.
#: Everything allocated through ``RecordingMicroAllocator::AllocatePersistentBuffer`` (kernels'
#: buffers, the I/O pointer arrays, resource variables) is 'Persistent buffer data'; allocator
#: objects, builtin params, SubgraphAllocations and scratch handles are recorded nowhere.
_UNRECORDED = (
    "arena allocator object",
    "memory planner object",
    "MicroAllocator object",
    "MicroBuiltinDataAllocator object",
    "SubgraphAllocations",
    "scratch buffer handles",
)
_KINDS = {
    "TfLiteEvalTensor data": "TfLiteEvalTensor array",
    "Persistent TfLiteTensor data": "I/O TfLiteTensor",
    "Persistent TfLiteTensor quantization data": "I/O tensor quantization",
    "TfLiteTensor variable buffer data": "variable tensors",
    "NodeAndRegistration struct": "NodeAndRegistration array",
}


def _probe_or_skip(path: Path) -> TflmProbe:
    measured = probe_tflm(path)
    if measured.error is not None:
        pytest.skip(f"TFLM refuses {path.name}: {measured.error[:120]}")
    return measured


def _recorded_kinds(path: Path) -> dict[str, int]:
    """'used' bytes per kind from print_allocations(), run in a child (it writes to fd 2)."""
    code = (
        "from tflite_micro import runtime; "
        f"runtime.Interpreter.from_file({str(path)!r}, arena_size=4 * 1024 * 1024).print_allocations()"
    )
    stderr = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stderr
    return {kind: int(used) for kind, used in re.findall(r"'([^']+)' used (\d+) bytes", stderr)}


@pytest.mark.parametrize("path", MODELS, ids=model_id)
def test_tail_matches_tflm(path: Path, shared_dir: Path) -> None:
    measured = _probe_or_skip(path)
    result = plan_model(path, allocator="tflm")
    assert tail_bytes(result.model, result.table).total_bytes == measured.tail_bytes


@pytest.mark.parametrize("path", MODELS, ids=model_id)
def test_tail_components_match_recorded_kinds(path: Path, shared_dir: Path) -> None:
    _probe_or_skip(path)
    result = plan_model(path, allocator="tflm")
    components = {c.name: c.bytes for c in tail_bytes(result.model, result.table).components}
    predicted = {kind: components[name] for kind, name in _KINDS.items() if components.get(name)}
    buffers = sum(
        b
        for n, b in components.items()
        if n not in _UNRECORDED and n not in _KINDS.values() and not n.startswith("builtin params")
    )
    if buffers:
        predicted["Persistent buffer data"] = buffers
    assert predicted == _recorded_kinds(path)


@pytest.mark.parametrize("path", MODELS, ids=model_id)
def test_minimum_arena_matches_tflm(path: Path, shared_dir: Path) -> None:
    measured = _probe_or_skip(path)
    result = plan_model(path, allocator="tflm")
    predicted = minimum_arena_bytes(result.model, result.table, result.plan.peak_bytes)
    # The head alone never suffices; twice head + tail plus 4 KiB always does (the transients
    # are smaller than that for any of these models).
    assert predicted.minimum_bytes == probe_min_arena(path, measured.head_bytes, 2 * measured.total_bytes + 4096)


# ------------------------------------------------------------------- synthetic FC models


def _table(b: flatbuffers.Builder, name: str, **fields: object) -> int:
    getattr(tflite, f"{name}Start")(b)
    for key, value in fields.items():
        if value is not None:
            getattr(tflite, f"{name}Add{key}")(b, value)
    return int(getattr(tflite, f"{name}End")(b))


def _vector(b: flatbuffers.Builder, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        b.PrependUOffsetTRelative(offset)
    return int(b.EndVector())


def _fully_connected_model(filter_scales: int) -> bytes:
    """input (1,4) int8 -> FULLY_CONNECTED(filter (3,4) int8, bias (3,) int32) -> (1,3) int8.

    Every scale is 1.0: TFLM's FULLY_CONNECTED requires the bias scale to equal input scale x
    filter scale. The structure matches ``_fc_model`` in tests/test_tail.py.
    """
    b = flatbuffers.Builder(4096)
    ints = lambda values: b.CreateNumpyVector(np.asarray(values, np.int32))  # noqa: E731
    data = [np.ones((3, 4), np.int8).tobytes(), np.zeros(3, np.int32).tobytes()]
    buffers = [_table(b, "Buffer")] + [_table(b, "Buffer", Data=b.CreateByteVector(raw)) for raw in data]
    specs = [((1, 4), 9, 0, 1), ((3, 4), 9, 1, filter_scales), ((3,), 2, 2, filter_scales), ((1, 3), 9, 0, 1)]
    tensors = []
    for index, (shape, type_code, buffer, scales) in enumerate(specs):
        quant = _table(
            b,
            "QuantizationParameters",
            Scale=b.CreateNumpyVector(np.ones(scales, np.float32)),
            ZeroPoint=b.CreateNumpyVector(np.zeros(scales, np.int64)),
        )
        tensors.append(
            _table(
                b,
                "Tensor",
                Shape=ints(shape),
                Type=type_code,
                Buffer=buffer,
                Name=b.CreateString(f"t{index}"),
                Quantization=quant,
            )
        )
    options = _table(b, "FullyConnectedOptions")
    op = _table(
        b,
        "Operator",
        OpcodeIndex=0,
        Inputs=ints([0, 1, 2]),
        Outputs=ints([3]),
        BuiltinOptionsType=tflite.BuiltinOptions.FullyConnectedOptions,
        BuiltinOptions=options,
    )
    graph = _table(
        b, "SubGraph", Tensors=_vector(b, tensors), Operators=_vector(b, [op]), Inputs=ints([0]), Outputs=ints([3])
    )
    code = _table(b, "OperatorCode", DeprecatedBuiltinCode=9, BuiltinCode=9, Version=1)
    model = _table(
        b,
        "Model",
        Version=3,
        OperatorCodes=_vector(b, [code]),
        Subgraphs=_vector(b, [graph]),
        Buffers=_vector(b, buffers),
    )
    b.Finish(model, file_identifier=b"TFL3")
    return bytes(b.Output())


def test_prepare_transient_decides_a_tiny_model(tmp_path: Path) -> None:
    # tests/test_tail.py works this model by hand: tail 976, minimum 1328, decided by the temp
    # tensors FULLY_CONNECTED opens in Prepare. Here the live package confirms both.
    path = tmp_path / "fc.tflite"
    path.write_bytes(_fully_connected_model(filter_scales=1))
    measured = probe_tflm(path)
    result = plan_model(path, allocator="tflm")
    predicted = minimum_arena_bytes(result.model, result.table, result.plan.peak_bytes)
    assert predicted.tail_bytes == measured.tail_bytes
    assert predicted.binding_phase.endswith("(FULLY_CONNECTED) prepare")
    assert predicted.minimum_bytes == probe_min_arena(path, measured.head_bytes, 4096)


def test_overlap_tflm_tolerates_is_counted_as_too_small(tmp_path: Path) -> None:
    # With a per-channel filter, Prepare allocates the two 12-byte multiplier/shift arrays while
    # its four temp tensors are still open. TFLM checks persistent allocations only against the
    # head, so in an arena a few bytes short the arrays land on the output's temp quantization
    # and TFLM survives (the overwritten bytes are not read again); arena refuses that overlap.
    # The prediction is therefore the overlap-free minimum: at least TFLM's, and above it by
    # less than the two arrays' 32 bytes (16 each with alignment).
    path = tmp_path / "fc_per_channel.tflite"
    path.write_bytes(_fully_connected_model(filter_scales=3))
    measured = probe_tflm(path)
    result = plan_model(path, allocator="tflm")
    predicted = minimum_arena_bytes(result.model, result.table, result.plan.peak_bytes)
    assert predicted.tail_bytes == measured.tail_bytes
    tflm_minimum = probe_min_arena(path, measured.head_bytes, 4096)
    assert tflm_minimum <= predicted.minimum_bytes < tflm_minimum + 32
