"""The measured MLPerf Tiny rows on Cortex-M boards: which board, core, software stack and figures.

``../shared/reference/mlperf_tiny_cortexm.csv`` holds 227 published MLPerf Tiny results (rounds
v0.5 to v1.3, mlcommons/tiny_results_v*) of the four reference models (ad, ic, kws, vww) on
Cortex-M boards, with many inference engines. This module reads it and names, for every row:

* the **board**: the physical part, whatever the submitter called its directory
  (``NUCLEO_L4R5ZI``, ``Nucleo-L4R5ZI``, ``NUCLEO-L4R5ZI_X-CUBE-AI-8.0`` and ``NUCLEO_L4R5ZI-P``
  are one STM32L4R5ZI board). Leave-one-board-out removes every row of that part.
* the **stack**: inference engine and version (``tflm-cmsis-nn``, ``x-cube-ai-9.0``, ...). The
  version matters: X-CUBE-AI 9.0 runs vww 2.9x faster than 7.1 on the same board.
* whether the row is **used** for calibration, and if not why: rows with an accelerator (the
  xG24's MVP), float models, one-row tuning variants (``_max_performance``, ``_min_ram``) of
  a stack that is otherwise measured in its default set-up, and ST's unreleased "STEDGE-AI
  Internal version" (three rows, no ad).

The file's figures are taken as published; ``cycles`` = latency x clock.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from arena.errors import ArenaError

#: The file's core column -> arena core name (the FPU does not matter to int8 work).
CORES = {"M0+": "cortex-m0plus", "M4": "cortex-m4", "M4F": "cortex-m4", "M7": "cortex-m7", "M33": "cortex-m33"}

#: Board id <- a token of the upper-cased, alphanumeric-only system directory. Order matters only
#: in that no token is a substring of another board's directory.
BOARD_TOKENS: tuple[tuple[str, str], ...] = (
    ("L4R5ZI", "stm32l4r5zi"),
    ("H7A3ZI", "stm32h7a3zi"),
    ("U575ZI", "stm32u575zi"),
    ("U585I", "stm32u585ai"),
    ("F746NG", "stm32f746ng"),
    ("G0B1RE", "stm32g0b1re"),
    ("U385RG", "stm32u385rg"),
    ("U3C5ZI", "stm32u3c5zi"),
    ("CY8CPROTO062", "psoc62"),
    ("RA6M4", "ra6m4"),
    ("XG24", "efr32mg24"),
)

#: Catalog target name (arena/targets/targets.toml) -> board id of its measurements.
CATALOG_BOARDS = {
    "nucleo-l4r5zi": "stm32l4r5zi",
    "nucleo-h7a3zi": "stm32h7a3zi",
    "nucleo-u575zi": "stm32u575zi",
    "nucleo-g0b1re": "stm32g0b1re",
    "disco-f746ng": "stm32f746ng",
    "ek-ra6m4": "ra6m4",
}

#: Benchmark name -> reference model file in ../shared/models (mlcommons/tiny trained_models).
BENCHMARK_MODELS = {
    "ad": "mlperf_ad01_int8.tflite",
    "ic": "mlperf_ic_pretrainedResnet_quant.tflite",
    "kws": "mlperf_kws_ref_model.tflite",
    "vww": "mlperf_vww_96_int8.tflite",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasuredRow:
    """One published (system, benchmark) result and what arena makes of it."""

    line: int
    round_name: str
    submitter: str
    system: str
    board: str
    core: str
    clock_hz: int
    stack: str
    stack_text: str
    supply: str
    benchmark: str
    published_macs: int
    latency_ms: float
    energy_uj: float | None
    source: str
    excluded: str | None

    @property
    def cycles(self) -> float:
        """Core cycles of one inference: latency x clock."""
        return self.latency_ms * self.clock_hz / 1000.0

    @property
    def power_mw(self) -> float | None:
        """Average power during inference, energy / latency (uJ / ms = mW), when measured."""
        return None if self.energy_uj is None else self.energy_uj / self.latency_ms

    @property
    def used(self) -> bool:
        """True when the row enters the calibration."""
        return self.excluded is None

    @property
    def label(self) -> str:
        """``round submitter system benchmark``, for tables and messages."""
        return f"{self.round_name} {self.submitter} {self.system} {self.benchmark}"


def board_id(system: str) -> str:
    """The physical board of a system directory.

    Examples
    --------
    >>> board_id("NUCLEO-L4R5ZI_X-CUBE-AI-8.0"), board_id("microtvm_cmsis_nn/NUCLEO_L4R5ZI")
    ('stm32l4r5zi', 'stm32l4r5zi')
    >>> board_id("cy8cproto_062_4343w")
    'psoc62'
    """
    squashed = re.sub(r"[^A-Z0-9]", "", system.upper())
    for token, board in BOARD_TOKENS:
        if token in squashed:
            return board
    raise ArenaError(f"measured system {system!r}: no known board in its name")


def stack_id(stack: str) -> str:
    """arena's name for a published stack string: engine and version.

    Examples
    --------
    >>> stack_id("TFLM v2.3.1 (TAGS=cmsis-nn), mbed-os"), stack_id("X-CUBE-AI v9.0.0")
    ('tflm-cmsis-nn', 'x-cube-ai-9.0')
    >>> stack_id("microTVM AoT native schedules (no CMSIS-NN), Zephyr")
    'microtvm-native'
    """
    text = stack.strip()
    lower = text.lower()
    if "gecko" in lower or "mvp" in lower:
        return "tflm-gecko-mvp"
    if lower.startswith("tflm"):
        return "tflm-cmsis-nn"
    if match := re.match(r"x-cube-ai v(\d+)\.(\d+)", lower):
        return f"x-cube-ai-{match.group(1)}.{match.group(2)}"
    if lower.startswith("stedge-ai"):
        return "stedge-ai"
    if lower.startswith("plumerai"):
        return "plumerai-2023.05" if "2023.05" in lower else "plumerai-2022"
    if lower.startswith("bosch hale"):
        return "bosch-hale-1.0.175" if "1.0.175" in lower else "bosch-hale-1.0"
    if "microtvm" in lower:
        native = "native" in lower or "cmsis" not in lower
        return "microtvm-native" if native else "microtvm-cmsis-nn"
    if lower.startswith("onnc"):
        return "onnc-cmsis-nn"
    raise ArenaError(f"measured stack {stack!r}: not a known inference engine")


def _excluded(system: str, stack: str, core_text: str) -> str | None:
    lower = system.lower()
    if stack == "tflm-gecko-mvp" or "accel" in core_text.lower():
        return "runs on the MVP accelerator, not the Cortex-M core"
    if stack == "stedge-ai":
        return "unreleased internal stack version, measured without ad: its vector x matrix cost is unknown"
    if "float" in lower:
        return "float model, not the int8 reference model"
    for variant in ("max_performance", "min_ram"):
        if variant in lower:
            return f"one-row tuning variant ({variant}) of a stack measured in its default set-up"
    return None


def read_measurements(path: Path) -> tuple[MeasuredRow, ...]:
    """Every row of the measured MLPerf Tiny file, with board, stack and exclusion named.

    Raises
    ------
    ArenaError
        When the file is missing, lacks a column, or has an unknown core, board or stack.
    """
    rows = []
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as error:
        raise ArenaError(f"{path}: cannot read ({error.strerror})") from None
    with handle:
        for line, record in enumerate(csv.DictReader(handle), start=2):
            try:
                core_text = record["core"].strip()
                stack = stack_id(record["stack"])
                core = CORES.get(core_text.split()[0])
                if core is None:
                    raise ArenaError(f"unknown core {core_text!r}")
                energy = record["energy_uJ"].strip()
                rows.append(
                    MeasuredRow(
                        line=line,
                        round_name=record["round"],
                        submitter=record["submitter"],
                        system=record["system_dir"],
                        board=board_id(record["system_dir"]),
                        core=core,
                        clock_hz=round(float(record["mhz"]) * 1_000_000),
                        stack=stack,
                        stack_text=record["stack"],
                        supply=record["supply"].strip(),
                        benchmark=record["benchmark"],
                        published_macs=int(record["model_macs"]),
                        latency_ms=float(record["latency_ms"]),
                        energy_uj=float(energy) if energy else None,
                        source=f"{record['repo']}:{record['perf_results_path']}",
                        excluded=_excluded(record["system_dir"], stack, core_text),
                    )
                )
            except (KeyError, ValueError, ArenaError) as error:
                raise ArenaError(f"{path.name}: line {line}: cannot read {error}") from None
    if not rows:
        raise ArenaError(f"{path.name}: no measured rows")
    unknown = sorted({row.benchmark for row in rows} - set(BENCHMARK_MODELS))
    if unknown:
        raise ArenaError(f"{path.name}: unknown benchmark(s) {', '.join(unknown)}")
    return tuple(rows)
