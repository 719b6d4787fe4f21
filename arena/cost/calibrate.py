"""Fit per-stack cycle shapes and per-core factors to the measured MLPerf Tiny rows; leave-one-board-out.

The model of one inference of a model on a board with stack ``s`` and core ``k``::

    cycles = f_k x g x (a_s x (conv + depthwise MACs) + b_s x (fully connected + recurrent MACs)
                        + c_s x (conv + depthwise output elements) + fixed)

* ``a_s, b_s, c_s`` (>= 0): the stack's **shape**, in Cortex-M4 cycles: what a conv MAC, a vector x
  matrix MAC and a conv output (requantization, im2col, loop set-up) cost in that engine.
* ``f_k``: the **core factor**, Cortex-M4 = 1, shared by all stacks. It is identifiable because
  X-CUBE-AI, Plumerai and Bosch HALE each ran on several cores.
* ``g``: a **board factor** for a board that was measured (flash wait states, caches, clock tree):
  the geometric mean residual of that board's rows with the chosen stack, else with any stack;
  1 for a board never measured. Leave-one-board-out predictions always use 1.
* ``fixed``: the estimated rest (elementwise, pooling, softmax, per-op overhead) from
  ``coefficients.toml`` (``cmsis-nn-loop-estimate``); under 1% of every calibration row.

Fitting alternates two exact steps until the parameters stop moving: each stack's shape is the
non-negative least-squares fit of its rows' *relative* errors given the core factors (all subsets
of the three parameters are solved and the best non-negative one kept), and each core factor is the
geometric mean of measured / predicted over its rows given the shapes. A core with no training
rows takes its prior (``CORE_PRIORS``), which names its source.

Leave-one-board-out (``leave_one_board_out``): for every board, refit without any of its rows (all
stacks), then predict them. A row whose stack was measured on no other board cannot be predicted
(its shape is unknown) and is reported as such, not guessed.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena.cost.cycles import CycleModel, load_cycle_model
from arena.cost.macs import ModelCounts, OpKind, count_model
from arena.cost.mlperf import BENCHMARK_MODELS, MeasuredRow
from arena.errors import ArenaError

#: The core whose factor is 1 (the best-measured one: 101 of the 227 rows).
REFERENCE_CORE = "cortex-m4"
#: Op kinds priced by the fitted shape; everything else is the estimated ``fixed`` part.
MAC_A_KINDS = (OpKind.CONV, OpKind.DEPTHWISE)
MAC_B_KINDS = (OpKind.FULLY_CONNECTED, OpKind.RECURRENT)
ELEMENT_C_KINDS = (OpKind.CONV, OpKind.DEPTHWISE)
#: Where the estimated per-element costs of the other kinds come from (their values are the
#: same in both shipped cmsis-nn models; see coefficients.toml).
ESTIMATE_MODEL = ("cortex-m33", "cmsis-nn")
#: At most this many alternations of the two fitting steps; they stop when no core factor moves
#: by more than FIT_TOLERANCE (relative) in one round.
FIT_ROUNDS = 5000
FIT_TOLERANCE = 1e-12
#: Quantile of |log(measured / predicted)| over leave-one-board-out rows that sets the band.
BAND_QUANTILE = 0.9


@dataclass(frozen=True, slots=True, kw_only=True)
class CorePrior:
    """A core factor not fitted from measurements, and by how much it may be off (a ratio)."""

    factor: float
    spread: float
    source: str


#: Core factors for cores with no (or, in a fold, no remaining) measured rows. Cortex-M4 = 1.
CORE_PRIORS: dict[str, CorePrior] = {
    "cortex-m4": CorePrior(factor=1.0, spread=1.0, source="the reference core: 1 by definition"),
    "cortex-m0plus": CorePrior(
        factor=5.0,
        spread=2.0,
        source=(
            "estimate from the instruction mix: Armv6-M has no SMLAD/SXTB16, so each int8 MAC is two"
            " byte loads, an offset add and a MULS/ADDS (about 6 cycles) against about 1.2 cycles per"
            " MAC of the Armv7E-M DSP path; chosen knowing the Bosch HALE M0+/M4 ratio (about 4.6),"
            " so the M0+ leave-one-board-out check is not blind"
        ),
    ),
    "cortex-m7": CorePrior(
        factor=0.6,
        spread=1.5,
        source="estimate: dual-issue Armv7E-M, about 1.6x the M4 per cycle on the same DSP code",
    ),
    "cortex-m33": CorePrior(
        factor=0.85,
        spread=1.5,
        source="estimate: Armv8-M Mainline with the same DSP instructions as the M4, shorter pipeline",
    ),
    "cortex-m55": CorePrior(
        factor=0.25,
        spread=2.0,
        source=(
            "derived, never measured (no MLPerf Tiny row on a Cortex-M55): Helium VMLADAVA retires 16 int8"
            " MACs per two-beat instruction (8 per cycle) against 2 per SMLAD on the M4; CMSIS-NN's MVE"
            " kernels keep the same requantization per output, so a 4x whole-model gain is assumed"
        ),
    ),
    "cortex-m85": CorePrior(
        factor=0.2,
        spread=2.0,
        source=(
            "derived, never measured (no MLPerf Tiny row on a Cortex-M85): the Cortex-M55's Helium"
            " throughput with an M7-class dual-issue scalar pipeline for the per-output work"
        ),
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Features:
    """What the fitted shape multiplies, for one model (section 2 of docs/cost-model.md)."""

    mac_a: float
    mac_b: float
    elements_c: float
    fixed: float

    def cycles(self, shape: Sequence[float]) -> float:
        """Reference-core cycles under a shape ``(a, b, c)``."""
        return shape[0] * self.mac_a + shape[1] * self.mac_b + shape[2] * self.elements_c + self.fixed


def estimate_model() -> CycleModel:
    """The cycle model whose estimated (not fitted) coefficients price the ``fixed`` part."""
    return load_cycle_model(*ESTIMATE_MODEL)


def features(counts: ModelCounts, estimate: CycleModel | None = None) -> Features:
    """The fit's features of counted work: MACs and elements by kind, plus the estimated rest."""
    base = estimate or estimate_model()
    mac_a = mac_b = elements_c = fixed = 0.0
    for op in counts.ops:
        fixed += base.cycles_per_op.value
        if op.kind in MAC_A_KINDS:
            mac_a += op.macs
        elif op.kind in MAC_B_KINDS:
            mac_b += op.macs
        if op.kind in ELEMENT_C_KINDS:
            elements_c += op.elements
        else:
            fixed += op.elements * base.cycles_per_element[op.kind].value
    return Features(mac_a=mac_a, mac_b=mac_b, elements_c=elements_c, fixed=fixed)


