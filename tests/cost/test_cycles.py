"""The shipped coefficient file and its loader (arena.cost.cycles)."""

from __future__ import annotations

import pytest

from arena.cost.cycles import CycleModelStatus, cycle_models, load_cycle_model, parse_cycle_models
from arena.cost.macs import OpCount, OpKind
from arena.errors import ArenaError

HEADER = 'schema_version = 1\n[sources]\nguess = "a guess"\n'
ELEMENTS = "\n".join(f'{kind} = {{ value = 1, source = "guess" }}' for kind in OpKind)


def model_text(extra_mac: str = "", per_op: str = '{ value = 10, source = "guess" }') -> str:
    return (
        HEADER
        + '[[cycle_model]]\ncore = "cortex-m4"\nkernels = "k"\nstatus = "derived"\nbasis = "test"\n'
        + f"cycles_per_op = {per_op}\n"
        + f'[cycle_model.cycles_per_mac]\nconv = {{ value = 2, source = "guess" }}\n{extra_mac}\n'
        + f"[cycle_model.cycles_per_element]\n{ELEMENTS}\n"
    )


def test_shipped_file_loads_and_covers_every_kind() -> None:
    models = cycle_models()
    assert {model.name for model in models} >= {"cortex-m4/cmsis-nn", "cortex-m33/cmsis-nn"}
    for model in models:
        assert set(model.cycles_per_element) == set(OpKind)
        # Every coefficient's source is a key (or "+"-joined keys) of [sources].
        coefficients = [
            *model.cycles_per_mac.values(),
            *model.cycles_per_element.values(),
            model.cycles_per_op,
        ]
        for coefficient in coefficients:
            assert all(key in model.sources for key in coefficient.source.split("+"))


def test_calibrated_models_cost_every_mac_kind() -> None:
    for model in cycle_models():
        if model.status is CycleModelStatus.CALIBRATED:
            assert {OpKind.CONV, OpKind.DEPTHWISE, OpKind.FULLY_CONNECTED, OpKind.RECURRENT} <= set(
                model.cycles_per_mac
            )


def test_op_cycles_formula() -> None:
    # conv: 2 cycles/MAC * 100 MACs + 1 cycle/element * 10 elements + 10 per op = 220.
    (model,) = parse_cycle_models(model_text())
    op = OpCount(subgraph_index=0, op_index=0, op_name="CONV_2D", kind=OpKind.CONV, macs=100, elements=10)
    assert model.op_cycles(op) == 220.0
    # A kind with no MAC coefficient costs only its elements and the per-op cost: 5 + 10.
    add = OpCount(subgraph_index=0, op_index=1, op_name="ADD", kind=OpKind.ELEMENTWISE, macs=0, elements=5)
    assert model.op_cycles(add) == 15.0


def test_unknown_pair_lists_the_available_ones() -> None:
    with pytest.raises(ArenaError, match="available \\(core/kernels\\): .*cortex-m4/cmsis-nn"):
        load_cycle_model("cortex-m7", "cmsis-nn")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema_version = 1\n[[cycle_model]\n", "coefficients.toml: "),
        ("schema_version = 2\n", "schema_version 2"),
        (model_text(extra_mac='depthwise = { value = 1, source = "nowhere" }'), "names source 'nowhere'"),
        (model_text(extra_mac='depthwise = { value = -1, source = "guess" }'), "not a non-negative number"),
        (model_text(extra_mac='sideways = { value = 1, source = "guess" }'), "unknown op kind 'sideways'"),
        (model_text(per_op="12"), "cycles_per_op must be"),
        (model_text().replace("other = {", "#"), "lacks other"),
        ('schema_version = 1\n[sources]\nv0.5 = "dotted"\n', "no dots"),
    ],
)
def test_malformed_files_fail_with_one_line(text: str, message: str) -> None:
    with pytest.raises(ArenaError, match=message):
        parse_cycle_models(text)
