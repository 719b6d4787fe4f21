"""The calibration fit (arena.cost.fit): recovery on synthetic data, and the shipped coefficients.

The synthetic test builds rows whose latencies come from known parameters, so the fit must give
them back. The shared-data tests check that the coefficient file is what the fit gives on the
MLPerf Tiny calibration rows, and that it reproduces them within the tolerances stated in
docs/cost-model.md (in-sample 10%, leave-one-out 25%), for latency and for energy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.cost.cycles import CycleModel, load_cycle_model
from arena.cost.estimate import cost_from_counts
from arena.cost.fit import (
    CALIBRATED_KERNELS,
    CalibrationRow,
    CoreFit,
    CycleFit,
    FitOptions,
    apply_fit,
    board_power_mw,
    calibration_counts,
    error_summary,
    fit_cycle_models,
    fitted_models,
    leave_one_out,
    predict_rows,
    read_calibration,
)
from arena.cost.macs import ModelCounts, OpCount, OpKind
from arena.errors import ArenaError

IN_SAMPLE_TOLERANCE = 0.10
LEAVE_ONE_OUT_TOLERANCE = 0.25
#: Reference-kernel MAC costs are the CMSIS-NN ones times this published speed-up (coefficients.toml).
CMSIS_NN_SPEEDUP = 4.6


def synthetic_counts() -> dict[str, ModelCounts]:
    """Four made-up models with different mixes of conv, depthwise, FC and elementwise work."""

    def op(index: int, kind: OpKind, macs: int, elements: int) -> OpCount:
        return OpCount(subgraph_index=0, op_index=index, op_name=kind.upper(), kind=kind, macs=macs, elements=elements)

    mixes = {
        "convs": [op(0, OpKind.CONV, 9_000_000, 20_000), op(1, OpKind.ELEMENTWISE, 0, 5_000)],
        "thin": [op(0, OpKind.CONV, 1_000_000, 60_000), op(1, OpKind.DEPTHWISE, 200_000, 30_000)],
        "fc": [op(0, OpKind.FULLY_CONNECTED, 300_000, 1_500)],
        "mixed": [
            op(0, OpKind.DEPTHWISE, 500_000, 50_000),
            op(1, OpKind.FULLY_CONNECTED, 50_000, 100),
            op(2, OpKind.POOL, 0, 4_000),
        ],
    }
    return {
        name: ModelCounts(model_name=name, ops=tuple(ops), parameters=0, constant_bytes=0, model_bytes=0)
        for name, ops in mixes.items()
    }


def synthetic_rows(
    truth: CycleFit, counts: dict[str, ModelCounts], base: dict[str, CycleModel]
) -> list[CalibrationRow]:
    rows = []
    for core, clock_hz, power_mw in (("cortex-m4", 120_000_000, 40.0), ("cortex-m33", 200_000_000, 70.0)):
        model = apply_fit(base[core], truth)
        for name in counts:
            latency_ms = cost_from_counts(counts[name], model, clock_hz=clock_hz).latency_ms
            rows.append(
                CalibrationRow(
                    round_name="t",
                    submitter="t",
                    system=f"board-{core}",
                    core=core,
                    clock_hz=clock_hz,
                    stack="TFLM",
                    benchmark=name,
                    published_macs=0,
                    latency_ms=latency_ms,
                    energy_uj=power_mw * latency_ms,
                    source="test",
                )
            )
    return rows


def test_fit_recovers_known_parameters() -> None:
    base = {core: load_cycle_model(core, CALIBRATED_KERNELS) for core in ("cortex-m4", "cortex-m33")}
    truth = CycleFit(
        fc_ratio=0.7,
        cores=(
            CoreFit(core="cortex-m33", cycles_per_mac=2.0, cycles_per_element=5.0),
            CoreFit(core="cortex-m4", cycles_per_mac=3.0, cycles_per_element=40.0),
        ),
    )
    counts = synthetic_counts()
    rows = synthetic_rows(truth, counts, base)
    fit = fit_cycle_models(rows, counts, base)
    # Latencies are exact but for rounding each op to whole cycles, so the parameters come back
    # to well under 0.1%.
    assert fit.fc_ratio == pytest.approx(0.7, rel=1e-3)
    for expected in truth.cores:
        got = fit.for_core(expected.core)
        assert got.cycles_per_mac == pytest.approx(expected.cycles_per_mac, rel=1e-3)
        assert got.cycles_per_element == pytest.approx(expected.cycles_per_element, rel=1e-3)
    # Noise-free data: every held-out row is predicted almost exactly, energy too (exact powers).
    assert error_summary(p.latency_error for p in leave_one_out(rows, counts, base))[0] < 1e-3
    assert error_summary(p.energy_error for p in leave_one_out(rows, counts, base))[0] < 1e-3
    assert board_power_mw(rows) == pytest.approx({"BOARD_CORTEX_M4": 40.0, "BOARD_CORTEX_M33": 70.0})


def test_options_hold_parameters() -> None:
    base = {core: load_cycle_model(core, CALIBRATED_KERNELS) for core in ("cortex-m4", "cortex-m33")}
    truth = CycleFit(
        fc_ratio=0.7,
        cores=(
            CoreFit(core="cortex-m33", cycles_per_mac=2.0, cycles_per_element=5.0),
            CoreFit(core="cortex-m4", cycles_per_mac=3.0, cycles_per_element=40.0),
        ),
    )
    counts = synthetic_counts()
    fit = fit_cycle_models(
        synthetic_rows(truth, counts, base), counts, base, FitOptions(per_element=False, fc_ratio=False)
    )
    assert fit.fc_ratio == 1.0
    assert all(core.cycles_per_element == 0.0 for core in fit.cores)


def test_bad_calibration_file(tmp_path: Path) -> None:
    path = tmp_path / "calibration.csv"
    path.write_text(
        "round,submitter,system_dir,core,mhz,stack,supply,benchmark,model_macs,latency_ms,energy_uJ,repo,"
        "perf_results_path,energy_results_path\nv0,x,board,M99,100,TFLM,,kws,1,1.0,,r,p,e\n"
    )
    with pytest.raises(ArenaError, match="calibration.csv: line 2: cannot read 'M99'"):
        read_calibration(path)


# -------------------------------------------------------------- the shipped coefficient file


@pytest.fixture
def calibration(
    shared_dir: Path,
) -> tuple[list[CalibrationRow], dict[str, ModelCounts], dict[str, CycleModel]]:
    rows = list(read_calibration(shared_dir.parent / "reference" / "mlperf_tiny_calibration.csv"))
    counts = calibration_counts(shared_dir)
    base = {core: load_cycle_model(core, CALIBRATED_KERNELS) for core in {row.core for row in rows}}
    return rows, counts, base


def test_only_tflm_rows_are_fitted(
    calibration: tuple[list[CalibrationRow], dict[str, ModelCounts], dict[str, CycleModel]],
) -> None:
    rows, _, _ = calibration
    assert len(rows) == 12
    assert sorted(row.system for row in rows if not row.is_tflm) == ["microtvm_cmsis_nn/NUCLEO_L4R5ZI"] * 4
    # The published MACs agree with arena's counts (the models behind the rows are the right ones).
    _, counts, _ = calibration
    assert all(counts[row.benchmark].macs == row.published_macs for row in rows)


def test_shipped_coefficients_are_the_fit(
    calibration: tuple[list[CalibrationRow], dict[str, ModelCounts], dict[str, CycleModel]],
) -> None:
    rows, counts, base = calibration
    fit = fit_cycle_models([row for row in rows if row.is_tflm], counts, base)
    for core in fit.cores:
        shipped = base[core.core]
        # The file keeps four significant digits.
        assert shipped.cycles_per_mac[OpKind.CONV].value == pytest.approx(core.cycles_per_mac, rel=5e-4)
        assert shipped.cycles_per_mac[OpKind.DEPTHWISE].value == pytest.approx(core.cycles_per_mac, rel=5e-4)
        fc = core.cycles_per_mac * fit.fc_ratio
        assert shipped.cycles_per_mac[OpKind.FULLY_CONNECTED].value == pytest.approx(fc, rel=5e-4)
        assert shipped.cycles_per_mac[OpKind.RECURRENT].value == pytest.approx(fc, rel=5e-4)
        assert shipped.cycles_per_element[OpKind.CONV].value == pytest.approx(core.cycles_per_element, rel=5e-4)
        reference = load_cycle_model(core.core, "reference")
        for kind, coefficient in shipped.cycles_per_mac.items():
            assert reference.cycles_per_mac[kind].value == pytest.approx(coefficient.value * CMSIS_NN_SPEEDUP, rel=5e-4)


def test_calibration_reproduced_within_tolerance(
    calibration: tuple[list[CalibrationRow], dict[str, ModelCounts], dict[str, CycleModel]],
) -> None:
    rows, counts, base = calibration
    tflm = [row for row in rows if row.is_tflm]
    power = board_power_mw(tflm)
    in_sample = predict_rows(tflm, counts, base, power)
    held_out = leave_one_out(tflm, counts, base)
    for predictions, tolerance in ((in_sample, IN_SAMPLE_TOLERANCE), (held_out, LEAVE_ONE_OUT_TOLERANCE)):
        for prediction in predictions:
            assert abs(prediction.latency_error) <= tolerance, prediction.row.label
            error = prediction.energy_error
            assert error is not None and abs(error) <= tolerance, prediction.row.label
    # The shipped file predicts as well as an exact refit (rounding to four digits costs nothing).
    refit = fitted_models(fit_cycle_models(tflm, counts, base), base)
    for shipped, exact in zip(in_sample, predict_rows(tflm, counts, refit, power), strict=True):
        assert shipped.latency_ms == pytest.approx(exact.latency_ms, rel=1e-3)