def benchmark_features(models_dir: Path) -> dict[str, Features]:
    """Features of the four MLPerf Tiny reference models in ``models_dir``."""
    base = estimate_model()
    result = {}
    for name, file in BENCHMARK_MODELS.items():
        from arena.model.reader import read_model

        result[name] = features(count_model(read_model(models_dir / file)), base)
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class Fit:
    """Fitted shapes per stack, factors per core, and residual factors per board and system."""

    shapes: Mapping[str, tuple[float, float, float]]
    core_factors: Mapping[str, float]
    fitted_cores: frozenset[str]
    board_factors: Mapping[str, float]
    system_factors: Mapping[tuple[str, str], float]

    def core_factor(self, core: str) -> float | None:
        """The fitted factor, else the prior, else None (a core the model knows nothing of)."""
        if core in self.core_factors:
            return self.core_factors[core]
        prior = CORE_PRIORS.get(core)
        return None if prior is None else prior.factor

    def predict(self, stack: str, core: str, work: Features, board: str | None = None) -> float | None:
        """Cycles of ``work``; None when the stack or core is unknown to this fit.

        With ``board`` the board's residual factor applies (its system factor with this stack
        when measured, else its factor over all its stacks).
        """
        shape = self.shapes.get(stack)
        factor = self.core_factor(core)
        if shape is None or factor is None:
            return None
        return factor * self.residual(stack, board) * work.cycles(shape)

    def residual(self, stack: str, board: str | None) -> float:
        """The board factor ``g`` for a stack on a board (1 when the board was not measured)."""
        if board is None:
            return 1.0
        return self.system_factors.get((stack, board), self.board_factors.get(board, 1.0))


