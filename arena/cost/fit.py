"""Fit the calibrated cycle models to measured MLPerf Tiny latencies, and check them.

The fitted structure, per core ``k`` with one ratio shared by all cores::

    cycles = a_k x (conv + depthwise MACs) + rho x a_k x (fully connected + recurrent MACs)
             + c_k x (conv + depthwise output elements) + fixed

``a_k`` is the cost of a MAC in the im2col / depthwise kernels, ``c_k`` a cost per output element
of those kernels (their epilogue, im2col and loop set-up: what makes thin layers dear per MAC),
and ``rho`` how a MAC of the vector x matrix kernel compares with a conv MAC. ``fixed`` is
everything the file takes from estimates (elementwise, pooling, softmax, per-op overhead).
Parameters minimise the squared *relative* error, since latencies span three orders of magnitude.

Only TFLM rows are fitted. The microTVM rows run the same CMSIS-NN kernels without TFLM (ahead-of-
time compiled, a newer CMSIS-NN, Zephyr) and measure 1.2-2x faster than TFLM on the same board:
mixed into a TFLM fit they would describe neither stack (docs/cost-model.md).

Energy uses no fit: a board's effective active power is the mean of energy / latency over its
rows, and a predicted energy is that power x the predicted latency.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from arena.cost.cycles import Coefficient, CycleModel
from arena.cost.estimate import cost_from_counts
from arena.cost.macs import ModelCounts, OpKind, count_model
from arena.errors import ArenaError
from arena.model.reader import read_model

#: The calibration file's core column -> arena core name (the FPU does not matter to int8 work).
CORE_NAMES = {"M4": "cortex-m4", "M4F": "cortex-m4", "M33": "cortex-m33"}
#: Benchmark name -> reference model file in ../shared/models (mlcommons/tiny trained_models).
BENCHMARK_MODELS = {
    "ad": "mlperf_ad01_int8.tflite",
    "ic": "mlperf_ic_pretrainedResnet_quant.tflite",
    "kws": "mlperf_kws_ref_model.tflite",
    "vww": "mlperf_vww_96_int8.tflite",
}
#: Kernel library of every calibration row (all run CMSIS-NN).
CALIBRATED_KERNELS = "cmsis-nn"
#: Op kinds whose coefficients the fit sets (the rest come from the file).
FITTED_MAC_KINDS = (OpKind.CONV, OpKind.DEPTHWISE)
RATIO_MAC_KINDS = (OpKind.FULLY_CONNECTED, OpKind.RECURRENT)
FITTED_ELEMENT_KINDS = (OpKind.CONV, OpKind.DEPTHWISE)
#: Search range and resolution for the shared ratio (a log grid, then golden-section refinement).
_RATIO_RANGE = (0.05, 20.0)
_RATIO_GRID_POINTS = 801


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationRow:
    """One measured (board, benchmark) result from the calibration file."""

    round_name: str
    submitter: str
    system: str
    core: str
    clock_hz: int
    stack: str
    benchmark: str
    published_macs: int
    latency_ms: float
    energy_uj: float | None
    source: str

    @property
    def board(self) -> str:
        """The physical board, the same for TFLM and microTVM systems (``NUCLEO_L4R5ZI``)."""
        return self.system.rsplit("/", 1)[-1].upper().replace("-", "_")

    @property
    def is_tflm(self) -> bool:
        """True for TFLM rows, the ones the fit uses."""
        return "microtvm" not in self.stack.lower()

    @property
    def label(self) -> str:
        """``system benchmark``, for tables and messages."""
        return f"{self.system} {self.benchmark}"


def read_calibration(path: Path) -> tuple[CalibrationRow, ...]:
    """The rows of ``mlperf_tiny_calibration.csv``.

    Raises
    ------
    ArenaError
        When the file is missing a column, has an unknown core or a non-numeric figure.
    """
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for line, record in enumerate(csv.DictReader(handle), start=2):
            try:
                energy = record["energy_uJ"].strip()
                rows.append(
                    CalibrationRow(
                        round_name=record["round"],
                        submitter=record["submitter"],
                        system=record["system_dir"],
                        core=CORE_NAMES[record["core"]],
                        clock_hz=round(float(record["mhz"]) * 1_000_000),
                        stack=record["stack"],
                        benchmark=record["benchmark"],
                        published_macs=int(record["model_macs"]),
                        latency_ms=float(record["latency_ms"]),
                        energy_uj=float(energy) if energy else None,
                        source=f"{record['repo']}:{record['perf_results_path']}",
                    )
                )
            except (KeyError, ValueError) as error:
                raise ArenaError(f"{path.name}: line {line}: cannot read {error}") from error
    return tuple(rows)


def calibration_counts(models_dir: Path) -> dict[str, ModelCounts]:
    """Counts of the four MLPerf Tiny reference models, keyed by benchmark name."""
    return {name: count_model(read_model(models_dir / file)) for name, file in BENCHMARK_MODELS.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class FitOptions:
    """Which parameters the fit may use; switching one off shows what it buys (bench_cost.py)."""

    #: Fit ``c_k``, the conv/depthwise cost per output element (else it is held at 0).
    per_element: bool = True
    #: Fit ``rho``, fully connected vs conv cost per MAC (else it is held at 1).
    fc_ratio: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreFit:
    """The two per-core parameters: conv/depthwise cycles per MAC and per output element."""

    core: str
    cycles_per_mac: float
    cycles_per_element: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleFit:
    """Fitted parameters: per-core ``a`` and ``c``, and the shared fully-connected ratio."""

    fc_ratio: float
    cores: tuple[CoreFit, ...]

    def for_core(self, core: str) -> CoreFit:
        """The parameters of one core; ArenaError when the fit had no row on it."""
        for fitted in self.cores:
            if fitted.core == core:
                return fitted
        raise ArenaError(f"the fit has no calibration row on core {core!r}")


def _with_values(base: CycleModel, mac: float, element: float, fc_ratio: float) -> CycleModel:
    """``base`` with the fitted coefficients set (sources kept)."""

    def set_value(
        table: Mapping[OpKind, Coefficient], kinds: Iterable[OpKind], value: float
    ) -> dict[OpKind, Coefficient]:
        updated = dict(table)
        for kind in kinds:
            source = table[kind].source if kind in table else "fit"
            updated[kind] = Coefficient(value=value, source=source)
        return updated

    per_mac = set_value(base.cycles_per_mac, FITTED_MAC_KINDS, mac)
    per_mac = set_value(per_mac, RATIO_MAC_KINDS, mac * fc_ratio)
    per_element = set_value(base.cycles_per_element, FITTED_ELEMENT_KINDS, element)
    return replace(base, cycles_per_mac=per_mac, cycles_per_element=per_element)


def apply_fit(base: CycleModel, fit: CycleFit) -> CycleModel:
    """The cycle model ``base`` with the fitted values of its core."""
    core = fit.for_core(base.core)
    return _with_values(base, core.cycles_per_mac, core.cycles_per_element, fit.fc_ratio)


@dataclass(frozen=True, slots=True)
class _Sample:
    """One row reduced to the fit's features, all in cycles or counts."""

    core: str
    conv_macs: int
    fc_macs: int
    conv_elements: int
    fixed_cycles: float
    measured_cycles: float


