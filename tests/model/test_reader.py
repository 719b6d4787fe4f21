"""Reading real models, and one-line errors for files that are not models."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from arena.errors import ModelFormatError
from arena.model import read_model, read_model_bytes, read_offline_plan
from arena.model.reader import buffer_bytes
from conftest import model_id, shared_model_paths


@pytest.mark.parametrize("path", shared_model_paths(), ids=model_id)
def test_shared_models_load_consistently(path: Path, shared_dir: Path) -> None:
    model = read_model(path)
    assert model.subgraphs, "every model has a main subgraph"
    for graph in model.subgraphs:
        count = len(graph.tensors)
        for op in graph.operators:
            assert all(-1 <= i < count for i in op.inputs)
            assert all(0 <= i < count for i in op.outputs)
        assert all(0 <= i < count for i in (*graph.inputs, *graph.outputs))


def test_kws_model_facts(shared_dir: Path) -> None:
    # Facts from ../shared/models/PROVENANCE.md: 13 ops, 35 tensors, input 49x10x1 MFCC int8.
    model = read_model(shared_dir / "mlperf_kws_ref_model.tflite")
    assert (model.operator_count, model.tensor_count) == (13, 35)
    graph = model.subgraphs[0]
    first_input = graph.tensors[graph.inputs[0]]
    assert first_input.shape == (1, 49, 10, 1)
    assert first_input.type_name == "int8"
    assert first_input.quantization is not None and len(first_input.quantization.scale) == 1
    assert model.sha256.startswith("aeea436800704fce")


def test_vela_model_offline_plan(shared_dir: Path) -> None:
    # PROVENANCE.md: the Vela model carries version 0, 1 subgraph, offsets 0,-1,-1,0,0,0.
    model = read_model(shared_dir / "special" / "tflm_person_detect_vela.tflite")
    plan = read_offline_plan(model)
    assert plan is not None
    assert (plan.version, plan.subgraph_count, plan.offsets) == (0, 1, (0, -1, -1, 0, 0, 0))
    assert model.subgraphs[0].operators[0].op_name == "CUSTOM:ethos-u"


def test_reading_does_not_copy_weights(shared_dir: Path) -> None:
    # DS-CNN-L is 530,688 bytes, nearly all weights. The records keep per-channel quantization
    # (276 channels x 25 tensors as Python floats, about 0.28 MB) but no buffer contents, so the
    # parse stays below the file size; copying the weights alone would take ~0.52 MB on top.
    data = (shared_dir / "armex_ds_cnn_l_quantized.tflite").read_bytes()
    read_model_bytes(data, "warm-up")  # first call imports the schema module
    tracemalloc.start()
    read_model_bytes(data, "measured")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < len(data), f"parsing allocated {peak} B for a {len(data)} B model"


def test_buffer_bytes_is_a_view(shared_dir: Path) -> None:
    model = read_model(shared_dir / "special" / "tflm_person_detect_vela.tflite")
    entry = model.metadata_named("OfflineMemoryAllocation")
    assert entry is not None
    view = buffer_bytes(model, entry.buffer)
    assert isinstance(view, memoryview) and view.obj is model.data
    assert len(view) == 4 * (3 + 6)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "too short"),
        (b"\x00" * 7, "too short"),
        (b"\x10\x00\x00\x00NOPE" + b"\x00" * 32, "file identifier"),
        (b"\xff\xff\x00\x00TFL3" + b"\x00" * 32, "truncated"),
    ],
)
def test_not_a_model(payload: bytes, message: str) -> None:
    with pytest.raises(ModelFormatError, match=message):
        read_model_bytes(payload, "bad.tflite")


def test_truncated_real_model(shared_dir: Path) -> None:
    data = (shared_dir / "mlperf_kws_ref_model.tflite").read_bytes()
    for cut in (16, 200, 1000, len(data) // 2):
        with pytest.raises(ModelFormatError, match="kws.tflite: (corrupt or truncated|truncated)"):
            read_model_bytes(data[:cut], "kws.tflite")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="cannot read model file"):
        read_model(tmp_path / "absent.tflite")