def _nnls_relative(
    columns: Sequence[Sequence[float]], offsets: Sequence[float], measured: Sequence[float]
) -> list[float]:
    """min sum((sum_j x_j col_j + offset - y) / y)^2 over x >= 0, by solving every support set."""
    import numpy as np

    y = np.asarray(measured, dtype=float)
    design = np.asarray(columns, dtype=float).T / y[:, None]
    target = 1.0 - np.asarray(offsets, dtype=float) / y
    width = design.shape[1]
    best: tuple[float, list[float]] | None = None
    for size in range(width, 0, -1):
        for support in itertools.combinations(range(width), size):
            active = [j for j in support if design[:, j].any()]
            if len(active) != len(support):
                continue
            solution, *_ = np.linalg.lstsq(design[:, list(support)], target, rcond=None)
            if (solution < 0).any():
                continue
            full = np.zeros(width)
            full[list(support)] = solution
            error = float(((design @ full - target) ** 2).sum())
            if best is None or error < best[0] - 1e-15:
                best = (error, [float(v) for v in full])
    return best[1] if best is not None else [0.0] * width


def fit(rows: Sequence[MeasuredRow], work: Mapping[str, Features]) -> Fit:
    """Shapes and core factors for the used rows (see the module docstring)."""
    used = [row for row in rows if row.used]
    if not used:
        raise ArenaError("calibration: no usable measured rows")
    stacks = sorted({row.stack for row in used})
    cores = sorted({row.core for row in used})
    factors = {core: CORE_PRIORS[core].factor for core in cores}
    shapes: dict[str, tuple[float, float, float]] = {}
    by_stack = {stack: [row for row in used if row.stack == stack] for stack in stacks}
    by_core = {core: [row for row in used if row.core == core] for core in cores}
    # The reference core anchors the scale when present; otherwise the first core fitted does.
    anchor = REFERENCE_CORE if REFERENCE_CORE in cores else cores[0]
    for _ in range(FIT_ROUNDS):
        previous = dict(factors)
        for stack, members in by_stack.items():
            columns = [
                [factors[r.core] * work[r.benchmark].mac_a for r in members],
                [factors[r.core] * work[r.benchmark].mac_b for r in members],
                [factors[r.core] * work[r.benchmark].elements_c for r in members],
            ]
            offsets = [factors[r.core] * work[r.benchmark].fixed for r in members]
            a, b, c = _nnls_relative(columns, offsets, [r.cycles for r in members])
            shapes[stack] = (a, b, c)
        for core, members in by_core.items():
            if core == anchor:
                continue
            logs = [math.log(r.cycles / max(work[r.benchmark].cycles(shapes[r.stack]), 1e-9)) for r in members]
            factors[core] = math.exp(statistics.fmean(logs))
        if all(abs(factors[core] / previous[core] - 1.0) < FIT_TOLERANCE for core in cores):
            break
    fitted = Fit(
        shapes=shapes,
        core_factors=factors,
        fitted_cores=frozenset(cores),
        board_factors={},
        system_factors={},
    )
    return _with_residuals(fitted, used, work)


def _with_residuals(base: Fit, used: Sequence[MeasuredRow], work: Mapping[str, Features]) -> Fit:
    by_board: dict[str, list[float]] = defaultdict(list)
    by_system: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in used:
        predicted = base.predict(row.stack, row.core, work[row.benchmark])
        assert predicted is not None  # every used row's stack and core were fitted
        residual = math.log(row.cycles / predicted)
        by_board[row.board].append(residual)
        by_system[(row.stack, row.board)].append(residual)
    return Fit(
        shapes=base.shapes,
        core_factors=base.core_factors,
        fitted_cores=base.fitted_cores,
        board_factors={board: math.exp(statistics.fmean(v)) for board, v in by_board.items()},
        system_factors={key: math.exp(statistics.fmean(v)) for key, v in by_system.items()},
    )


# ----------------------------------------------------------------------------------------- power


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardPower:
    """Mean active power of a board over measured rows, and the rows it rests on."""

    power_mw: float
    low_mw: float
    high_mw: float
    rows: int
    supply: str
    sources: tuple[str, ...]
    #: Line numbers of the rows in the measurement file (empty for a per-core default).
    lines: tuple[int, ...] = ()


def _board_power(members: Sequence[MeasuredRow]) -> BoardPower:
    powers = [r.power_mw for r in members if r.power_mw is not None]
    supplies = sorted({r.supply for r in members if r.supply})
    return BoardPower(
        power_mw=statistics.fmean(powers),
        low_mw=min(powers),
        high_mw=max(powers),
        rows=len(powers),
        supply=", ".join(supplies) or "not stated",
        sources=tuple(sorted({r.source.rsplit("/", 3)[0] for r in members})),
        lines=tuple(sorted(r.line for r in members if r.power_mw is not None)),
    )