def _sample(row: CalibrationRow, counts: ModelCounts, base: CycleModel) -> _Sample:
    fixed = cost_from_counts(counts, _with_values(base, 0.0, 0.0, 0.0), clock_hz=row.clock_hz).cycles
    return _Sample(
        core=row.core,
        conv_macs=sum(op.macs for op in counts.ops if op.kind in FITTED_MAC_KINDS),
        fc_macs=sum(op.macs for op in counts.ops if op.kind in RATIO_MAC_KINDS),
        conv_elements=sum(op.elements for op in counts.ops if op.kind in FITTED_ELEMENT_KINDS),
        fixed_cycles=fixed,
        measured_cycles=row.latency_ms / 1000.0 * row.clock_hz,
    )


def _solve_core(samples: Sequence[_Sample], fc_ratio: float, per_element: bool) -> tuple[float, float, float]:
    """Least relative squares for (a, c) >= 0 given the ratio: (a, c, sum of squared errors)."""
    x1 = [(s.conv_macs + fc_ratio * s.fc_macs) / s.measured_cycles for s in samples]
    x2 = [s.conv_elements / s.measured_cycles for s in samples]
    target = [1.0 - s.fixed_cycles / s.measured_cycles for s in samples]
    s11 = sum(v * v for v in x1)
    s22 = sum(v * v for v in x2)
    s12 = sum(u * v for u, v in zip(x1, x2, strict=True))
    t1 = sum(u * t for u, t in zip(x1, target, strict=True))
    t2 = sum(v * t for v, t in zip(x2, target, strict=True))
    if not per_element:
        a = max(t1 / s11, 0.0) if s11 else 0.0
        return a, 0.0, _sse(x1, x2, target, a, 0.0)
    det = s11 * s22 - s12 * s12
    a = c = -1.0
    if det > 1e-12 * max(s11 * s22, 1e-300):
        a, c = (t1 * s22 - t2 * s12) / det, (t2 * s11 - t1 * s12) / det
    if a < 0 or c < 0:  # the unconstrained optimum leaves the feasible region: fix c or a at 0
        candidates = [(t1 / s11 if s11 else 0.0, 0.0), (0.0, t2 / s22 if s22 else 0.0)]
        a, c = min(candidates, key=lambda ac: _sse(x1, x2, target, *ac))
        a, c = max(a, 0.0), max(c, 0.0)
    return a, c, _sse(x1, x2, target, a, c)


