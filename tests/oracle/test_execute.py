"""Plans proven on the real runtime: TFLM runs each model with the plan embedded, bit for bit.

For every shared model TFLM runs and every allocator in the registry, the plan goes into the model
as offline-plan metadata, real TFLM (``tflite-micro``, in a child process) runs it, and:

* its outputs are byte-identical to TFLM running the unmodified model on the same inputs;
* the head TFLM reports (``print_allocations``) is the plan's head;
* TFLM's memory, read back by ``tflm_probe``, holds every tensor at the plan's offset and every
  scratch buffer where arena predicts TFLM's greedy planner puts it around the fixed tensors.

A plan that overlaps a live input with the op writing over it must visibly corrupt the output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from arena.allocators import ALLOCATORS
from arena.errors import ArenaError
from arena.lifetimes import BufferKind
from arena.plan.embed import embed_plan
from arena.plan.pipeline import plan_model
from arena.plan.plan_file import plan_for_offsets
from arena.proofs.inputs import make_inputs
from arena.proofs.simulator import simulate_plan
from arena.proofs.tflm_run import execute_plan
from arena.render.simulate import render_execution_text
from conftest import model_id, shared_model_paths
from tflm_probe import probe_tflm

pytestmark = pytest.mark.oracle

RUNNABLE = [p for p in shared_model_paths() if p.parent.name not in ("special", "unsupported")]


@pytest.mark.parametrize("allocator", list(ALLOCATORS))
@pytest.mark.parametrize("path", RUNNABLE, ids=model_id)
def test_planned_model_runs_identically_in_tflm(path: Path, allocator: str, shared_dir: Path, tmp_path: Path) -> None:
    result = plan_model(path, allocator=allocator)
    run = execute_plan(result, seed=7)
    assert run.unmodified.ok, run.unmodified.error
    assert run.planned.ok, run.planned.error
    assert run.outputs_identical, render_execution_text(run)
    assert run.planned.head_bytes == result.plan.peak_bytes == run.plan_head_bytes
    assert run.predicted_head_bytes == result.plan.peak_bytes
    assert run.ok

    embedded = tmp_path / "planned.tflite"
    embedded.write_bytes(embed_plan(result))
    measured = probe_tflm(embedded)
    assert measured.error is None and measured.head_bytes == result.plan.peak_bytes
    origins = result.table.origins
    assert measured.tensor_offsets == {
        (o.subgraph, o.tensor): offset
        for o, offset in zip(origins, result.plan.offsets, strict=True)
        if o.kind is BufferKind.TENSOR
    }
    moved = {m.buffer: m.tflm_offset for m in run.scratch_moves}
    assert measured.scratch_offsets == tuple(
        moved.get(i, offset)
        for i, (o, offset) in enumerate(zip(origins, result.plan.offsets, strict=True))
        if o.kind is BufferKind.SCRATCH
    )


def test_broken_plan_corrupts_tflm_output(shared_dir: Path) -> None:
    # mlperf KWS: op 0 is a CONV_2D reading the 49x10 input (490 B) and writing 25x5x64 (8000 B).
    # Put the input where the conv writes its output: the conv overwrites input rows it still needs.
    result = plan_model(shared_dir / "mlperf_kws_ref_model.tflite", allocator="tflm")
    op = result.model.subgraphs[0].operators[0]
    index = {(o.subgraph, o.tensor): i for i, o in enumerate(result.table.origins)}
    victim, writer = index[(0, op.inputs[0])], index[(0, op.outputs[0])]
    offsets = list(result.plan.offsets)
    offsets[victim] = offsets[writer]
    broken = plan_for_offsets(result.model, result.table, offsets, allocator="broken")

    simulation = simulate_plan(broken)
    assert [(c.victim, c.writer, c.step) for c in simulation.clobbers] == [(victim, writer, 1)]
    run = execute_plan(broken, seed=7)
    assert run.planned.ok and run.head_matches
    assert not run.outputs_identical
    assert not run.ok


def test_inputs_from_file_and_saved_outputs(shared_dir: Path, tmp_path: Path) -> None:
    path = shared_dir / "tflm_hello_world_int8.tflite"
    result = plan_model(path, allocator="best-fit")
    model = result.model
    name = model.subgraphs[0].tensors[model.subgraphs[0].inputs[0]].name
    given = np.array([[37]], dtype=np.int8)
    np.savez(tmp_path / "in.npz", **{name: given})
    saved = tmp_path / "out.npz"
    run = execute_plan(result, inputs=tmp_path / "in.npz", save_outputs=saved)
    assert run.ok
    with np.load(saved) as archive:
        assert sorted(archive.files) == ["input_0", "litert_0", "tflm_planned_0", "tflm_unmodified_0"]
        assert archive["input_0"].tolist() == [[37]]
        assert archive["tflm_planned_0"].tobytes() == run.planned.outputs[0].tobytes()
        # hello_world's output is int8; LiteRT's reference kernels agree to within one step.
        assert abs(int(archive["litert_0"][0, 0]) - int(archive["tflm_planned_0"][0, 0])) <= 1
    again = execute_plan(result, inputs={"input_0": given})
    assert again.planned.outputs[0].tobytes() == run.planned.outputs[0].tobytes()


def test_bad_inputs_are_one_line_errors(shared_dir: Path, tmp_path: Path) -> None:
    model = plan_model(shared_dir / "tflm_hello_world_int8.tflite").model
    with pytest.raises(ArenaError, match=r"^inputs: input 0 'serving_default_dense_input:0' is float32\[1, 1\]"):
        make_inputs(model, {"0": np.zeros((1, 1), np.float32)})
    with pytest.raises(ArenaError, match="^inputs: array 'x' names no graph input"):
        make_inputs(model, {"x": np.zeros((1, 1), np.int8)})
    with pytest.raises(ArenaError, match="^inputs: no array for graph input 0"):
        make_inputs(model, {})
    (tmp_path / "bad.npz").write_bytes(b"junk")
    with pytest.raises(ArenaError, match="^bad.npz: cannot read input arrays"):
        make_inputs(model, tmp_path / "bad.npz")


def test_tflm_failure_is_a_result_not_an_exception(shared_dir: Path) -> None:
    # An arena far too small for the planned model: TFLM refuses it, and the result says so.
    result = plan_model(shared_dir / "mlperf_kws_ref_model.tflite")
    run = execute_plan(result, arena_size=1024)
    assert not run.planned.ok and run.planned.error
    assert run.unmodified.ok and not run.ok
    assert "FAILED" in render_execution_text(run)