def power_tables(
    rows: Iterable[MeasuredRow],
) -> tuple[dict[tuple[str, str], BoardPower], dict[str, BoardPower], dict[str, BoardPower]]:
    """Measured power per (stack, board), per board (all stacks) and the per-core default.

    A core's default is over boards: the median of the boards' mean powers, with the lowest and
    highest board as its range; ``"*"`` holds the same over every board, for cores never measured.
    """
    measured = [r for r in rows if r.used and r.power_mw is not None]
    by_system: dict[tuple[str, str], list[MeasuredRow]] = defaultdict(list)
    by_board: dict[str, list[MeasuredRow]] = defaultdict(list)
    for row in measured:
        by_system[(row.stack, row.board)].append(row)
        by_board[row.board].append(row)
    systems = {key: _board_power(v) for key, v in by_system.items()}
    boards = {key: _board_power(v) for key, v in by_board.items()}
    core_of = {row.board: row.core for row in measured}
    cores: dict[str, BoardPower] = {}
    groups: dict[str, list[str]] = defaultdict(list)
    for board in boards:
        groups[core_of[board]].append(board)
        groups["*"].append(board)
    for core, names in groups.items():
        means = [boards[name].power_mw for name in names]
        cores[core] = BoardPower(
            power_mw=statistics.median(means),
            low_mw=min(means),
            high_mw=max(means),
            rows=sum(boards[name].rows for name in names),
            supply="various",
            sources=tuple(sorted(names)),
        )
    return systems, boards, cores


# --------------------------------------------------------------------------- leave one board out


@dataclass(frozen=True, slots=True, kw_only=True)
class LoboPrediction:
    """A measured row against the fit that never saw its board (None when it cannot predict)."""

    row: MeasuredRow
    in_sample_cycles: float
    cycles: float | None
    core_prior: bool
    energy_uj: float | None
    energy_board_power_uj: float | None

    @property
    def latency_ms(self) -> float | None:
        """Predicted latency at the row's clock."""
        return None if self.cycles is None else self.cycles / self.row.clock_hz * 1000.0

    @property
    def in_sample_error(self) -> float:
        """In-sample predicted / measured - 1 (board factor 1: the shape and core factors only)."""
        return self.in_sample_cycles / self.row.cycles - 1.0

    @property
    def latency_error(self) -> float | None:
        """Leave-one-board-out predicted / measured - 1."""
        return None if self.cycles is None else self.cycles / self.row.cycles - 1.0

    @property
    def energy_error(self) -> float | None:
        """Strict LOBO energy error: LOBO latency x the core's default power from other boards."""
        if self.energy_uj is None or self.row.energy_uj is None:
            return None
        return self.energy_uj / self.row.energy_uj - 1.0

    @property
    def energy_board_power_error(self) -> float | None:
        """LOBO latency x the board's own mean measured power (its catalog figure)."""
        if self.energy_board_power_uj is None or self.row.energy_uj is None:
            return None
        return self.energy_board_power_uj / self.row.energy_uj - 1.0


def leave_one_board_out(rows: Sequence[MeasuredRow], work: Mapping[str, Features]) -> tuple[LoboPrediction, ...]:
    """Every used row predicted by a fit without any row of its board (module docstring)."""
    used = [row for row in rows if row.used]
    whole = fit(used, work)
    _, all_boards, _ = power_tables(used)
    result = []
    for board in sorted({row.board for row in used}):
        train = [row for row in used if row.board != board]
        folded = fit(train, work)
        _, _, core_power = power_tables(train)
        for row in (r for r in used if r.board == board):
            in_sample = whole.predict(row.stack, row.core, work[row.benchmark])
            assert in_sample is not None
            cycles = folded.predict(row.stack, row.core, work[row.benchmark])
            latency = None if cycles is None else cycles / row.clock_hz * 1000.0
            default_power = core_power.get(row.core, core_power.get("*"))
            default = None if default_power is None else default_power.power_mw
            own = all_boards.get(row.board)
            result.append(
                LoboPrediction(
                    row=row,
                    in_sample_cycles=in_sample,
                    cycles=cycles,
                    core_prior=row.core not in folded.fitted_cores,
                    energy_uj=None if latency is None or default is None else latency * default,
                    energy_board_power_uj=None if latency is None or own is None else latency * own.power_mw,
                )
            )
    return tuple(result)


def ratio(error: float) -> float:
    """How many times off a relative error is, either way (``+100%`` and ``-50%`` are both 2x)."""
    value = 1.0 + error
    return max(value, 1.0 / value) if value > 0 else math.inf


