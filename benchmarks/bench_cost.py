"""Predicted vs measured latency and energy for every MLPerf Tiny Cortex-M row, leave-one-board-out.

Reads ``../shared/reference/mlperf_tiny_cortexm.csv`` (227 published rows, arena.cost.mlperf), fits
the per-stack shapes and per-core factors (arena.cost.calibrate) and prints, for every row:

* in-sample: the fit on all rows (shape x core factor, board factor 1), predicted / measured - 1;
* LOBO: a fit that saw no row of the row's board (any stack), predicted / measured - 1;
* energy, strict: LOBO latency x the core's default power from the *other* boards;
* energy, board power: LOBO latency x the board's own mean measured power (what its catalog entry
  holds), i.e. the energy error when the board's power is known but its latency is not.

Then medians per stack, per core and per (stack, core), and the issue's targets on the TFLM rows.
Writes ``benchmarks/results/bench_cost.json``; with ``--write-calibration`` also rewrites the
shipped ``arena/cost/calibration.json`` (tests/cost/test_calibration.py checks it is current).

    python benchmarks/bench_cost.py [--measurements CSV] [--models DIR] [--write-calibration]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from arena._io import write_atomic  # noqa: E402
from arena.cost.calibrate import (  # noqa: E402
    LoboPrediction,
    benchmark_features,
    calibration_document,
    fit,
    leave_one_board_out,
    summarise,
)
from arena.cost.mlperf import MeasuredRow, read_measurements  # noqa: E402

SHARED = ROOT.parent / "shared"
#: The issue's targets on TFLM + CMSIS-NN rows, and for every row of a supported stack.
TARGET_LATENCY = 0.25
TARGET_ENERGY = 0.30
TARGET_WORST_RATIO = 2.0
TFLM = "tflm-cmsis-nn"


def _pct(value: float | None) -> str:
    return "      -" if value is None else f"{value:+7.1%}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}" if value >= 100 else f"{value:.3f}"


def _row_record(p: LoboPrediction) -> dict[str, Any]:
    row = p.row
    return {
        "line": row.line,
        "round": row.round_name,
        "submitter": row.submitter,
        "system": row.system,
        "board": row.board,
        "core": row.core,
        "clock_hz": row.clock_hz,
        "stack": row.stack,
        "stack_text": row.stack_text,
        "benchmark": row.benchmark,
        "source": row.source,
        "measured_latency_ms": row.latency_ms,
        "in_sample_latency_ms": p.in_sample_cycles / row.clock_hz * 1000.0,
        "in_sample_error": p.in_sample_error,
        "lobo_latency_ms": p.latency_ms,
        "lobo_latency_error": p.latency_error,
        "lobo_core_factor_prior": p.core_prior,
        "measured_energy_uj": row.energy_uj,
        "lobo_energy_uj": p.energy_uj,
        "lobo_energy_error": p.energy_error,
        "lobo_energy_board_power_uj": p.energy_board_power_uj,
        "lobo_energy_board_power_error": p.energy_board_power_error,
    }


def _print_rows(predictions: tuple[LoboPrediction, ...], excluded: list[MeasuredRow]) -> None:
    header = (
        f"{'line':>4} {'stack':18} {'board':12} {'core':13} {'bench':5} | {'meas ms':>9} {'in-smp':>7}"
        f" {'LOBO ms':>9} {'LOBO':>7} | {'meas uJ':>9} {'E strict':>8} {'E brd-P':>8}"
    )
    print(header)
    print("-" * len(header))
    for p in sorted(predictions, key=lambda q: (q.row.stack, q.row.board, q.row.line)):
        row = p.row
        mark = " (core prior)" if p.core_prior else ""
        mark += "" if p.cycles is not None else " (stack seen on this board only: no LOBO)"
        print(
            f"{row.line:>4} {row.stack[:18]:18} {row.board[:12]:12} {row.core[:13]:13} {row.benchmark:5} |"
            f" {_ms(row.latency_ms):>9} {_pct(p.in_sample_error)} {_ms(p.latency_ms):>9} {_pct(p.latency_error)} |"
            f" {_ms(row.energy_uj):>9} {_pct(p.energy_error):>8} {_pct(p.energy_board_power_error):>8}{mark}"
        )
    print(f"\n{len(excluded)} rows not used (reason):")
    for row in excluded:
        print(f"{row.line:>4} {row.system[:40]:40} {row.benchmark:5} {_ms(row.latency_ms):>9} ms  {row.excluded}")


def _group_table(title: str, groups: dict[str, list[LoboPrediction]]) -> dict[str, Any]:
    print(f"\n{title}")
    header = (
        f"  {'group':34} {'rows':>4} {'in-smp med':>10} | {'LOBO n':>6} {'lat med':>8} {'worst x':>7}"
        f" {'band x':>6} | {'E n':>4} {'E strict med':>12} {'E brd-P med':>11} {'E brd-P worst':>13}"
    )
    print(header)
    result = {}
    for name, members in sorted(groups.items()):
        latency = summarise(p.latency_error for p in members)
        strict = summarise(p.energy_error for p in members)
        board_power = summarise(p.energy_board_power_error for p in members)
        in_sample = statistics.median(abs(p.in_sample_error) for p in members)

        def fmt(value: float | None, spec: str) -> str:
            return "-" if value is None else format(value, spec)

        print(
            f"  {name[:34]:34} {len(members):>4} {in_sample:>10.1%} | {latency['rows']:>6}"
            f" {fmt(latency['median_abs'], '.1%'):>8} {fmt(latency['worst_ratio'], '.2f'):>7}"
            f" {fmt(latency['band'], '.2f'):>6} | {strict['rows']:>4} {fmt(strict['median_abs'], '.1%'):>12}"
            f" {fmt(board_power['median_abs'], '.1%'):>11} {fmt(board_power['worst_ratio'], '.2f'):>13}"
        )
        result[name] = {
            "rows": len(members),
            "in_sample_median_abs": in_sample,
            "lobo_latency": latency,
            "lobo_energy_strict": strict,
            "lobo_energy_board_power": board_power,
        }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--measurements", type=Path, default=SHARED / "reference" / "mlperf_tiny_cortexm.csv")
    parser.add_argument("--models", type=Path, default=SHARED / "models")
    parser.add_argument("--write-calibration", action="store_true", help="rewrite arena/cost/calibration.json")
    args = parser.parse_args()

    rows = read_measurements(args.measurements)
    work = benchmark_features(args.models)
    used = [r for r in rows if r.used]
    excluded = [r for r in rows if not r.used]
    print(f"{len(rows)} measured rows, {len(used)} used, {len(excluded)} not used")

    whole = fit(used, work)
    print("\nCore factors (Cortex-M4 = 1), fitted on every used row:")
    for core, factor in sorted(whole.core_factors.items()):
        print(f"  {core:14} {factor:.4f}  ({sum(1 for r in used if r.core == core)} rows)")
    print("\nStack shapes (Cortex-M4 cycles per conv MAC, per vector x matrix MAC, per conv output):")
    for stack, (a, b, c) in sorted(whole.shapes.items()):
        boards = sorted({r.board for r in used if r.stack == stack})
        print(f"  {stack:20} {a:7.3f} {b:7.3f} {c:8.2f}   boards: {', '.join(boards)}")

    predictions = leave_one_board_out(used, work)
    print("\nPredicted vs measured, every row (err = predicted / measured - 1):")
    _print_rows(predictions, excluded)

    by_stack: dict[str, list[LoboPrediction]] = defaultdict(list)
    by_core: dict[str, list[LoboPrediction]] = defaultdict(list)
    by_pair: dict[str, list[LoboPrediction]] = defaultdict(list)
    for p in predictions:
        by_stack[p.row.stack].append(p)
        by_core[p.row.core].append(p)
        by_pair[f"{p.row.stack} / {p.row.core}"].append(p)
    tables = {
        "by_stack": _group_table("Medians per stack (LOBO = leave one board out):", by_stack),
        "by_core": _group_table("Medians per core:", by_core),
        "by_stack_core": _group_table("Medians per stack and core:", by_pair),
    }
    everything = _group_table("All used rows:", {"all": list(predictions)})

    tflm = tables["by_stack"][TFLM]
    supported = [p for p in predictions if p.latency_error is not None]
    worst = max(max(1 + p.latency_error, 1 / (1 + p.latency_error)) for p in supported if p.latency_error is not None)
    checks = {
        "tflm_lobo_latency_median": tflm["lobo_latency"]["median_abs"],
        "tflm_lobo_latency_target": TARGET_LATENCY,
        "tflm_lobo_energy_strict_median": tflm["lobo_energy_strict"]["median_abs"],
        "tflm_lobo_energy_board_power_median": tflm["lobo_energy_board_power"]["median_abs"],
        "tflm_lobo_energy_target": TARGET_ENERGY,
        "supported_rows": len(supported),
        "supported_worst_latency_ratio": worst,
        "worst_ratio_target": TARGET_WORST_RATIO,
    }
    print("\nIssue targets (TFLM + CMSIS-NN rows, leave-one-board-out):")
    median = checks["tflm_lobo_latency_median"]
    print(
        f"  latency median {median:.1%}"
        f" (target <= {TARGET_LATENCY:.0%}: {'met' if median <= TARGET_LATENCY else 'NOT met'})"
    )
    for key, label in (
        ("tflm_lobo_energy_strict_median", "energy median, power unseen too"),
        ("tflm_lobo_energy_board_power_median", "energy median, board power known"),
    ):
        value = checks[key]
        print(
            f"  {label} {value:.1%} (target <= {TARGET_ENERGY:.0%}: {'met' if value <= TARGET_ENERGY else 'NOT met'})"
        )
    print(
        f"  worst LOBO row of a supported stack: {worst:.2f}x over {len(supported)} rows"
        f" (target <= {TARGET_WORST_RATIO:g}x: {'met' if worst <= TARGET_WORST_RATIO else 'NOT met'})"
    )

    out = ROOT / "benchmarks" / "results" / "bench_cost.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "measurements": str(args.measurements),
        "rows_total": len(rows),
        "rows_used": len(used),
        "core_factors": dict(whole.core_factors),
        "shapes": {k: list(v) for k, v in whole.shapes.items()},
        "rows": [_row_record(p) for p in predictions],
        "excluded": [
            {"line": r.line, "system": r.system, "benchmark": r.benchmark, "reason": r.excluded} for r in excluded
        ],
        "tables": tables,
        "all": everything["all"],
        "checks": checks,
    }
    write_atomic(out, json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")
    if args.write_calibration:
        digest = hashlib.sha256(args.measurements.read_bytes()).hexdigest()[:16]
        source = f"{args.measurements.name} ({len(rows)} rows, sha256 {digest}...)"
        target = ROOT / "arena" / "cost" / "calibration.json"
        write_atomic(target, json.dumps(calibration_document(rows, work, source, predictions), indent=2) + "\n")
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
