"""TFLM lifetime semantics on hand-built graphs, each expectation traced by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.errors import UnsupportedModelError
from arena.lifetimes import BufferKind, derive_lifetimes, lifetime_graph
from arena.model import read_model
from arena.model.records import Subgraph
from conftest import make_model, operator, tensor


def _chain() -> Subgraph:
    # input(0) -> FULLY_CONNECTED(w=1) -> a(2) -> SOFTMAX -> out(3); tensor 4 unused, 5 empty,
    # 6 a variable.
    return Subgraph(
        index=0,
        name="main",
        tensors=(
            tensor(0, (1, 10)),
            tensor(1, (40, 10), const=True),
            tensor(2, (1, 40)),
            tensor(3, (1, 20)),
            tensor(4, (3,)),
            tensor(5, (0, 4)),
            tensor(6, (1, 8), variable=True),
        ),
        operators=(operator(0, "FULLY_CONNECTED", (0, 1, -1), (2,)), operator(1, "SOFTMAX", (2,), (3,))),
        inputs=(0,),
        outputs=(3,),
    )


def test_chain_lifetimes_and_sizes() -> None:
    table = derive_lifetimes(make_model(_chain()))
    spans = {o.tensor: (b.first, b.last, b.size) for o, b in zip(table.origins, table.problem.buffers, strict=True)}
    # input born at step 0 (graph input), read by op 0 at step 1; 10 B rounds up to 16.
    # a: written at step 1, read at step 2; 40 B -> 48. out: written at 2, graph output at 2.
    # tensor 4 is referenced by nothing: [-1, -1], still planned (3 B -> 16).
    # constant 1, empty 5 and variable 6 are not planned.
    assert spans == {0: (0, 1, 16), 2: (1, 2, 48), 3: (2, 2, 32), 4: (-1, -1, 16)}
    assert [s.step for s in table.steps] == [1, 2]


def test_offline_placed_variable_is_planned() -> None:
    # TFLM plans a variable when the offline plan gives it an offset (needs_allocating = true);
    # the other lifetimes are unaffected. Checked through the records-only path by hand here:
    # without an offline plan the variable stays out.
    table = derive_lifetimes(make_model(_chain()))
    assert 6 not in {o.tensor for o in table.origins}


def test_if_walks_both_branches_in_order() -> None:
    main = Subgraph(
        index=0,
        name="main",
        tensors=(tensor(0, (1,), type_code=6), tensor(1, (4,)), tensor(2, (4,))),
        operators=(operator(0, "IF", (0, 1), (2,), {"then_subgraph_index": 1, "else_subgraph_index": 2}),),
        inputs=(0, 1),
        outputs=(2,),
    )
    branch = [
        Subgraph(
            index=i,
            name=f"b{i}",
            tensors=(tensor(0, (4,)), tensor(1, (4,))),
            operators=(operator(0, "NEG", (0,), (1,)),),
            inputs=(0,),
            outputs=(1,),
        )
        for i in (1, 2)
    ]
    table = derive_lifetimes(make_model(main, *branch))
    pairs = zip(table.origins, table.problem.buffers, strict=True)
    spans = {(o.subgraph, o.tensor): (b.first, b.last) for o, b in pairs}
    # main inputs at step 0. IF runs at step 1 (its output born there). Entering "then" is
    # step 2 (its input born and used there), its NEG step 3. Entering "else" step 4, NEG 5.
    # Back in main, the IF's inputs and output are last used at the final scope, 5.
    assert spans == {
        (0, 0): (0, 5),
        (0, 1): (0, 5),
        (0, 2): (1, 5),
        (1, 0): (2, 3),
        (1, 1): (3, 3),
        (2, 0): (4, 5),
        (2, 1): (5, 5),
    }
    assert [(s.step, s.subgraph, s.op) for s in table.steps] == [
        (1, 0, 0),
        (2, 1, None),
        (3, 1, 0),
        (4, 2, None),
        (5, 2, 0),
    ]


def test_scratch_buffers_follow_tensors_and_live_for_their_op() -> None:
    # SVDF int8 with batch 1, 8 filters, rank 2 -> 4 units: the reference kernel requests
    # 1*8*4 = 32 B of filter state and 1*4*4 = 16 B of output accumulators.
    svdf = Subgraph(
        index=0,
        name="main",
        tensors=(
            tensor(0, (1, 6)),
            tensor(1, (8, 6), const=True),
            tensor(2, (8, 3), const=True),
            tensor(3, (4,), type_code=2, const=True),
            tensor(4, (1, 24), type_code=7, variable=True),
            tensor(5, (1, 4)),
            tensor(6, (1, 4)),
        ),
        operators=(operator(0, "RELU", (0,), (6,)), operator(1, "SVDF", (6, 1, 2, 3, 4), (5,), {"rank": 2})),
        inputs=(0,),
        outputs=(5,),
    )
    table = derive_lifetimes(make_model(svdf))
    scratch = [
        (o.op, o.raw_bytes, b.first, b.last)
        for o, b in zip(table.origins, table.problem.buffers, strict=True)
        if o.kind is BufferKind.SCRATCH
    ]
    assert scratch == [(1, 32, 2, 2), (1, 16, 2, 2)]
    assert table.origins[-1].kind is BufferKind.SCRATCH and table.origins[0].kind is BufferKind.TENSOR


def test_subgraph_cycle_is_an_error() -> None:
    main = Subgraph(
        index=0,
        name="main",
        tensors=(tensor(0, (1,)),),
        operators=(operator(0, "CALL_ONCE", (), (), {"init_subgraph_index": 1}),),
        inputs=(0,),
        outputs=(0,),
    )
    loop = Subgraph(
        index=1,
        name="loop",
        tensors=(),
        operators=(operator(0, "CALL_ONCE", (), (), {"init_subgraph_index": 1}),),
        inputs=(),
        outputs=(),
    )
    with pytest.raises(UnsupportedModelError, match=r"cycle \(0 -> 1 -> 1\)"):
        derive_lifetimes(make_model(main, loop))


@pytest.mark.parametrize(
    ("operators", "message"),
    [
        ((operator(0, "RELU", (7,), (1,)),), "tensor 7 does not exist"),
        ((operator(0, "NOT_AN_OP", (0,), (1,)),), "NOT_AN_OP has no kernel"),
        ((operator(0, "CUSTOM:Mystery", (0,), (1,)),), "custom op 'Mystery'"),
    ],
)
def test_unplannable_ops_name_the_op(operators: tuple, message: str) -> None:
    graph = Subgraph(
        index=0,
        name="main",
        tensors=(tensor(0, (4,)), tensor(1, (4,))),
        operators=operators,
        inputs=(0,),
        outputs=(1,),
    )
    with pytest.raises(UnsupportedModelError, match=rf"test.tflite: subgraph 0, op 0 .*{message}"):
        derive_lifetimes(make_model(graph))


def test_allow_unsupported_plans_with_a_warning() -> None:
    graph = Subgraph(
        index=0,
        name="main",
        tensors=(tensor(0, (4,)), tensor(1, (4,))),
        operators=(operator(0, "CUSTOM:Mystery", (0,), (1,)),),
        inputs=(0,),
        outputs=(1,),
    )
    table = derive_lifetimes(make_model(graph), allow_unsupported=True)
    assert len(table.problem) == 2
    assert len(table.warnings) == 1 and "Mystery" in table.warnings[0]


def test_unsized_type_is_an_error() -> None:
    graph = Subgraph(
        index=0,
        name="main",
        tensors=(tensor(0, (4,), type_code=5, name="words"),),
        operators=(),
        inputs=(0,),
        outputs=(0,),
    )
    with pytest.raises(UnsupportedModelError, match="'words': TFLM cannot size type string"):
        derive_lifetimes(make_model(graph))


def test_offline_plan_fixes_offsets(shared_dir: Path) -> None:
    # The Vela model: offsets [0,-1,-1,0,0,0]; tensors 1 and 2 are constants (ignored), the
    # four others are fixed at 0. Its ethos-u op has no reference kernel, hence the flag.
    model = read_model(shared_dir / "special" / "tflm_person_detect_vela.tflite")
    table = derive_lifetimes(model, allow_unsupported=True)
    fixed = {o.global_tensor: b.fixed_offset for o, b in zip(table.origins, table.problem.buffers, strict=True)}
    assert fixed == {0: 0, 3: 0, 4: 0, 5: 0}


def test_lifetime_graph_is_bipartite() -> None:
    model = make_model(_chain())
    table = derive_lifetimes(model)
    graph = lifetime_graph(model, table)
    ops = [n for n in graph if n[0] == "op"]
    assert len(ops) == 2 and len(graph) == 2 + 7
    assert graph.has_edge(("tensor", 0, 2), ("op", 0, 1))
    assert graph.has_edge(("op", 0, 0), ("tensor", 0, 2))
    assert graph.nodes[("tensor", 0, 2)]["first"] == 1
    assert graph.nodes[("op", 0, 1)]["step"] == 2