def _sse(x1: list[float], x2: list[float], target: list[float], a: float, c: float) -> float:
    return sum((a * u + c * v - t) ** 2 for u, v, t in zip(x1, x2, target, strict=True))


def _total_sse(by_core: Mapping[str, list[_Sample]], fc_ratio: float, per_element: bool) -> float:
    return sum(_solve_core(samples, fc_ratio, per_element)[2] for samples in by_core.values())


def _best_ratio(by_core: Mapping[str, list[_Sample]], options: FitOptions) -> float:
    if not options.fc_ratio or not any(s.fc_macs for samples in by_core.values() for s in samples):
        return 1.0  # held, or no fully connected work to fit: the ratio cannot matter
    low, high = (math.log(bound) for bound in _RATIO_RANGE)
    grid = [low + (high - low) * i / (_RATIO_GRID_POINTS - 1) for i in range(_RATIO_GRID_POINTS)]
    errors = [_total_sse(by_core, math.exp(x), options.per_element) for x in grid]
    best = min(range(len(grid)), key=errors.__getitem__)
    left, right = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    golden = (math.sqrt(5) - 1) / 2
    for _ in range(60):
        x1, x2 = right - golden * (right - left), left + golden * (right - left)
        sse1 = _total_sse(by_core, math.exp(x1), options.per_element)
        if sse1 <= _total_sse(by_core, math.exp(x2), options.per_element):
            right = x2
        else:
            left = x1
    return math.exp((left + right) / 2)


