"""Per-kernel instruction model (arena.cost.instructions, arena.cost.instructions_fit).

Expected values are hand-worked small cases (reasoning in comments), properties (predictions are
non-negative and grow with MACs; a held-out model cannot move its own predictions), or the
shipped ``instructions.json`` against a refit from the measured rows it stores. The live
comparison with the emulator is in ``tests/test_instructions_emulator.py``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.cost.instructions import (
    ALL_KEY,
    FEATURES,
    fitted_pairs,
    instruction_document,
    load_instruction_model,
    model_shapes,
    op_shape,
    predict_instructions,
)
from arena.cost.instructions_fit import (
    MIN_COUNT,
    MeasuredOp,
    Prediction,
    fit_entry,
    fit_kind,
    fit_kinds,
    leave_one_model_out,
    predict_row,
    rows_from_fit,
)
from arena.cost.on_target import instructions_on_target
from arena.model import read_model
from arena.model.records import Model, Operator, Subgraph, Tensor
from arena.targets import choose_target
from conftest import shared_models_dir

PAIRS = fitted_pairs()
CONV_KINDS = ("CONV_2D/arm_convolve_s8", "CONV_2D/arm_convolve_1x1_s8_fast", "CONV_2D/arm_convolve_1x1_s8")


def _tensor(index: int, shape: tuple[int, ...], type_code: int = 9) -> Tensor:
    return Tensor(
        index=index, name=f"t{index}", shape=shape, type_code=type_code, buffer=0, has_data=False, is_variable=False
    )


def _one_op(name: str, code: int, tensors: tuple[Tensor, ...], options: dict[str, object]) -> tuple[Model, Subgraph]:
    op = Operator(
        index=0,
        opcode_index=0,
        builtin_code=code,
        op_name=name,
        custom_code=None,
        version=1,
        inputs=tuple(range(len(tensors) - 1)),
        outputs=(len(tensors) - 1,),
        options=options,
    )
    graph = Subgraph(index=0, name="", operators=(op,), inputs=(0,), outputs=(len(tensors) - 1,), tensors=tensors)
    model = Model(
        path="op.tflite",
        sha256="",
        size_bytes=0,
        version=3,
        description="",
        subgraphs=(graph,),
        metadata=(),
        buffer_count=0,
        data=b"",
    )
    return model, graph


def _conv(h: int, w: int, cin: int, cout: int, k: int, stride: int) -> tuple[Model, Subgraph]:
    """A SAME-padded int8 CONV_2D (output size ceil(in / stride), as TFLite's SAME rule gives)."""
    out = (1, -(-h // stride), -(-w // stride), cout)
    tensors = (_tensor(0, (1, h, w, cin)), _tensor(1, (cout, k, k, cin)), _tensor(2, (cout,), 2), _tensor(3, out))
    return _one_op("CONV_2D", 3, tensors, {"padding": 0, "stride_h": stride, "stride_w": stride})


def _depthwise(h: int, cin: int, multiplier: int, k: int) -> tuple[Model, Subgraph]:
    cout = cin * multiplier
    tensors = (
        _tensor(0, (1, h, h, cin)),
        _tensor(1, (1, k, k, cout)),
        _tensor(2, (cout,), 2),
        _tensor(3, (1, h, h, cout)),
    )
    return _one_op("DEPTHWISE_CONV_2D", 4, tensors, {"padding": 0, "depth_multiplier": multiplier})


# ----------------------------------------------------------------------------- features and keys


def test_conv_features_by_hand() -> None:
    # 3x3 SAME conv, 8x8x4 -> 8x8x16: 64 pixels; MACs 64 x 16 x 9 x 4 = 36,864; taps 64 x 9 = 576;
    # the im2col window 576 x 4 = 2,304; not 1x1 and the input has 8 rows, so arm_convolve_s8.
    model, graph = _conv(8, 8, 4, 16, 3, 1)
    shape = op_shape(model, graph, graph.operators[0], kernels="cmsis-nn", isa="dsp")
    assert [shape.feature(name) for name in FEATURES] == [1, 36_864, 1_024, 1_024, 256, 64, 576, 2_304]
    assert shape.keys == ("CONV_2D/arm_convolve_s8", "CONV_2D", "kind:conv", ALL_KEY)
    # The reference kernels have no CMSIS-NN path: the key is the input type.
    reference = op_shape(model, graph, graph.operators[0], kernels="reference", isa="dsp")
    assert reference.keys[0] == "CONV_2D/int8" and reference.values == shape.values


def test_depthwise_paths_follow_cmsis_nn_dispatch() -> None:
    # arm_depthwise_conv_wrapper_s8: multiplier 1 with a 3x3 window and padding <= 1 is the 3x3
    # kernel on DSP cores; Helium has no 3x3 kernel and takes the opt one. A multiplier of 8 is
    # arm_depthwise_conv_s8's four-at-a-time loop, 2 its generic loop; on Helium one input
    # channel with more than one output channel becomes a convolution (GCC threshold 1).
    def first_key(model_graph: tuple[Model, Subgraph], isa: str) -> str:
        model, graph = model_graph
        return op_shape(model, graph, graph.operators[0], kernels="cmsis-nn", isa=isa).keys[0]

    assert first_key(_depthwise(8, 16, 1, 3), "dsp") == "DEPTHWISE_CONV_2D/arm_depthwise_conv_3x3_s8"
    assert first_key(_depthwise(8, 16, 1, 3), "mve") == "DEPTHWISE_CONV_2D/arm_depthwise_conv_s8_opt"
    assert first_key(_depthwise(8, 16, 1, 5), "dsp") == "DEPTHWISE_CONV_2D/arm_depthwise_conv_s8_opt"
    assert first_key(_depthwise(8, 1, 8, 3), "dsp") == "DEPTHWISE_CONV_2D/depthwise_conv_s8_mult_4"
    assert first_key(_depthwise(8, 4, 2, 3), "dsp") == "DEPTHWISE_CONV_2D/depthwise_conv_s8_generic"
    assert first_key(_depthwise(8, 1, 8, 3), "mve") == "DEPTHWISE_CONV_2D/arm_depthwise_conv_to_conv_s8"


def test_non_int8_inputs_are_keyed_by_their_type() -> None:
    # QUANTIZE from float32 (type code 0) runs a float multiply per element: its own key.
    tensors = (_tensor(0, (1, 10), type_code=0), _tensor(1, (1, 10)))
    model, graph = _one_op("QUANTIZE", 114, tensors, {})
    shape = op_shape(model, graph, graph.operators[0], kernels="cmsis-nn", isa="dsp")
    assert shape.keys == ("QUANTIZE/float32", "QUANTIZE", "kind:elementwise", ALL_KEY)
    assert (shape.feature("outputs"), shape.feature("inputs"), shape.feature("rows")) == (10, 10, 1)


# ----------------------------------------------------------------------------- the fit


def _row(model: str, key: str, macs: float, instructions: float, *, kind: str = "fully_connected") -> MeasuredOp:
    values = tuple(1.0 if name == "one" else macs if name == "macs" else 0.0 for name in FEATURES)
    op_name = key.split("/")[0]
    keys = (key, op_name, f"kind:{kind}", ALL_KEY) if "/" in key else (key, f"kind:{kind}", ALL_KEY)
    return MeasuredOp(
        model=model, op_index=0, op_name=op_name, keys=keys, values=values, instructions=round(instructions)
    )


def test_fit_never_returns_a_negative_coefficient() -> None:
    # Counts that fall with MACs would need a negative MAC cost; the fit drops the feature
    # instead and keeps the constant (the mean in relative terms).
    rows = [_row("a", "FULLY_CONNECTED/int8", 10, 900), _row("b", "FULLY_CONNECTED/int8", 1000, 100)]
    fitted = fit_kind("FULLY_CONNECTED/int8", rows)
    assert all(value >= 0 for value in fitted.coefficients.values())
    assert set(fitted.coefficients) == {"one"}


def test_a_kind_with_too_few_models_falls_back_to_the_coarser_key() -> None:
    # "FULLY_CONNECTED/int16" has rows from two models only (min_models 3): not fitted, so its op
    # is predicted by "FULLY_CONNECTED", fitted on all five rows (100 + 2 x MACs exactly).
    rows = [_row(m, "FULLY_CONNECTED/int8", macs, 100 + 2 * macs) for m, macs in (("a", 10), ("b", 50), ("c", 90))]
    rows += [_row(m, "FULLY_CONNECTED/int16", macs, 100 + 2 * macs) for m, macs in (("d", 20), ("e", 70))]
    kinds = fit_kinds(rows, min_models=3)
    assert "FULLY_CONNECTED/int16" not in kinds and "FULLY_CONNECTED/int8" in kinds
    predicted, key = predict_row(kinds, rows[-1])
    assert key == "FULLY_CONNECTED" and predicted == pytest.approx(100 + 2 * 70)


def test_leave_one_model_out_cannot_see_the_held_out_model() -> None:
    rows = [
        _row(m, "FULLY_CONNECTED/int8", macs, 50 + 3 * macs)
        for m, macs in zip("abcde", (5, 40, 90, 300, 7), strict=True)
    ]
    before = {p.row.model: p.predicted for p in leave_one_model_out(rows)}
    scaled = [dataclasses.replace(r, instructions=r.instructions * 10) if r.model == "c" else r for r in rows]
    after = {p.row.model: p.predicted for p in leave_one_model_out(scaled)}
    assert after["c"] == pytest.approx(before["c"])
    assert after["a"] != pytest.approx(before["a"])  # the other folds did see it


def test_generated_models_are_trained_on_but_never_held_out() -> None:
    rows = [_row(m, "FULLY_CONNECTED/int8", macs, 50 + 3 * macs) for m, macs in zip("abc", (5, 40, 90), strict=True)]
    rows.append(dataclasses.replace(_row("gen:x", "FULLY_CONNECTED/int8", 20, 110), generated=True))
    assert {p.row.model for p in leave_one_model_out(rows)} == {"a", "b", "c"}


def test_relative_error_is_taken_against_at_least_one_tick() -> None:
    # A count below one SysTick tick is rounding: 40 predicted against 0 measured is no error.
    row = _row("a", "RESHAPE/int8", 0, 0, kind="data_movement")
    assert Prediction(row=row, predicted=MIN_COUNT, key="RESHAPE/int8").error == 0.0


# ----------------------------------------------------------------------------- the shipped file


def test_the_shipped_file_loads_with_non_negative_coefficients() -> None:
    assert ("cortex-m4", "cmsis-nn") in PAIRS
    for core, kernels in PAIRS:
        fitted = load_instruction_model(core, kernels)
        assert fitted is not None and ALL_KEY in fitted.kinds
        for kind in fitted.kinds.values():
            assert kind.coefficients and set(kind.coefficients) <= set(FEATURES)
            assert all(value >= 0 for value in kind.coefficients.values())
            assert kind.key == ALL_KEY or kind.models >= fitted.min_models
        assert "not cycles" in fitted.basis and "90b983c2" in fitted.basis


@pytest.mark.parametrize("fit", instruction_document()["fits"], ids=lambda fit: f"{fit['core']}-{fit['kernels']}")
def test_the_shipped_fit_is_what_the_fit_gives_on_its_rows(fit: dict[str, object]) -> None:
    rows = rows_from_fit(fit)
    kinds = fit_kinds(rows, int(str(fit["min_models"])))
    shipped = fit["kinds"]
    assert isinstance(shipped, dict) and set(kinds) == set(shipped)
    for key, kind in kinds.items():
        assert kind.coefficients == pytest.approx(shipped[key]["coefficients"], rel=1e-6, abs=1e-9)
    entry = fit_entry(
        rows,
        core=str(fit["core"]),
        kernels=str(fit["kernels"]),
        isa=str(fit["isa"]),
        machine=str(fit["machine"]),
        library=str(fit["library"]),
        min_models=int(str(fit["min_models"])),
    )
    assert entry["lomo"] == pytest.approx(fit["lomo"], rel=1e-9)


def test_stored_rows_are_what_op_shape_computes_now() -> None:
    """The features of the shared models' rows have not drifted from the code that predicts."""
    models_dir = shared_models_dir()
    for fit in instruction_document()["fits"]:
        cache: dict[str, tuple[object, ...]] = {}
        for row in rows_from_fit(fit):
            if row.generated:
                continue
            if row.model not in cache:
                model = read_model(models_dir / row.model)
                cache[row.model] = model_shapes(model, kernels=fit["kernels"], isa=fit["isa"])
            shape = cache[row.model][row.op_index]
            assert (shape.keys, shape.values) == (row.keys, row.values), f"{row.model} op {row.op_index}"


@pytest.mark.parametrize("pair", PAIRS, ids=lambda pair: "-".join(pair))
def test_predictions_are_non_negative_on_every_shared_model(pair: tuple[str, str]) -> None:
    fitted = load_instruction_model(*pair)
    assert fitted is not None
    for path in sorted(shared_models_dir().glob("*.tflite")):
        estimate = predict_instructions(read_model(path), fitted)
        assert all(op.instructions >= 0 for op in estimate.ops)
        assert estimate.instructions == sum(op.instructions for op in estimate.ops) > 0


@pytest.mark.parametrize("pair", PAIRS, ids=lambda pair: "-".join(pair))
def test_every_fitted_conv_kind_charges_for_macs(pair: tuple[str, str]) -> None:
    fitted = load_instruction_model(*pair)
    assert fitted is not None
    for key in CONV_KINDS:
        assert fitted.kinds[key].coefficients.get("macs", 0.0) > 0


@settings(max_examples=60, deadline=None)
@given(
    pair=st.sampled_from(PAIRS),
    h=st.integers(2, 24),
    w=st.integers(2, 24),
    cin=st.integers(1, 64),
    cout=st.integers(1, 64),
    extra=st.integers(1, 64),
    k=st.sampled_from((1, 3, 5)),
    stride=st.sampled_from((1, 2)),
)
def test_conv_predictions_grow_with_macs(
    pair: tuple[str, str], h: int, w: int, cin: int, cout: int, extra: int, k: int, stride: int
) -> None:
    # More output channels (or a larger input) keep the kernel path and add MACs, outputs and
    # positions; with non-negative coefficients the prediction cannot fall, and with a positive
    # MAC cost it must rise.
    fitted = load_instruction_model(*pair)
    assert fitted is not None

    def predicted(model_graph: tuple[Model, Subgraph]) -> int:
        return predict_instructions(model_graph[0], fitted).instructions

    base = predicted(_conv(h, w, cin, cout, k, stride))
    assert base >= 0
    assert predicted(_conv(h, w, cin, cout + extra, k, stride)) > base
    assert predicted(_conv(h + 4, w + 4, cin, cout, k, stride)) > base


def test_a_target_without_a_fit_gets_none_and_one_line_why(shared_dir: Path) -> None:
    model = read_model(shared_dir / "mlperf_kws_ref_model.tflite")
    predicted, reason = instructions_on_target(model, choose_target("rp2040"))  # Cortex-M0+: no QEMU board
    assert predicted is None and reason is not None
    assert reason.startswith("no instruction fit for cortex-m0plus with reference kernels") and "\n" not in reason
    predicted, reason = instructions_on_target(model, choose_target("nucleo-l4r5zi"))
    assert predicted is not None and reason is None
    assert len(predicted.ops) == sum(len(graph.operators) for graph in model.subgraphs)


def test_cortex_m85_borrows_the_helium_fit_and_says_so(shared_dir: Path) -> None:
    """QEMU has no Cortex-M85; it runs the M55's Helium CMSIS-NN code, so the M55 fit stands in."""
    model = read_model(shared_dir / "mlperf_kws_ref_model.tflite")
    target = choose_target("ek-ra8d1")
    assert target.core == "cortex-m85" and target.kernel_isa == "mve"
    borrowed, reason = instructions_on_target(model, target)
    own, _ = instructions_on_target(model, choose_target("cortex-m55"))
    assert borrowed is not None and own is not None and reason is None
    assert [op.instructions for op in borrowed.ops] == [op.instructions for op in own.ops]
    assert "cortex-m55" in borrowed.basis and "stands in for cortex-m85" in borrowed.basis
