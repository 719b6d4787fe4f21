"""In-place aliasing: which pairs the rules allow, and the value-level simulator's verdicts."""

from __future__ import annotations

from arena.lifetimes import derive_lifetimes
from arena.model.records import Model, Operator, Subgraph
from arena.proofs.alias_simulate import simulate_aliased
from arena.shrink.alias import AliasKind, find_aliases
from arena.shrink.grouped import plan_grouped
from conftest import tensor


def _op(index: int, name: str, inputs: tuple[int, ...], outputs: tuple[int, ...], **options: int) -> Operator:
    return Operator(index=index, opcode_index=0, builtin_code=0, op_name=name, custom_code=None, version=1,
                    inputs=inputs, outputs=outputs, options=options)  # fmt: skip


def _model(tensors: list, ops: list[Operator], inputs: tuple[int, ...], outputs: tuple[int, ...]) -> Model:
    graph = Subgraph(index=0, name="", tensors=tuple(tensors), operators=tuple(ops), inputs=inputs, outputs=outputs)
    return Model(path="m.tflite", sha256="", size_bytes=0, version=3, description="", subgraphs=(graph,),
                 metadata=(), buffer_count=1, data=b"")  # fmt: skip


def _concat_model() -> Model:
    # t0 (64 B) -> RELU -> t1, t2 (32 B each, the two halves) -> CONCATENATION axis 1 -> t3 (64 B) -> RELU -> t4
    tensors = [tensor(0, (1, 64)), tensor(1, (1, 32)), tensor(2, (1, 32)), tensor(3, (1, 64)), tensor(4, (1, 64))]
    ops = [
        _op(0, "RELU", (0,), (1,)),
        _op(1, "RELU", (0,), (2,)),
        _op(2, "CONCATENATION", (1, 2), (3,), axis=1),
        _op(3, "RELU", (3,), (4,)),
    ]
    return _model(tensors, ops, (0,), (4,))


def test_concat_pieces_alias_at_their_byte_positions() -> None:
    aliases = find_aliases(_concat_model())
    # t1 goes to bytes [0, 32) of t3, t2 to [32, 64): the concatenation order.
    assert [(a.kind, a.source, a.target, a.byte_offset) for a in aliases] == [
        (AliasKind.CONCAT_PIECE, 1, 3, 0),
        (AliasKind.CONCAT_PIECE, 2, 3, 32),
    ]


def test_graph_inputs_and_later_read_tensors_are_never_sources() -> None:
    # ADD t0 + t1 -> t2 where t0 is the graph input and t1 is read again by op 2.
    tensors = [tensor(0, (1, 16)), tensor(1, (1, 16)), tensor(2, (1, 16)), tensor(3, (1, 16))]
    ops = [_op(0, "RELU", (0,), (1,)), _op(1, "ADD", (0, 1), (2,)), _op(2, "ADD", (1, 2), (3,))]
    aliases = find_aliases(_model(tensors, ops, (0,), (3,)))
    # Only op 2 qualifies: t1 dies there (t2 does too; the first input that qualifies is taken).
    assert [(a.op, a.source, a.target) for a in aliases] == [(2, 1, 3)]


def test_grouped_plan_is_accepted_and_a_moved_piece_is_caught() -> None:
    model = _concat_model()
    table = derive_lifetimes(model)
    aliases = find_aliases(model)
    grouped = plan_grouped(table, aliases)
    assert simulate_aliased(model, table, grouped.offsets, grouped.aliases).ok
    # Hand-worked: t0 (64 B) must survive ops 0-1 beside t1/t2 (inside t3's 64 B group), then
    # t4 (64 B) beside t3: 128 B, where plain packing needs t0 + t1 + t2 = 128 B too at op 1.
    assert grouped.peak_bytes == 128
    moved = list(grouped.offsets)
    index_t2 = next(i for i, o in enumerate(table.origins) if o.tensor == 2)
    moved[index_t2] += 16  # t2 no longer where the concatenation copies it
    report = simulate_aliased(model, table, tuple(moved), grouped.aliases)
    assert not report.ok
    assert any("alias concat-piece of tensor 2" in p for p in report.problems)


def test_overlap_outside_an_alias_is_a_corrupted_read() -> None:
    model = _concat_model()
    table = derive_lifetimes(model)
    offsets = [0] * len(table.origins)  # everything at 0: t0 is overwritten by t1 while op 1 still reads it
    report = simulate_aliased(model, table, tuple(offsets), ())
    assert not report.ok
    assert any(p.startswith("op 0 RELU (after its writes)") for p in report.problems)