def summarise(errors: Iterable[float | None]) -> dict[str, Any]:
    """Rows, median |error|, worst ratio and the band quantile of |log ratio| over the errors."""
    values = [e for e in errors if e is not None]
    if not values:
        return {"rows": 0, "median_abs": None, "worst_ratio": None, "band": None}
    logs = sorted(abs(math.log1p(e)) for e in values)
    index = min(len(logs) - 1, max(0, math.ceil(BAND_QUANTILE * len(logs)) - 1))
    return {
        "rows": len(values),
        "median_abs": statistics.median(abs(e) for e in values),
        "worst_ratio": max(ratio(e) for e in values),
        "band": math.exp(logs[index]),
    }


# ------------------------------------------------------------------------ the shipped calibration

#: Layout version of ``calibration.json``.
CALIBRATION_SCHEMA_VERSION = 1
#: A LOBO band needs this many predicted rows of the stack; fewer fall back to the pooled band.
MIN_BAND_ROWS = 4


def _stack_entry(
    stack: str, members: Sequence[MeasuredRow], shape: Sequence[float], lobo: dict[str, Any]
) -> dict[str, Any]:
    versions = sorted({f"{r.stack_text} (MLPerf Tiny {r.round_name}, {r.submitter})" for r in members})
    return {
        "versions": versions,
        "boards": sorted({r.board for r in members}),
        "cores": sorted({r.core for r in members}),
        "rows": len(members),
        "shape": {"mac_conv": shape[0], "mac_vector_matrix": shape[1], "conv_output": shape[2]},
        "lobo": lobo,
        "supported": lobo["rows"] > 0,
    }


def _power_entry(power: BoardPower) -> dict[str, Any]:
    return {
        "power_mw": power.power_mw,
        "low_mw": power.low_mw,
        "high_mw": power.high_mw,
        "rows": power.rows,
        "supply": power.supply,
        "sources": list(power.sources),
        "lines": list(power.lines),
    }


def calibration_document(
    rows: Sequence[MeasuredRow],
    work: Mapping[str, Features],
    source: str,
    lobo: Sequence[LoboPrediction] | None = None,
) -> dict[str, Any]:
    """What ``arena/cost/calibration.json`` holds: the whole-data fit, powers and LOBO bands.

    ``source`` names the measurement file; ``lobo`` reuses predictions already made for the same
    rows. Deterministic for the same rows, so a test can refit live and compare.
    """
    used = [row for row in rows if row.used]
    whole = fit(used, work)
    if lobo is None:
        lobo = leave_one_board_out(used, work)
    systems, boards, cores = power_tables(used)
    pooled = summarise(p.latency_error for p in lobo)
    stacks = {}
    for stack in sorted(whole.shapes):
        members = [r for r in used if r.stack == stack]
        summary = summarise(p.latency_error for p in lobo if p.row.stack == stack)
        stacks[stack] = _stack_entry(stack, members, whole.shapes[stack], summary)
    board_entries: dict[str, Any] = {}
    for board in sorted({r.board for r in used}):
        members = [r for r in used if r.board == board]
        board_entries[board] = {
            "core": members[0].core,
            "systems": sorted({r.system for r in members}),
            "factor": whole.board_factors[board],
            "stack_factors": {s: v for (s, b), v in sorted(whole.system_factors.items()) if b == board},
            "power": _power_entry(boards[board]) if board in boards else None,
            "stack_power": {s: _power_entry(p) for (s, b), p in sorted(systems.items()) if b == board},
        }
    return {
        "schema_version": CALIBRATION_SCHEMA_VERSION,
        "source": source,
        "rows": {"total": len(rows), "used": len(used)},
        "reference_core": REFERENCE_CORE,
        "estimate_model": "/".join(ESTIMATE_MODEL),
        "band_quantile": BAND_QUANTILE,
        "pooled_lobo": pooled,
        "cores": {
            core: {
                "factor": whole.core_factors[core] if core in whole.core_factors else CORE_PRIORS[core].factor,
                "status": "fitted" if core in whole.core_factors else "prior",
                "prior": {
                    "factor": CORE_PRIORS[core].factor,
                    "spread": CORE_PRIORS[core].spread,
                    "source": CORE_PRIORS[core].source,
                }
                if core in CORE_PRIORS
                else None,
                "rows": sum(1 for r in used if r.core == core),
            }
            for core in sorted({*whole.core_factors, *CORE_PRIORS})
        },
        "stacks": stacks,
        "boards": board_entries,
        "core_power": {core: _power_entry(p) for core, p in sorted(cores.items())},
    }
