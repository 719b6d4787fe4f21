"""Cycle models for every (software stack, core, board), from the shipped MLPerf Tiny calibration.

``calibration.json`` beside this module is written by ``python benchmarks/bench_cost.py
--write-calibration`` from ``../shared/reference/mlperf_tiny_cortexm.csv`` (arena.cost.calibrate);
``tests/cost/test_calibration.py`` refits it live and fails when it drifts. This module turns it
into an ordinary :class:`arena.cost.cycles.CycleModel` for one target::

    cycles per kind = core factor x board factor x the stack's shape (conv MAC, vector x matrix
                      MAC, conv output) ; the other kinds keep their estimates x the same factors

with an uncertainty band (a ratio: the 90th percentile of how far leave-one-board-out predictions
of that stack were off), and the board's active power with the rows it comes from.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from arena.cost.calibrate import (
    CALIBRATION_SCHEMA_VERSION,
    ELEMENT_C_KINDS,
    MAC_A_KINDS,
    MAC_B_KINDS,
    MIN_BAND_ROWS,
    estimate_model,
)
from arena.cost.cycles import Coefficient, CycleModel, CycleModelStatus
from arena.cost.macs import OpKind
from arena.cost.package_data import read_versioned
from arena.errors import ArenaError

#: The stack ``arena cost`` uses unless told otherwise, on cores whose catalog kernels are CMSIS-NN.
DEFAULT_STACK = "tflm-cmsis-nn"
#: TFLM with its reference kernels: never measured; derived from the TFLM + CMSIS-NN shape.
REFERENCE_STACK = "tflm-reference"
#: MAC cost of TFLM's reference kernels over CMSIS-NN's on a core with the DSP extension: the
#: speed-up the CMSIS-NN paper reports over a baseline (Lai, Suda, Chandra, arXiv:1801.06601).
REFERENCE_MAC_RATIO = 4.6
#: Names people read, by stack id prefix.
_DISPLAY = {
    "tflm-cmsis-nn": "TFLM + CMSIS-NN",
    "tflm-reference": "TFLM + reference kernels",
    "x-cube-ai": "ST X-CUBE-AI",
    "stedge-ai": "ST Edge AI (internal version)",
    "plumerai": "Plumerai Inference Engine",
    "bosch-hale": "Bosch HALE",
    "microtvm-cmsis-nn": "microTVM AoT + CMSIS-NN",
    "microtvm-native": "microTVM AoT, native schedules",
    "onnc-cmsis-nn": "Skymizer ONNC + CMSIS-NN",
}


@functools.cache
def calibration() -> dict[str, Any]:
    """The shipped calibration document (read once)."""
    return read_versioned("calibration.json", CALIBRATION_SCHEMA_VERSION)


def stack_ids() -> tuple[str, ...]:
    """Every stack ``--stack`` accepts: the measured ones and the derived reference-kernel one."""
    return (*sorted(calibration()["stacks"]), REFERENCE_STACK)


def display_name(stack: str) -> str:
    """``ST X-CUBE-AI 9.0`` for ``x-cube-ai-9.0``.

    Examples
    --------
    >>> display_name("x-cube-ai-9.0"), display_name("tflm-cmsis-nn")
    ('ST X-CUBE-AI 9.0', 'TFLM + CMSIS-NN')
    """
    for prefix, name in sorted(_DISPLAY.items(), key=lambda item: -len(item[0])):
        if stack == prefix:
            return name
        if stack.startswith(prefix + "-"):
            return f"{name} {stack[len(prefix) + 1 :]}"
    return stack


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerFigure:
    """Active power during inference, its range, and where it comes from."""

    power_mw: float
    low_mw: float
    high_mw: float
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StackModel:
    """A cycle model for one stack on one core (and board), its band and what it rests on."""

    stack: str
    stack_name: str
    versions: tuple[str, ...]
    cycle_model: CycleModel
    band: float
    band_source: str
    warnings: tuple[str, ...]


def _stack_entry(stack: str) -> dict[str, Any]:
    stacks = calibration()["stacks"]
    if stack not in stacks:
        raise ArenaError(f"unknown stack {stack!r}; available: {', '.join(stack_ids())}")
    entry: dict[str, Any] = stacks[stack]
    return entry


def _band(stack: str, core_entry: dict[str, Any]) -> tuple[float, str]:
    lobo = _stack_entry(stack)["lobo"]
    if lobo["rows"] >= MIN_BAND_ROWS:
        band, where = float(lobo["band"]), f"leave-one-board-out, {lobo['rows']} rows of this stack"
    else:
        pooled = calibration()["pooled_lobo"]
        band, where = float(pooled["band"]), f"leave-one-board-out, pooled over {pooled['rows']} rows of all stacks"
    if core_entry["status"] == "prior":
        spread = float(core_entry["prior"]["spread"])
        band *= spread
        where += f", x{spread:g} for the core factor not measured"
    return band, where


def stack_model(stack: str, core: str, *, board: str | None = None, dsp: bool = True) -> StackModel:
    """The cycle model of ``stack`` on ``core``; ``board`` (a measured board id) adds its factor.

    Raises
    ------
    ArenaError
        For an unknown stack or a core the calibration has no factor for.
    """
    document = calibration()
    derived_reference = stack == REFERENCE_STACK
    base_stack = DEFAULT_STACK if derived_reference else stack
    entry = _stack_entry(base_stack)
    core_entry = document["cores"].get(core)
    if core_entry is None:
        known = ", ".join(sorted(document["cores"]))
        raise ArenaError(f"no cost model for core {core!r}; cores with one: {known}")
    warnings = []
    core_factor = float(core_entry["factor"])
    board_entry = document["boards"].get(board) if board else None
    board_factor = 1.0
    board_note = "board not measured: board factor 1"
    if board_entry is not None:
        stack_factors = board_entry["stack_factors"]
        if base_stack in stack_factors:
            board_factor = float(stack_factors[base_stack])
            board_note = f"board factor {board_factor:.3g} from this stack's rows on {board}"
        else:
            board_factor = float(board_entry["factor"])
            board_note = f"board factor {board_factor:.3g} from other stacks' rows on {board}"
    shape = entry["shape"]
    mac_ratio = REFERENCE_MAC_RATIO if derived_reference and dsp else 1.0
    scale = core_factor * board_factor
    estimate = estimate_model()
    source_key = "calibration"
    sources = {
        source_key: f"arena/cost/calibration.json: {document['source']}",
        "estimate": "coefficients.toml estimates (cmsis-nn-loop-estimate, tflm-invoke-estimate)",
    }
    per_mac: dict[OpKind, Coefficient] = {}
    for kind in MAC_A_KINDS:
        per_mac[kind] = Coefficient(value=scale * mac_ratio * float(shape["mac_conv"]), source=source_key)
    for kind in MAC_B_KINDS:
        per_mac[kind] = Coefficient(value=scale * mac_ratio * float(shape["mac_vector_matrix"]), source=source_key)
    per_element: dict[OpKind, Coefficient] = {}
    for kind in OpKind:
        if kind in ELEMENT_C_KINDS:
            per_element[kind] = Coefficient(value=scale * float(shape["conv_output"]), source=source_key)
        else:
            per_element[kind] = Coefficient(value=scale * estimate.cycles_per_element[kind].value, source="estimate")
    calibrated = entry["supported"] and core_entry["status"] == "fitted" and not derived_reference
    if core_entry["status"] == "prior":
        warnings.append(
            f"{core} has no measured row: its core factor {core_factor:g} is {core_entry['prior']['source']}"
        )
    elif core not in entry["cores"]:
        warnings.append(
            f"{display_name(base_stack)} was never measured on a {core}: its shape is carried over by the"
            f" {core} factor fitted on other stacks"
        )
    if not entry["supported"]:
        warnings.append(
            f"{display_name(base_stack)} was measured on one board only ({', '.join(entry['boards'])}):"
            " no leave-one-board-out check, band pooled over all stacks"
        )
    if derived_reference:
        warnings.append(
            "TFLM reference kernels were never measured: TFLM + CMSIS-NN"
            + (
                f" MAC costs x {REFERENCE_MAC_RATIO:g} (CMSIS-NN paper, arXiv:1801.06601)"
                if dsp
                else " costs (no DSP path)"
            )
        )
    band, band_source = _band(base_stack, core_entry)
    if derived_reference:
        band *= 2.0
        band_source += ", x2 for the derived reference kernels"
    basis = (
        f"{display_name(stack)}; shape fitted to {entry['rows']} MLPerf Tiny rows on {len(entry['boards'])} board(s);"
        f" {core} factor {core_factor:.3g} ({core_entry['status']}); {board_note}"
    )
    model = CycleModel(
        core=core,
        kernels=stack,
        status=CycleModelStatus.CALIBRATED if calibrated else CycleModelStatus.DERIVED,
        basis=basis,
        cycles_per_mac=per_mac,
        cycles_per_element=per_element,
        cycles_per_op=Coefficient(value=scale * estimate.cycles_per_op.value, source="estimate"),
        sources=sources,
    )
    return StackModel(
        stack=stack,
        stack_name=display_name(stack),
        versions=tuple(entry["versions"]),
        cycle_model=model,
        band=band,
        band_source=band_source,
        warnings=tuple(warnings),
    )


def _lines(lines: list[int]) -> str:
    """``mlperf_tiny_cortexm.csv lines 2-5, 9; `` for the rows a figure averages ("" for none)."""
    if not lines:
        return ""
    runs: list[list[int]] = []
    for line in lines:
        if runs and line == runs[-1][-1] + 1:
            runs[-1].append(line)
        else:
            runs.append([line])
    spans = ", ".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)
    return f"{calibration()['source'].split(' ')[0]} lines {spans}; "


def _figure(entry: dict[str, Any], what: str) -> PowerFigure:
    return PowerFigure(
        power_mw=float(entry["power_mw"]),
        low_mw=float(entry["low_mw"]),
        high_mw=float(entry["high_mw"]),
        source=f"{what}: mean energy / latency of {entry['rows']} MLPerf Tiny rows ({entry['supply']}),"
        f" range {entry['low_mw']:.3g}-{entry['high_mw']:.3g} mW;"
        f" {_lines(entry['lines'])}{'; '.join(entry['sources'])}",
    )


def active_power(
    stack: str,
    core: str,
    *,
    board: str | None = None,
    catalog_mw: float | None = None,
    catalog_source: str | None = None,
) -> PowerFigure:
    """The board's active power: measured with this stack, else with any, else the catalog, else the core's default.

    A core default is the median of the measured boards of that core (range: lowest to highest
    board); a core with no measured board takes the median over every measured board.
    """
    document = calibration()
    board_entry = document["boards"].get(board) if board else None
    base_stack = DEFAULT_STACK if stack == REFERENCE_STACK else stack
    if board_entry is not None:
        if base_stack in board_entry["stack_power"]:
            return _figure(board_entry["stack_power"][base_stack], f"measured on {board} with this stack")
        if board_entry["power"] is not None:
            return _figure(board_entry["power"], f"measured on {board} with other stacks")
    if catalog_mw is not None:
        return PowerFigure(
            power_mw=catalog_mw,
            low_mw=catalog_mw,
            high_mw=catalog_mw,
            source=f"target catalog: {catalog_source or 'no source given'}",
        )
    defaults = document["core_power"]
    if core in defaults:
        entry = defaults[core]
        what = f"default for {core} (median of {len(entry['sources'])} measured board(s))"
    else:
        entry = defaults["*"]
        what = f"default for a core with no measured board (median of all {len(entry['sources'])} boards)"
    return _figure(entry, what)
