"""The MLPerf Tiny Cortex-M calibration (arena.cost.mlperf, arena.cost.calibrate), checked live.

Everything compared here is computed in the test from ``../shared/reference/mlperf_tiny_cortexm.csv``
and the four reference models: the reader's board and stack names against the raw text, the fit
against synthetic rows made from known parameters, leave-one-board-out (LOBO) against its own
definition (a held-out board's figures cannot move its predictions), and the shipped
``calibration.json`` against a live refit. The one issue target the model does not reach is an
xfail(strict) test, so it turns red the day it is met and the docs must change.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import statistics
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from arena.cost.calibrate import (
    CORE_PRIORS,
    MIN_BAND_ROWS,
    Features,
    LoboPrediction,
    _nnls_relative,
    benchmark_features,
    calibration_document,
    fit,
    leave_one_board_out,
    power_tables,
    ratio,
    summarise,
)
from arena.cost.mlperf import BENCHMARK_MODELS, MeasuredRow, board_id, read_measurements, stack_id
from arena.errors import ArenaError
from conftest import shared_models_dir

TFLM = "tflm-cmsis-nn"


@pytest.fixture(scope="module")
def models_dir() -> Path:
    return shared_models_dir()


@pytest.fixture(scope="module")
def csv_path(models_dir: Path) -> Path:
    path = models_dir.parent / "reference" / "mlperf_tiny_cortexm.csv"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture(scope="module")
def rows(csv_path: Path) -> tuple[MeasuredRow, ...]:
    return read_measurements(csv_path)


@pytest.fixture(scope="module")
def work(models_dir: Path) -> dict[str, Features]:
    return benchmark_features(models_dir)


@pytest.fixture(scope="module")
def lobo(rows: tuple[MeasuredRow, ...], work: dict[str, Features]) -> tuple[LoboPrediction, ...]:
    return leave_one_board_out(rows, work)


# ------------------------------------------------------------------------------------ the reader


def test_every_row_is_read_with_its_published_figures(csv_path: Path, rows: tuple[MeasuredRow, ...]) -> None:
    with csv_path.open(newline="", encoding="utf-8") as handle:
        raw = list(csv.DictReader(handle))
    assert len(rows) == len(raw)
    for row, record in zip(rows, raw, strict=True):
        assert row.latency_ms == float(record["latency_ms"])
        # The file's own cycles column is latency x clock, which the reader recomputes.
        if record["cycles"]:
            assert row.cycles == pytest.approx(float(record["cycles"]), rel=1e-3)
        if record["energy_uJ"]:
            assert row.energy_uj == float(record["energy_uJ"])


def test_board_names_group_one_part_and_keep_parts_apart(rows: tuple[MeasuredRow, ...]) -> None:
    for row in rows:
        squashed = "".join(ch for ch in row.system.upper() if ch.isalnum())
        # Every directory naming the STM32L4R5ZI (whatever the separators and suffixes) is one board.
        assert (row.board == "stm32l4r5zi") == ("L4R5ZI" in squashed)
    assert board_id("NUCLEO_H7A3ZI_int8") == board_id("NUCLEO-H7A3ZI-Q_X-CUBE-AI-8.0") == "stm32h7a3zi"
    with pytest.raises(ArenaError, match="no known board"):
        board_id("SOME_OTHER_BOARD")


def test_stack_versions_stay_apart(rows: tuple[MeasuredRow, ...]) -> None:
    # X-CUBE-AI 7.3.0 and 8.0.0 are different stacks; every X-CUBE-AI row keeps its major.minor.
    for row in rows:
        if row.stack_text.startswith("X-CUBE-AI v"):
            version = row.stack_text.split("v", 1)[1].split(".")
            assert row.stack == f"x-cube-ai-{version[0]}.{version[1]}"
    assert stack_id("microTVM + CMSIS_NN") == "microtvm-cmsis-nn"
    assert stack_id("microTVM") == "microtvm-native"
    with pytest.raises(ArenaError, match="not a known inference engine"):
        stack_id("Someone's Engine 1.0")


def test_exclusions_are_the_accelerator_float_variant_and_internal_rows(rows: tuple[MeasuredRow, ...]) -> None:
    for row in rows:
        accelerator = "accel" in row.system.lower() or "MVP" in row.stack_text
        float_model = "float" in row.system.lower()
        variant = "max_performance" in row.system.lower() or "min_ram" in row.system.lower()
        internal = "Internal version" in row.stack_text
        assert row.used == (not (accelerator or float_model or variant or internal)), row.label
    # TFLM + CMSIS-NN rows (not the MVP accelerator ones) are all used: 4 benchmarks x 2 boards.
    tflm = [row for row in rows if row.stack == TFLM]
    assert len(tflm) == 8 and all(row.used for row in tflm)
    assert {row.board for row in tflm} == {"stm32l4r5zi", "ra6m4"}


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ArenaError, match="cannot read"):
        read_measurements(tmp_path / "absent.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("round,core\nv0.5,M4F\n")
    with pytest.raises(ArenaError, match="line 2"):
        read_measurements(bad)


# ------------------------------------------------------------------------------------- the fit


def test_nnls_keeps_coefficients_non_negative() -> None:
    # y = 2 x1 exactly; x2 is anti-correlated noise that unconstrained least squares would weight
    # negatively. Hand-worked: the best non-negative fit is (2, 0) with zero error.
    columns = [[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]
    result = _nnls_relative(columns, [0.0, 0.0, 0.0], [2.0, 4.0, 6.0])
    assert result == pytest.approx([2.0, 0.0])
    # A target that needs a negative x2 gets x2 = 0 instead.
    result = _nnls_relative(columns, [0.0, 0.0, 0.0], [1.0, 4.0, 7.0])
    assert min(result) >= 0.0


#: Synthetic core factors, away from CORE_PRIORS so that using a prior shows in the error.
TRUE_FACTORS = {"cortex-m4": 1.0, "cortex-m7": 0.5, "cortex-m33": 0.9}


def _synthetic_rows(work: dict[str, Features]) -> list[MeasuredRow]:
    """Rows whose cycles come from known shapes and core factors (the values below)."""
    shapes = {"engine-a": (1.5, 2.5, 40.0), "engine-b": (0.8, 3.0, 5.0)}
    factors = TRUE_FACTORS
    boards = {"cortex-m4": "b4", "cortex-m7": "b7", "cortex-m33": "b33"}
    rows = []
    for stack, shape in shapes.items():
        for core, factor in factors.items():
            for benchmark, features in work.items():
                cycles = factor * features.cycles(shape)
                rows.append(
                    MeasuredRow(
                        line=len(rows) + 2,
                        round_name="synthetic",
                        submitter="test",
                        system=f"{boards[core]}-{stack}",
                        board=boards[core],
                        core=core,
                        clock_hz=100_000_000,
                        stack=stack,
                        stack_text=stack,
                        supply="",
                        benchmark=benchmark,
                        published_macs=0,
                        latency_ms=cycles / 100_000,
                        energy_uj=None,
                        source="synthetic",
                        excluded=None,
                    )
                )
    return rows


def test_fit_recovers_known_shapes_and_factors(work: dict[str, Features]) -> None:
    fitted = fit(_synthetic_rows(work), work)
    assert fitted.core_factors["cortex-m7"] == pytest.approx(0.5, rel=1e-6)
    assert fitted.core_factors["cortex-m33"] == pytest.approx(0.9, rel=1e-6)
    assert fitted.shapes["engine-a"] == pytest.approx((1.5, 2.5, 40.0), rel=1e-6)
    assert fitted.shapes["engine-b"] == pytest.approx((0.8, 3.0, 5.0), rel=1e-6)
    # Exact data leave no residual for the board factors.
    assert all(value == pytest.approx(1.0) for value in fitted.board_factors.values())


def test_lobo_on_exact_data_errs_only_by_the_priors(work: dict[str, Features]) -> None:
    # Each held-out board is the only board of its core, so the fold cannot fit that core.
    # * M7 or M33 held out: the fold is exact on the rest and uses the prior for the held-out
    #   core, so the error is prior / true - 1.
    # * M4 held out: the fold anchors its scale on the first remaining core (cortex-m33) at its
    #   prior; shapes absorb true / prior of that core, and M4 (factor 1) inherits it.
    predictions = leave_one_board_out(_synthetic_rows(work), work)
    assert len(predictions) == 24
    for prediction in predictions:
        core = prediction.row.core
        assert prediction.core_prior and prediction.latency_error is not None
        if core == "cortex-m4":
            # Only approximately: the estimated ``fixed`` cycles are not scaled with the shapes,
            # and they are under 1% of every row, so the error is true / prior within 1e-3.
            expected = TRUE_FACTORS["cortex-m33"] / CORE_PRIORS["cortex-m33"].factor - 1.0
            assert prediction.latency_error == pytest.approx(expected, abs=1e-3)
        else:
            expected = CORE_PRIORS[core].factor / TRUE_FACTORS[core] - 1.0
            assert prediction.latency_error == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_fit_on_the_measurements_orders_the_cores(rows: tuple[MeasuredRow, ...], work: dict[str, Features]) -> None:
    fitted = fit(rows, work)
    factors = fitted.core_factors
    # Per cycle: M7 (dual issue) < M33 < M4 (= 1) < M0+ (no DSP extension).
    assert factors["cortex-m7"] < factors["cortex-m33"] < factors["cortex-m4"] == 1.0 < factors["cortex-m0plus"]
    assert all(min(shape) >= 0.0 for shape in fitted.shapes.values())


# --------------------------------------------------------------------------- leave one board out


def test_lobo_never_sees_the_held_out_board(rows: tuple[MeasuredRow, ...], work: dict[str, Features]) -> None:
    # Scaling every row of one board by 10 must not move that board's LOBO predictions at all.
    board = "stm32u575zi"
    changed = tuple(
        dataclasses.replace(row, latency_ms=row.latency_ms * 10) if row.board == board else row for row in rows
    )
    subset_before = [r for r in rows if r.used and r.board in {board, "stm32l4r5zi", "stm32h7a3zi", "ra6m4"}]
    subset_after = [r for r in changed if r.used and r.board in {board, "stm32l4r5zi", "stm32h7a3zi", "ra6m4"}]
    before = {p.row.line: p.cycles for p in leave_one_board_out(subset_before, work) if p.row.board == board}
    after = {p.row.line: p.cycles for p in leave_one_board_out(subset_after, work) if p.row.board == board}
    assert before and before == after


def test_lobo_predicts_every_row_of_a_stack_measured_on_two_boards(
    rows: tuple[MeasuredRow, ...], lobo: tuple[LoboPrediction, ...]
) -> None:
    boards_of: dict[str, set[str]] = {}
    for row in rows:
        if row.used:
            boards_of.setdefault(row.stack, set()).add(row.board)
    assert len(lobo) == sum(1 for row in rows if row.used)
    for prediction in lobo:
        several = len(boards_of[prediction.row.stack]) > 1
        assert (prediction.cycles is not None) == several, prediction.row.label


def test_no_supported_row_is_off_by_more_than_2x(lobo: tuple[LoboPrediction, ...]) -> None:
    # The issue's bound, on every leave-one-board-out prediction of a stack seen on 2+ boards.
    worst = max(ratio(p.latency_error) for p in lobo if p.latency_error is not None)
    assert worst <= 2.0


def test_lobo_is_worse_than_in_sample_and_within_the_stated_tolerance(lobo: tuple[LoboPrediction, ...]) -> None:
    predicted = [p for p in lobo if p.latency_error is not None]
    in_sample = statistics.median(abs(p.in_sample_error) for p in predicted)
    held_out = statistics.median(abs(p.latency_error) for p in predicted if p.latency_error is not None)
    assert in_sample < held_out
    # docs/cost-model.md states: LOBO median latency error within 15% over all supported rows,
    # within 50% on the TFLM + CMSIS-NN rows (whose two boards also differ in TFLM version).
    assert held_out <= 0.15
    tflm = summarise(p.latency_error for p in lobo if p.row.stack == TFLM)
    assert tflm["rows"] == 8 and tflm["median_abs"] <= 0.50


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 14 target not met (measured 41.1%): TFLM v2.3.1 (M4 board) vs 2021 TFLM (M33 board) confound",
)
def test_issue_target_tflm_lobo_latency_median_25_percent(lobo: tuple[LoboPrediction, ...]) -> None:
    tflm = summarise(p.latency_error for p in lobo if p.row.stack == TFLM)
    assert tflm["median_abs"] <= 0.25


def _tflm_energy_errors(lobo: tuple[LoboPrediction, ...], *, board_power: bool) -> list[float]:
    errors = []
    for p in lobo:
        predicted = p.energy_board_power_uj if board_power else p.energy_uj
        if p.row.stack == TFLM and predicted is not None and p.row.energy_uj:
            errors.append(abs(predicted / p.row.energy_uj - 1.0))
    return errors


def test_issue_target_tflm_lobo_energy_30_percent_with_the_boards_power(lobo: tuple[LoboPrediction, ...]) -> None:
    # LOBO latency x the held-out board's own mean power (what its catalog figure gives).
    errors = _tflm_energy_errors(lobo, board_power=True)
    assert len(errors) == 8
    assert statistics.median(errors) <= 0.30


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 14 target not met (measured 48.0%) when the held-out board's power is unseen too: power dominates",
)
def test_issue_target_tflm_lobo_energy_30_percent_power_unseen(lobo: tuple[LoboPrediction, ...]) -> None:
    errors = _tflm_energy_errors(lobo, board_power=False)
    assert len(errors) == 8
    assert statistics.median(errors) <= 0.30


def test_band_covers_its_quantile_of_lobo_rows(lobo: tuple[LoboPrediction, ...]) -> None:
    stacks = {p.row.stack for p in lobo if p.latency_error is not None}
    for stack in stacks:
        errors = [p.latency_error for p in lobo if p.row.stack == stack and p.latency_error is not None]
        if len(errors) < MIN_BAND_ROWS:
            continue
        band = summarise(errors)["band"]
        inside = sum(1 for e in errors if 1 / band - 1e-12 <= 1 + e <= band + 1e-12)
        assert inside / len(errors) >= 0.9


def test_energy_uses_the_held_out_boards_power_only_when_asked(
    rows: tuple[MeasuredRow, ...], lobo: tuple[LoboPrediction, ...]
) -> None:
    _, boards, _ = power_tables(rows)
    for p in lobo:
        if p.latency_ms is None or p.row.energy_uj is None:
            continue
        # Board-power energy = LOBO latency x the board's mean of energy / latency over its rows.
        own = statistics.fmean(
            r.energy_uj / r.latency_ms for r in rows if r.used and r.board == p.row.board and r.energy_uj
        )
        assert p.energy_board_power_uj == pytest.approx(p.latency_ms * own)
        assert boards[p.row.board].power_mw == pytest.approx(own)
        # Strict energy never uses this board's power: it is the same for any held-out power.
        other = [r.power_mw for r in rows if r.used and r.board != p.row.board and r.power_mw is not None]
        assert other and p.energy_uj is not None


# ----------------------------------------------------------------------------- shipped calibration


def _close(shipped: Any, live: Any, where: str = "") -> None:
    if isinstance(live, dict):
        assert set(shipped) == set(live), where
        for key in live:
            _close(shipped[key], live[key], f"{where}.{key}")
    elif isinstance(live, list):
        assert len(shipped) == len(live), where
        for index, (a, b) in enumerate(zip(shipped, live, strict=True)):
            _close(a, b, f"{where}[{index}]")
    elif isinstance(live, float):
        assert math.isclose(shipped, live, rel_tol=1e-6, abs_tol=1e-9), where
    else:
        assert shipped == live, where


def test_shipped_calibration_is_what_the_fit_gives(
    rows: tuple[MeasuredRow, ...], work: dict[str, Features], lobo: Sequence[LoboPrediction]
) -> None:
    shipped = json.loads(resources.files("arena.cost").joinpath("calibration.json").read_text(encoding="utf-8"))
    live = calibration_document(rows, work, shipped["source"], lobo)
    _close(shipped, live)


def test_benchmark_models_are_the_published_mac_counts(
    rows: tuple[MeasuredRow, ...], work: dict[str, Features]
) -> None:
    published = {row.benchmark: row.published_macs for row in rows}
    assert set(published) == set(BENCHMARK_MODELS)
    for benchmark, features in work.items():
        assert features.mac_a + features.mac_b == published[benchmark]
