"""estimate_cost (latency, energy, duty cycle) and its text and JSON renderers.

Expected values are worked from the cycle model's own coefficients and the stated formulas
(latency = cycles / clock, energy = power x latency, average power at a rate) in the comments.
"""

from __future__ import annotations

import json
import math

import pytest

from arena.cost import estimate_cost, load_cycle_model
from arena.cost.macs import OpKind
from arena.errors import ArenaError
from arena.model import read_model
from arena.model.records import Model, Subgraph
from arena.render.cost import cost_document, render_cost_json, render_cost_text
from conftest import BUNDLED_MODELS, make_model, operator, tensor

KWS = BUNDLED_MODELS / "kws_ds_cnn_int8.tflite"
M33 = "cortex-m33"
CLOCK_HZ = 100_000_000


def fc_model(input_type: int = 9) -> Model:
    """One FULLY_CONNECTED, 64 -> 10: 640 MACs, 10 output elements."""
    tensors = (
        tensor(0, (1, 64), type_code=input_type),
        tensor(1, (10, 64), const=True),
        tensor(2, (10,), type_code=2, const=True),
        tensor(3, (1, 10), type_code=input_type),
    )
    graph = Subgraph(
        index=0,
        name="main",
        tensors=tensors,
        operators=(operator(0, "FULLY_CONNECTED", (0, 1, 2), (3,)),),
        inputs=(0,),
        outputs=(3,),
    )
    return make_model(graph, name="fc.tflite")


def fc_cycles() -> int:
    model = load_cycle_model(M33, "cmsis-nn")
    return round(
        640 * model.cycles_per_mac[OpKind.FULLY_CONNECTED].value
        + 10 * model.cycles_per_element[OpKind.FULLY_CONNECTED].value
        + model.cycles_per_op.value
    )


def test_latency_energy_and_average_power() -> None:
    cost = estimate_cost(
        fc_model(),
        core=M33,
        kernels="cmsis-nn",
        clock_hz=CLOCK_HZ,
        active_power_mw=50.0,
        sleep_power_uw=20.0,
        rate_hz=10.0,
    )
    cycles = fc_cycles()
    latency_ms = cycles / CLOCK_HZ * 1000
    assert cost.cycles == cycles
    assert cost.latency_ms == pytest.approx(latency_ms)
    # 50 mW for latency_ms ms = 50 * latency_ms uJ.
    assert cost.energy_uj == pytest.approx(50.0 * latency_ms)
    # 10 inferences/s: 10 * E uJ/s = 10 * E / 1000 mW, plus 20 uW = 0.02 mW while asleep.
    duty = 10 * latency_ms / 1000
    assert cost.duty_cycle == pytest.approx(duty)
    assert cost.average_power_mw == pytest.approx(10 * 50.0 * latency_ms / 1000 + 0.02 * (1 - duty))
    assert cost.inferences_per_second == pytest.approx(1000 / latency_ms)
    assert cost.ok and cost.warnings == ()


def test_layers_share_the_time() -> None:
    cost = estimate_cost(read_model(KWS), core=M33, kernels="cmsis-nn", clock_hz=CLOCK_HZ)
    assert sum(layer.cycles for layer in cost.layers) == cost.cycles
    assert math.isclose(sum(layer.time_share for layer in cost.layers), 1.0)
    assert cost.macs == 2_656_768  # the DS-CNN's published MACs (see test_macs.py)
    assert cost.energy_uj is None and cost.average_power_mw is None


def test_rate_out_of_reach_is_a_verdict_not_an_error() -> None:
    cost = estimate_cost(
        read_model(KWS), core=M33, kernels="cmsis-nn", clock_hz=CLOCK_HZ, active_power_mw=50.0, rate_hz=1000.0
    )
    assert not cost.ok
    assert cost.duty_cycle is not None and cost.duty_cycle > 1
    assert cost.average_power_mw is None
    assert "out of reach" in render_cost_text(cost)


def test_unknown_sleep_power_counts_inference_energy_only() -> None:
    cost = estimate_cost(fc_model(), core=M33, kernels="cmsis-nn", clock_hz=CLOCK_HZ, active_power_mw=50.0, rate_hz=1.0)
    assert cost.energy_uj is not None
    assert cost.average_power_mw == pytest.approx(cost.energy_uj / 1000)
    assert any("sleep power unknown" in warning for warning in cost.warnings)


