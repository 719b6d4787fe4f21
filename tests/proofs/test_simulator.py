"""The op-by-op arena simulator: clean on every real plan, catches every broken one, exact timelines.

Expected numbers in the hand-built cases are worked out in the comments from TFLM's rules
(16-byte aligned sizes, inclusive lifetimes, op i of subgraph 0 at step i + 1), never taken from
arena's own output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena.allocators import ALLOCATORS
from arena.errors import BadPlanError
from arena.lifetimes import derive_lifetimes
from arena.model.records import Model, Subgraph
from arena.plan.pipeline import PlanResult, plan_model
from arena.plan.plan_file import plan_for_offsets, read_plan_file
from arena.proofs.simulator import SimulationResult, simulate_plan
from arena.render.plan import plan_document
from arena.render.simulate import (
    render_simulation_json,
    render_simulation_text,
    render_timeline_chart,
    simulation_document,
)
from conftest import make_model, model_id, operator, shared_model_paths, tensor

#: Models TFLM runs (special/ holds Vela's NPU model, unsupported/ one TFLM refuses).
RUNNABLE = [p for p in shared_model_paths() if p.parent.name not in ("special", "unsupported")]


def _simulate(model: Model, offsets: tuple[int, ...]) -> SimulationResult:
    return simulate_plan(plan_for_offsets(model, derive_lifetimes(model), offsets, allocator="hand"))


def _loads(result: SimulationResult) -> list[int]:
    return [step.live_bytes for step in result.timeline.steps]


# ---------------------------------------------------------------------------------- real models
@pytest.mark.parametrize("allocator", list(ALLOCATORS))
@pytest.mark.parametrize("path", RUNNABLE, ids=model_id)
def test_every_allocator_simulates_clean(path: Path, allocator: str, shared_dir: Path) -> None:
    result = plan_model(path, allocator=allocator)
    simulation = simulate_plan(result)
    assert simulation.ok, [c.message for c in simulation.clobbers]
    assert simulation.head_bytes == result.plan.peak_bytes
    assert not simulation.notes
    # The simulator saw the lifetimes from the model's own schedule; they must be the table's.
    start, loads = result.table.problem.load_per_step()
    expected = {start + i: int(load) for i, load in enumerate(loads)}
    assert {s.step: s.live_bytes for s in simulation.timeline.steps} == {
        step: expected.get(step, 0) for step in range(len(simulation.timeline.steps))
    }
    peak = simulation.timeline.peak
    assert peak is not None and peak.live_bytes == result.plan.lower_bound_bytes
    assert simulation.timeline.fragmentation_bytes == result.plan.peak_bytes - result.plan.lower_bound_bytes


def _broken(result: PlanResult) -> tuple[PlanResult, int, int]:
    """Move the first buffer born while another is live (and still needed) onto that one."""
    buffers = result.table.problem.buffers
    for victim, a in enumerate(buffers):
        for writer, b in enumerate(buffers):
            if 0 <= a.first < b.first <= a.last:
                offsets = list(result.plan.offsets)
                offsets[writer] = offsets[victim]
                broken = plan_for_offsets(result.model, result.table, offsets, allocator="broken")
                return broken, victim, writer
    raise AssertionError("no two buffers live at the same step")


@pytest.mark.parametrize("path", RUNNABLE, ids=model_id)
def test_broken_plan_is_caught_naming_both_buffers(path: Path, shared_dir: Path) -> None:
    broken, victim, writer = _broken(plan_model(path))
    simulation = simulate_plan(broken)
    assert not simulation.ok and not broken.validation.ok
    assert any(c.victim == victim and c.writer == writer for c in simulation.clobbers)
    clobber = next(c for c in simulation.clobbers if c.victim == victim)
    origins = broken.table.origins
    for index in (victim, writer):
        assert (origins[index].name[-20:] in clobber.message) or (
            broken.table.problem.buffers[index].name in clobber.message
        )
    assert "UNSAFE" in render_simulation_text(simulation)


# ------------------------------------------------------------------------------ hand-built models
def _chain() -> Model:
    # in(10 B) -> RELU -> a(32) -> RELU -> b(20) -> RELU -> out(16); aligned 16, 32, 32, 16.
    graph = Subgraph(
        index=0,
        name="chain",
        tensors=(tensor(0, (10,)), tensor(1, (32,)), tensor(2, (20,)), tensor(3, (16,))),
        operators=(
            operator(0, "RELU", (0,), (1,)),
            operator(1, "RELU", (1,), (2,)),
            operator(2, "RELU", (2,), (3,)),
        ),
        inputs=(0,),
        outputs=(3,),
    )
    return make_model(graph)


def test_chain_timeline_by_hand() -> None:
    # Lifetimes in [0..1], a [1..2], b [2..3], out [3..3]. Live: step 0 in = 16; step 1 in + a =
    # 48; step 2 a + b = 64; step 3 b + out = 48. Offsets in@0, a@16, b@48, out@0 (in is dead by
    # step 3): head 80, so 16 bytes are free at the peak (step 2, op 1).
    result = _simulate(_chain(), (0, 16, 48, 0))
    assert result.ok and result.writes == 4
    assert _loads(result) == [16, 48, 64, 48]
    assert [s.live_buffers for s in result.timeline.steps] == [1, 2, 2, 2]
    peak = result.timeline.peak
    assert peak is not None and (peak.step, peak.op, peak.op_name) == (2, 1, "RELU")
    assert (result.head_bytes, result.timeline.fragmentation_bytes) == (80, 16)


def test_output_over_own_input_is_caught_at_that_op() -> None:
    # out@48 lands on b (raw [48, 68)); op 2 reads b while writing out's 16 bytes [48, 64).
    result = _simulate(_chain(), (0, 16, 48, 48))
    assert [(c.step, c.op, c.victim, c.writer, c.written_step, c.byte_range) for c in result.clobbers] == [
        (3, 2, 2, 3, 3, (48, 64))
    ]
    assert "tensor 2 't2' lost bytes [48, 64) to tensor 3 't3', written at step 3" in result.clobbers[0].message


def test_clobber_seen_at_a_later_reader() -> None:
    # in -> RELU -> a; in -> RELU -> b; ADD(a, b) -> out. a lives [1..3], b [2..3]. Putting b
    # (written at step 2) on a: a's reader ADD at step 3 finds b's bytes.
    graph = Subgraph(
        index=0,
        name="",
        tensors=(tensor(0, (16,)), tensor(1, (16,)), tensor(2, (16,)), tensor(3, (16,))),
        operators=(
            operator(0, "RELU", (0,), (1,)),
            operator(1, "RELU", (0,), (2,)),
            operator(2, "ADD", (1, 2), (3,)),
        ),
        inputs=(0,),
        outputs=(3,),
    )
    result = _simulate(make_model(graph), (0, 16, 16, 0))
    assert [(c.step, c.op_name, c.victim, c.writer, c.written_step, c.byte_range) for c in result.clobbers] == [
        (3, "ADD", 1, 2, 2, (16, 32))
    ]


def test_two_outputs_of_one_op_and_overlapping_graph_inputs() -> None:
    # SPLIT writes x then y at step 1; y on x is caught at the op. Graph inputs are written
    # together at step 0 even when one is never read.
    axis = tensor(0, (), type_code=2, const=True)
    graph = Subgraph(
        index=0,
        name="",
        tensors=(axis, tensor(1, (32,)), tensor(2, (16,)), tensor(3, (16,)), tensor(4, (8,))),
        operators=(operator(0, "SPLIT", (0, 1), (2, 3)),),
        inputs=(1, 4),
        outputs=(2, 3),
    )
    # planned buffers in order: t1, t2, t3, t4
    result = _simulate(make_model(graph), (0, 32, 32, 0))
    assert [(c.step, c.victim, c.writer) for c in result.clobbers] == [(0, 0, 3), (1, 1, 2)]
    assert result.clobbers[0].op_name == "(inputs)"


def test_scratch_buffer_written_at_its_op() -> None:
    # ADD_N(t0, t1) -> t2 -> RELU -> t3; ADD_N asks for 2 x 8 bytes of pointer scratch (s0, step 1).
    graph = Subgraph(
        index=0,
        name="",
        tensors=tuple(tensor(i, (10,)) for i in range(4)),
        operators=(operator(0, "ADD_N", (0, 1), (2,)), operator(1, "RELU", (2,), (3,))),
        inputs=(0, 1),
        outputs=(3,),
    )
    model = make_model(graph)
    clean = _simulate(model, (0, 16, 32, 0, 48))
    assert clean.ok and _loads(clean) == [32, 64, 32]  # step 1: t0 + t1 + t2 + s0
    broken = _simulate(model, (0, 16, 32, 0, 0))  # scratch on input t0
    assert [(c.step, c.victim, c.writer, c.byte_range) for c in broken.clobbers] == [(1, 0, 4, (0, 10))]
    assert "scratch s0 of op 0 (ADD_N input pointers)" in broken.clobbers[0].message


def _if_model() -> Model:
    cond = tensor(0, (1,), type_code=6)  # bool: 1 B, 16 aligned
    main = Subgraph(
        index=0,
        name="main",
        tensors=(cond, tensor(1, (20,)), tensor(2, (20,))),
        operators=(operator(0, "IF", (0, 1), (2,), options={"then_subgraph_index": 1, "else_subgraph_index": 2}),),
        inputs=(0, 1),
        outputs=(2,),
    )
    branches = [
        Subgraph(
            index=i,
            name="",
            tensors=(tensor(0, (20,)), tensor(1, (20,))),
            operators=(operator(0, "RELU", (0,), (1,)),),
            inputs=(0,),
            outputs=(1,),
        )
        for i in (1, 2)
    ]
    return make_model(main, *branches)


def test_if_subgraphs_follow_tflm_walk() -> None:
    # Steps: 0 inputs, 1 IF, 2 enter then, 3 then/RELU, 4 enter else, 5 else/RELU. Buffers (16/32
    # aligned): cond 16 and x 32 live [0..5], IF out 32 [1..5], then in [2..3], then out [3..3],
    # else in [4..5], else out [5..5]. Live: 48, 80, 112, 144, 112, 144.
    offsets = (0, 16, 48, 80, 112, 80, 112)
    result = _simulate(_if_model(), offsets)
    assert result.ok
    assert _loads(result) == [48, 80, 112, 144, 112, 144]
    assert [(s.subgraph, s.op, s.op_name) for s in result.timeline.steps] == [
        (0, None, "(inputs)"),
        (0, 0, "IF"),
        (1, None, "(enter)"),
        (1, 0, "RELU"),
        (2, None, "(enter)"),
        (2, 0, "RELU"),
    ]
    peak = result.timeline.peak
    assert peak is not None and (peak.step, peak.subgraph, peak.op) == (3, 1, 0)
    assert result.timeline.fragmentation_bytes == 0


def test_called_subgraph_over_a_live_input_of_the_call() -> None:
    # The then-branch output (written at step 3) on x (the IF's input, needed until step 5): seen
    # when the IF op finishes, at step 5; x's raw 20 bytes at 16 overlap [16, 36).
    result = _simulate(_if_model(), (0, 16, 48, 80, 16, 80, 112))
    assert [
        (c.step, c.subgraph, c.op, c.op_name, c.victim, c.writer, c.written_step, c.byte_range) for c in result.clobbers
    ] == [(5, 0, 0, "IF", 1, 4, 3, (16, 36))]
    assert "to tensor 1 of subgraph 1 't1', written at step 3" in result.clobbers[0].message


def test_tensor_read_but_never_written_is_a_note() -> None:
    graph = Subgraph(
        index=0,
        name="",
        tensors=(tensor(0, (16,)), tensor(1, (16,)), tensor(2, (16,))),
        operators=(operator(0, "ADD", (0, 1), (2,)),),
        inputs=(0,),
        outputs=(2,),
    )
    result = _simulate(make_model(graph), (0, 16, 32))
    assert result.ok
    assert result.notes == ("tensor 1 't1' is read at step 1 but nothing writes it first",)


def test_alignment_padding_overlap_is_harmless() -> None:
    # in is 10 raw bytes (16 aligned) at 0; a at 10 overlaps only in's padding: the validator
    # objects (aligned sizes, misaligned offset), the simulator finds no damage.
    result = plan_for_offsets(_chain(), derive_lifetimes(_chain()), (0, 10, 48, 0), allocator="hand")
    assert not result.validation.ok
    assert simulate_plan(result).ok


# ------------------------------------------------------------------------------------ renderers
def test_renderers() -> None:
    result = _simulate(_chain(), (0, 16, 48, 0))
    chart = render_timeline_chart(result, width=10).splitlines()
    assert len(chart) == 1 + 4
    assert chart[3].endswith("64 B  <- peak") and "|########..|" in chart[3]  # 64 / 80 of 10 columns
    document = simulation_document(result)
    assert json.loads(render_simulation_json(result)) == document
    assert (document["safe"], document["head_bytes"], document["fragmentation_bytes"]) == (True, 80, 16)
    assert document["peak"] == {
        "step": 2,
        "subgraph": 0,
        "op": 1,
        "op_name": "RELU",
        "live_bytes": 64,
        "live_buffers": 2,
    }
    assert [s["live_bytes"] for s in document["steps"]] == [16, 48, 64, 48]
    assert "SAFE" in render_simulation_text(result)
    unsafe = simulation_document(_simulate(_chain(), (0, 16, 48, 48)))
    assert unsafe["safe"] is False and unsafe["clobbers"][0]["byte_range"] == [48, 64]


# ------------------------------------------------------------------------------------ plan files
@pytest.fixture
def kws_plan(tmp_path: Path) -> tuple[Path, Model, dict[str, object]]:
    bundled = Path(__file__).resolve().parents[2] / "models" / "kws_ds_cnn_int8.tflite"
    result = plan_model(bundled)
    document = plan_document(result)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    return path, result.model, document


def test_plan_file_round_trip_and_hand_edit(kws_plan: tuple[Path, Model, dict[str, object]], tmp_path: Path) -> None:
    path, model, document = kws_plan
    loaded = read_plan_file(path, model)
    assert loaded.plan.offsets == tuple(row["offset"] for row in document["buffers"])  # type: ignore[attr-defined]
    assert loaded.allocator == "file:plan.json" and loaded.validation.ok
    assert simulate_plan(loaded).ok
    rows = document["buffers"]
    rows[0]["offset"] = loaded.plan.peak_bytes  # type: ignore[index]
    path.write_text(json.dumps(document))
    edited = read_plan_file(path, model)
    assert edited.plan.peak_bytes == loaded.plan.peak_bytes + rows[0]["aligned_bytes"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["model"].update(sha256="ab" * 32), "made for a model with sha256 abababab"),
        (lambda d: d["buffers"].pop(), "buffers, but kws_ds_cnn_int8.tflite has"),
        (
            lambda d: d["buffers"][2].update(aligned_bytes=1),
            "buffers[2] aligned_bytes is 1, the model's buffer 2 has",
        ),
        (lambda d: d["buffers"][1].update(offset=-16), "buffers[1] offset -16 is not a non-negative integer"),
        (
            lambda d: d["buffers"][1].update(offset="16"),
            "buffers[1] offset '16' is not a non-negative integer",
        ),
        (lambda d: d.pop("buffers"), "not a plan document"),
    ],
)
def test_bad_plan_files(kws_plan: tuple[Path, Model, dict[str, object]], edit: object, message: str) -> None:
    path, model, document = kws_plan
    edit(document)  # type: ignore[operator]
    path.write_text(json.dumps(document))
    with pytest.raises(BadPlanError, match="^plan.json: ") as caught:
        read_plan_file(path, model)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_unreadable_plan_files(kws_plan: tuple[Path, Model, dict[str, object]], tmp_path: Path) -> None:
    path, model, _ = kws_plan
    path.write_text("{not json")
    with pytest.raises(BadPlanError, match=r"^plan.json: not JSON \(line 1, column 2"):
        read_plan_file(path, model)
    with pytest.raises(BadPlanError, match="^missing.json: cannot read plan file"):
        read_plan_file(tmp_path / "missing.json", model)


def test_fragmentation_counts_uncovered_bytes_when_live_buffers_overlap() -> None:
    # Everything at offset 0 (a broken plan, or an offline plan that overlaps on purpose): the live
    # sum at the peak (64 B at step 2) exceeds the 32 B head, but no head byte is free.
    result = _simulate(_chain(), (0, 0, 0, 0))
    assert not result.ok
    assert (result.head_bytes, _loads(result)[2], result.timeline.fragmentation_bytes) == (32, 64, 0)