def fit_cycle_models(
    rows: Sequence[CalibrationRow],
    counts: Mapping[str, ModelCounts],
    base_models: Mapping[str, CycleModel],
    options: FitOptions = FitOptions(),
) -> CycleFit:
    """Fit per-core ``a``, ``c`` and the shared ratio to the given rows' latencies.

    Parameters
    ----------
    rows
        The rows to fit (normally the TFLM rows; see the module docstring).
    counts
        Model counts by benchmark name (:func:`calibration_counts`).
    base_models
        The shipped cycle model of each core, whose non-fitted coefficients make ``fixed``.
    options
        Which parameters to fit (all by default).

    Raises
    ------
    ArenaError
        When a row's benchmark or core has no counts or base model.
    """
    by_core: dict[str, list[_Sample]] = {}
    for row in rows:
        if row.benchmark not in counts or row.core not in base_models:
            raise ArenaError(f"calibration row {row.label}: no model counts or cycle model for it")
        by_core.setdefault(row.core, []).append(_sample(row, counts[row.benchmark], base_models[row.core]))
    ratio = _best_ratio(by_core, options)
    cores = []
    for core, samples in sorted(by_core.items()):
        a, c, _ = _solve_core(samples, ratio, options.per_element)
        cores.append(CoreFit(core=core, cycles_per_mac=a, cycles_per_element=c))
    return CycleFit(fc_ratio=ratio, cores=tuple(cores))


def board_power_mw(rows: Iterable[CalibrationRow]) -> dict[str, float]:
    """Effective active power of each board: the mean of energy / latency over its rows (mW).

    uJ / ms = mW. Boards without an energy figure are left out.
    """
    ratios: dict[str, list[float]] = {}
    for row in rows:
        if row.energy_uj is not None and row.latency_ms > 0:
            ratios.setdefault(row.board, []).append(row.energy_uj / row.latency_ms)
    return {board: sum(values) / len(values) for board, values in ratios.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class RowPrediction:
    """Predicted latency and energy for one calibration row, beside the measurement."""

    row: CalibrationRow
    latency_ms: float
    energy_uj: float | None
    active_power_mw: float | None

    @property
    def latency_error(self) -> float:
        """predicted / measured - 1."""
        return self.latency_ms / self.row.latency_ms - 1.0

    @property
    def energy_error(self) -> float | None:
        """predicted / measured - 1, None when either energy is unknown."""
        if self.energy_uj is None or self.row.energy_uj is None:
            return None
        return self.energy_uj / self.row.energy_uj - 1.0


def predict_rows(
    rows: Iterable[CalibrationRow],
    counts: Mapping[str, ModelCounts],
    models: Mapping[str, CycleModel],
    power_mw: Mapping[str, float],
) -> tuple[RowPrediction, ...]:
    """Predict each row with the cycle model of its core and the active power of its board."""
    predictions = []
    for row in rows:
        power = power_mw.get(row.board)
        cost = cost_from_counts(counts[row.benchmark], models[row.core], clock_hz=row.clock_hz, active_power_mw=power)
        predictions.append(
            RowPrediction(row=row, latency_ms=cost.latency_ms, energy_uj=cost.energy_uj, active_power_mw=power)
        )
    return tuple(predictions)


def fitted_models(fit: CycleFit, base_models: Mapping[str, CycleModel]) -> dict[str, CycleModel]:
    """The base model of every fitted core with the fit applied, keyed by core."""
    return {core.core: apply_fit(base_models[core.core], fit) for core in fit.cores}


def leave_one_out(
    rows: Sequence[CalibrationRow],
    counts: Mapping[str, ModelCounts],
    base_models: Mapping[str, CycleModel],
    options: FitOptions = FitOptions(),
) -> tuple[RowPrediction, ...]:
    """Predict each row from a fit (and board powers) that never saw it."""
    predictions: list[RowPrediction] = []
    for held_out in rows:
        others = [row for row in rows if row is not held_out]
        fit = fit_cycle_models(others, counts, base_models, options)
        predictions.extend(predict_rows([held_out], counts, fitted_models(fit, base_models), board_power_mw(others)))
    return tuple(predictions)


def error_summary(errors: Iterable[float | None]) -> tuple[float, float]:
    """(largest absolute, root mean square) of the known relative errors; (nan, nan) if none."""
    known = [error for error in errors if error is not None]
    if not known:
        return math.nan, math.nan
    return max(abs(e) for e in known), math.sqrt(sum(e * e for e in known) / len(known))
