"""Stack cycle models on catalog targets (arena.cost.stackmodel, arena.cost.stack_estimate, `arena cost`).

Expected values come from the measured CSV (computed here), from the stated formulas (energy =
latency x power; the reference-kernel ratio of the CMSIS-NN paper), or are properties (every
catalog core costs without an error; a band contains its estimate).
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena.cli import cli
from arena.cost.calibrate import benchmark_features, fit, power_tables
from arena.cost.macs import OpKind
from arena.cost.mlperf import BENCHMARK_MODELS, CATALOG_BOARDS, MeasuredRow, read_measurements
from arena.cost.stack_estimate import estimate_for_target
from arena.cost.stackmodel import REFERENCE_MAC_RATIO, REFERENCE_STACK, stack_ids, stack_model
from arena.errors import ArenaError
from arena.model import read_model
from arena.targets import choose_target, load_targets
from conftest import shared_models_dir

TFLM = "tflm-cmsis-nn"
KWS = "mlperf_kws_ref_model.tflite"


@pytest.fixture(scope="module")
def models_dir() -> Path:
    return shared_models_dir()


@pytest.fixture(scope="module")
def rows(models_dir: Path) -> tuple[MeasuredRow, ...]:
    path = models_dir.parent / "reference" / "mlperf_tiny_cortexm.csv"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return read_measurements(path)


def _cortex_targets() -> list[str]:
    return sorted(name for name, t in load_targets().items() if t.core.startswith("cortex-") and t.clock_hz)


@pytest.mark.parametrize("name", _cortex_targets())
def test_every_catalog_cortex_target_gets_a_cost(models_dir: Path, name: str) -> None:
    target = choose_target(name)
    cost = estimate_for_target(read_model(models_dir / KWS), target)
    assert cost.latency_ms > 0 and cost.energy_uj is not None and cost.energy_uj > 0
    assert cost.stack_name and cost.stack_versions and cost.power_source
    assert cost.band is not None and cost.band >= 1.0
    low, high = cost.latency_band_ms or (math.nan, math.nan)
    assert low <= cost.latency_ms <= high
    energy_low, energy_high = cost.energy_band_uj or (math.nan, math.nan)
    assert energy_low <= cost.energy_uj <= energy_high
    # Energy = latency x active power (mW x ms = uJ).
    assert cost.energy_uj == pytest.approx(cost.latency_ms * (cost.active_power_mw or 0.0))


@pytest.mark.parametrize("stack", stack_ids())
def test_every_stack_costs_on_the_helium_cores(models_dir: Path, stack: str) -> None:
    model = read_model(models_dir / KWS)
    for name in ("ek-ra8d1", "cortex-m55"):
        cost = estimate_for_target(model, choose_target(name), stack=stack)
        assert cost.latency_ms > 0
        # Neither core was ever measured: the warning says the core factor is not measured.
        assert any("has no measured row" in warning for warning in cost.warnings)


def test_core_ratio_is_the_fitted_core_factor_ratio(models_dir: Path, rows: tuple[MeasuredRow, ...]) -> None:
    # Generic cores (no board factor) at the same clock: cycles scale by the live-fitted factors.
    fitted = fit(rows, benchmark_features(models_dir))
    model = read_model(models_dir / KWS)
    m4 = estimate_for_target(model, choose_target("cortex-m4", clock_mhz=100))
    m7 = estimate_for_target(model, choose_target("cortex-m7", clock_mhz=100))
    expected = fitted.core_factors["cortex-m7"] / fitted.core_factors["cortex-m4"]
    assert m7.cycles / m4.cycles == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize(
    ("target", "stack"), [("nucleo-l4r5zi", TFLM), ("ek-ra6m4", TFLM), ("nucleo-h7a3zi", "x-cube-ai-9.0")]
)
def test_a_measured_system_reproduces_its_rows_on_average(
    models_dir: Path, rows: tuple[MeasuredRow, ...], target: str, stack: str
) -> None:
    # The board factor of a measured (stack, board) is the geometric mean of measured / predicted
    # over its rows, so the prediction on that system is exact in the geometric mean.
    board = CATALOG_BOARDS[target]
    measured = [r for r in rows if r.used and r.board == board and r.stack == stack]
    assert len(measured) >= 4
    logs = []
    for row in measured:
        spec = choose_target(target, clock_mhz=row.clock_hz / 1e6)
        cost = estimate_for_target(read_model(models_dir / BENCHMARK_MODELS[row.benchmark]), spec, stack=stack)
        logs.append(math.log(cost.latency_ms / row.latency_ms))
    assert statistics.fmean(logs) == pytest.approx(0.0, abs=1e-3)


def test_board_power_is_the_measured_mean_else_catalog_else_default(
    models_dir: Path, rows: tuple[MeasuredRow, ...]
) -> None:
    model = read_model(models_dir / KWS)
    # Nucleo-L4R5ZI with TFLM: mean energy / latency of its TFLM rows (MLPerf Tiny v0.5).
    tflm = [r.energy_uj / r.latency_ms for r in rows if r.stack == TFLM and r.board == "stm32l4r5zi" and r.energy_uj]
    cost = estimate_for_target(model, choose_target("nucleo-l4r5zi"))
    assert cost.active_power_mw == pytest.approx(statistics.fmean(tflm))
    assert "measured on stm32l4r5zi with this stack" in (cost.power_source or "")
    # Arduino Nano 33 BLE: never measured, so the catalog's datasheet figure.
    nano = choose_target("nano33ble")
    assert estimate_for_target(model, nano).active_power_mw == nano.active_power_mw
    # EK-RA8D1 (Cortex-M85): no board or core measured: the median over every measured board.
    _, boards, _ = power_tables(rows)
    cost = estimate_for_target(model, choose_target("ek-ra8d1"))
    assert cost.active_power_mw == pytest.approx(statistics.median(b.power_mw for b in boards.values()))
    assert cost.power_low_mw == pytest.approx(min(b.power_mw for b in boards.values()))


def test_reference_kernels_cost_the_paper_ratio_more_per_mac() -> None:
    cmsis = stack_model(TFLM, "cortex-m4").cycle_model
    reference = stack_model(REFERENCE_STACK, "cortex-m4", dsp=True).cycle_model
    for kind in (OpKind.CONV, OpKind.DEPTHWISE, OpKind.FULLY_CONNECTED):
        ratio = reference.cycles_per_mac[kind].value / cmsis.cycles_per_mac[kind].value
        assert ratio == pytest.approx(REFERENCE_MAC_RATIO)


def test_unknown_stack_and_core_are_one_line_errors(models_dir: Path) -> None:
    with pytest.raises(ArenaError, match="unknown stack 'nope'; available: .*tflm-cmsis-nn"):
        estimate_for_target(read_model(models_dir / KWS), choose_target("cortex-m4"), stack="nope")
    with pytest.raises(ArenaError, match="no cost model for core 'x86-64'"):
        stack_model(TFLM, "x86-64")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_cost_on_m85_shows_layers_band_and_stack(models_dir: Path) -> None:
    model = str(models_dir / KWS)
    code, out, _ = _run("cost", model, "--target", "ek-ra8d1", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema_version"] == 2 and doc["stack"]["id"] == TFLM and doc["stack"]["measured_versions"]
    low, high = doc["band"]["latency_ms"]
    assert low <= doc["total"]["latency_ms"] <= high
    # Per-layer latency and energy add up to the totals.
    assert sum(layer["latency_ms"] for layer in doc["layers"]) == pytest.approx(doc["total"]["latency_ms"], rel=1e-6)
    assert sum(layer["energy_uj"] for layer in doc["layers"]) == pytest.approx(doc["total"]["energy_uj"], rel=1e-6)
    # No QEMU M85: the Cortex-M55's Helium fit stands in for its instructions (named in the basis).
    assert sum(layer["instructions"] for layer in doc["layers"]) == doc["total"]["instructions"] > 0
    code, text, _ = _run("cost", model, "--target", "ek-ra8d1")
    assert code == 0 and "TFLM + CMSIS-NN on cortex-m85" in text and "band" in text
    code, text, _ = _run("cost", model, "--target", "nucleo-h7a3zi", "--stack", "x-cube-ai-9.0")
    assert code == 0 and "ST X-CUBE-AI 9.0" in text


def test_cli_cost_bad_stack_exits_2_with_one_line(models_dir: Path) -> None:
    code, _, err = _run("cost", str(models_dir / KWS), "--target", "ek-ra8d1", "--stack", "nope")
    assert code == 2 and err.startswith("arena: error: unknown stack 'nope'") and err.count("\n") == 1
