"""Embedding a plan as ``OfflineMemoryAllocation`` metadata keeps the rest of the model intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.errors import EmbedError, ModelFormatError
from arena.lifetimes import BufferKind
from arena.model import OFFLINE_PLAN_METADATA, buffer_bytes, read_model_bytes, read_offline_plan
from arena.model.records import Model
from arena.model.writer import embed_offline_plan
from arena.plan.embed import embed_plan, plan_tensor_offsets
from arena.plan.pipeline import plan_model
from conftest import BUNDLED_MODELS, model_id, shared_model_paths

MODELS = [*shared_model_paths(), *sorted(BUNDLED_MODELS.glob("*.tflite"))]
VELA = "tflm_person_detect_vela.tflite"


def _same_model(before: Model, after: Model) -> None:
    assert after.subgraphs == before.subgraphs  # tensors, operators, options, quantization
    assert (after.version, after.description) == (before.version, before.description)
    for graph in before.subgraphs:
        for tensor in graph.tensors:
            assert bytes(buffer_bytes(after, tensor.buffer)) == bytes(buffer_bytes(before, tensor.buffer))
    kept = [(m.name, bytes(buffer_bytes(before, m.buffer))) for m in before.metadata if m.name != OFFLINE_PLAN_METADATA]
    assert [
        (m.name, bytes(buffer_bytes(after, m.buffer))) for m in after.metadata if m.name != OFFLINE_PLAN_METADATA
    ] == kept


@pytest.mark.parametrize("path", MODELS, ids=model_id)
def test_round_trip(path: Path) -> None:
    data = path.read_bytes()
    before = read_model_bytes(data, str(path))
    # Any offsets will do for the format: 16 * global index for non-constant tensors, else -1.
    offsets = [-1] * before.tensor_count
    index = 0
    for graph in before.subgraphs:
        for tensor in graph.tensors:
            offsets[index] = -1 if tensor.has_data else 16 * index
            index += 1
    out = embed_offline_plan(data, offsets, label=path.name)
    after = read_model_bytes(out, "out.tflite")
    _same_model(before, after)
    plan = read_offline_plan(after)
    assert plan is not None and (plan.version, plan.subgraph_count) == (0, len(before.subgraphs))
    assert list(plan.offsets) == offsets
    assert [m.name for m in after.metadata].count(OFFLINE_PLAN_METADATA) == 1
    # The original file is inside the output byte for byte, 16-aligned (constant data stays aligned).
    start = out.find(data)
    assert start > 0 and start % 16 == 0 and not any(out[start + len(data) :])
    assert after.buffer_count == before.buffer_count + (0 if path.name == VELA else 1)


def test_replaces_vela_plan_in_its_own_buffer(shared_dir: Path) -> None:
    data = (shared_dir / "special" / VELA).read_bytes()
    before = read_model_bytes(data, VELA)
    old = before.metadata_named(OFFLINE_PLAN_METADATA)
    assert old is not None and read_offline_plan(before).offsets == (0, -1, -1, 0, 0, 0)  # type: ignore[union-attr]
    out = embed_offline_plan(data, [64, -1, -1, 128, 80000, 256], label=VELA)
    after = read_model_bytes(out)
    assert [m.name for m in after.metadata] == [m.name for m in before.metadata]
    assert after.metadata_named(OFFLINE_PLAN_METADATA) == old  # same entry position and buffer
    assert after.buffer_count == before.buffer_count
    assert read_offline_plan(after).offsets == (64, -1, -1, 128, 80000, 256)  # type: ignore[union-attr]
    _same_model(before, after)
    again = embed_offline_plan(out, [-1] * 6)  # idempotent in shape: still one entry, one buffer
    assert read_model_bytes(again).buffer_count == before.buffer_count
    assert read_offline_plan(read_model_bytes(again)).offsets == (-1,) * 6  # type: ignore[union-attr]


def test_plan_offsets_become_fixed_offsets() -> None:
    # Re-deriving lifetimes from the embedded model fixes every planned tensor where the plan put
    # it; TFLM's greedy planner (arena's port) then leaves them there.
    result = plan_model(BUNDLED_MODELS / "kws_ds_cnn_int8.tflite", allocator="best-fit")
    offsets = plan_tensor_offsets(result)
    assert len(offsets) == result.model.tensor_count
    planned = {o.global_tensor for o in result.table.origins if o.kind is BufferKind.TENSOR}
    assert all((offsets[i] >= 0) == (i in planned) for i in range(len(offsets)))
    again = plan_model(read_model_bytes(embed_plan(result)), allocator="tflm")
    fixed = [
        b.fixed_offset
        for b, o in zip(again.table.problem.buffers, again.table.origins, strict=True)
        if o.kind is BufferKind.TENSOR
    ]
    assert fixed == [
        off for off, o in zip(result.plan.offsets, result.table.origins, strict=True) if o.kind is BufferKind.TENSOR
    ]


def test_bad_offsets_and_bad_models() -> None:
    data = (BUNDLED_MODELS / "kws_ds_cnn_int8.tflite").read_bytes()
    count = read_model_bytes(data).tensor_count
    with pytest.raises(EmbedError, match=rf"^kws: {count - 1} offline offsets for {count} tensors"):
        embed_offline_plan(data, [-1] * (count - 1), label="kws")
    with pytest.raises(EmbedError, match="^kws: offline offset of tensor 3 is -2"):
        embed_offline_plan(data, [-1, -1, -1, -2] + [-1] * (count - 4), label="kws")
    with pytest.raises(ModelFormatError):
        embed_offline_plan(b"not a model at all", [], label="junk")


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["mlperf_kws_ref_model", "tflm_hello_world_int8", "tflm_mnist_lstm_int8"])
def test_litert_loads_embedded_model(name: str, shared_dir: Path) -> None:
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    out = embed_plan(plan_model(shared_dir / f"{name}.tflite", allocator="hill-climb"))
    outputs = []
    for content in ((shared_dir / f"{name}.tflite").read_bytes(), out):
        interpreter = Interpreter(model_content=content, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        interpreter.allocate_tensors()
        for detail in interpreter.get_input_details():
            interpreter.set_tensor(detail["index"], np.ones(detail["shape"], detail["dtype"]))
        interpreter.invoke()
        outputs.append([interpreter.get_tensor(d["index"]).tobytes() for d in interpreter.get_output_details()])
    assert outputs[0] == outputs[1]