def test_rate_without_active_power_warns() -> None:
    cost = estimate_cost(fc_model(), core=M33, kernels="cmsis-nn", clock_hz=CLOCK_HZ, rate_hz=1.0)
    assert cost.average_power_mw is None
    assert any("no active power" in warning for warning in cost.warnings)


def test_warnings_for_guessed_float_derived_and_multi_subgraph() -> None:
    custom = Subgraph(
        index=1,
        name="body",
        tensors=(tensor(0, (8,)), tensor(1, (8,))),
        operators=(operator(0, "CUSTOM:Foo", (0,), (1,)),),
        inputs=(0,),
        outputs=(1,),
    )
    float_graph = fc_model(input_type=0).subgraphs[0]
    model = make_model(float_graph, custom)
    cost = estimate_cost(model, core=M33, kernels="reference", clock_hz=CLOCK_HZ)
    text = " | ".join(cost.warnings)
    assert "derived, not calibrated" in text
    assert "no cost rule for 1 op(s) (CUSTOM:Foo)" in text
    assert "non-integer input (first: subgraph 0, op 0 FULLY_CONNECTED, float32)" in text
    assert "2 subgraphs" in text


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"clock_hz": 0}, "clock 0 Hz"),
        ({"clock_hz": 1.5e8}, "positive whole number"),
        ({"active_power_mw": -1.0}, "active power -1.0"),
        ({"sleep_power_uw": math.nan}, "sleep power nan"),
        ({"rate_hz": 0.0}, "rate 0.0"),
        ({"core": "cortex-m7"}, "no cycle model for core 'cortex-m7'"),
    ],
)
def test_bad_parameters(arguments: dict[str, object], message: str) -> None:
    parameters: dict[str, object] = {"core": M33, "kernels": "cmsis-nn", "clock_hz": CLOCK_HZ, **arguments}
    with pytest.raises(ArenaError, match=message):
        estimate_cost(fc_model(), **parameters)  # type: ignore[arg-type]


def test_json_document_keys() -> None:
    cost = estimate_cost(
        read_model(KWS),
        core=M33,
        kernels="cmsis-nn",
        clock_hz=CLOCK_HZ,
        active_power_mw=70.0,
        sleep_power_uw=10.0,
        rate_hz=2.0,
    )
    document = json.loads(render_cost_json(cost))
    assert document == json.loads(json.dumps(cost_document(cost)))
    total = document["total"]
    assert {
        "macs",
        "cycles",
        "latency_ms",
        "energy_uj",
        "inferences_per_second",
        "average_power_mw",
        "parameters",
        "model_bytes",
        "constant_bytes",
    } <= set(total)
    assert total["macs"] == 2_656_768 and total["cycles"] == cost.cycles
    assert isinstance(document["layers"], list) and len(document["layers"]) == 13
    assert {"subgraph", "op", "op_name", "kind", "macs", "elements", "cycles", "time_share"} <= set(
        document["layers"][0]
    )
    assert document["target"] == {
        "core": M33,
        "kernels": "cmsis-nn",
        "clock_hz": CLOCK_HZ,
        "active_power_mw": 70.0,
        "sleep_power_uw": 10.0,
    }
    assert document["cycle_model"]["status"] == "calibrated" and document["ok"] is True


def test_text_table_and_totals() -> None:
    cost = estimate_cost(
        read_model(KWS),
        core=M33,
        kernels="cmsis-nn",
        clock_hz=CLOCK_HZ,
        active_power_mw=70.0,
        sleep_power_uw=10.0,
        rate_hz=2.0,
    )
    text = render_cost_text(cost)
    header, first = text.splitlines()[:2]
    assert header.split() == ["op", "op_name", "kind", "MACs", "cycles", "time"]
    assert first.split()[:4] == ["0", "CONV_2D", "conv", "320,000"]
    assert f"{cost.cycles:,} cycles" in text and "2,656,768 MACs" in text
    assert "uJ per inference at 70 mW" in text and "average" in text and "10 uW asleep" in text
