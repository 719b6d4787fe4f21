"""Predicted vs measured latency and energy for every MLPerf Tiny calibration row.

Fits the calibrated cycle models to the TFLM rows of ``../shared/reference/mlperf_tiny_calibration.csv``
(arena.cost.fit), then prints, per row, the measurement, the prediction of the shipped coefficients
(in-sample) and the leave-one-out prediction (a fit that never saw the row), with relative errors.
The microTVM rows are predicted too but are not fitted or scored (see docs/cost-model.md). Also
prints the MAC totals against the published figures, the fitted coefficients beside the shipped
ones, each board's effective active power, and what each fitted parameter buys. Writes
``benchmarks/results/bench_cost.json``.

    python benchmarks/bench_cost.py [--calibration CSV] [--models DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from arena.cost.cycles import CycleModel, load_cycle_model  # noqa: E402
from arena.cost.fit import (  # noqa: E402
    CALIBRATED_KERNELS,
    FitOptions,
    RowPrediction,
    board_power_mw,
    calibration_counts,
    error_summary,
    fit_cycle_models,
    fitted_models,
    leave_one_out,
    predict_rows,
    read_calibration,
)
from arena.cost.macs import OpKind  # noqa: E402

SHARED = ROOT.parent / "shared"
#: The issue's target for the leave-one-out error.
TARGET_ERROR = 0.25


def _pct(value: float | None) -> str:
    return "     -" if value is None else f"{value:+6.1%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}" if value >= 100 else f"{value:.3f}"


def _row_table(in_sample: tuple[RowPrediction, ...], loo: dict[str, RowPrediction]) -> list[dict[str, object]]:
    header = (
        f"{'system':33} {'bench':5} {'MHz':>4} | {'latency ms':>10} {'in-sample':>10} {'err':>6}"
        f" {'LOO':>10} {'err':>6} | {'energy uJ':>10} {'in-sample':>10} {'err':>6} {'LOO':>10} {'err':>6}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for prediction in in_sample:
        row = prediction.row
        held_out = loo.get(row.label)
        fitted = "" if row.is_tflm else "  (microTVM: not fitted)"
        print(
            f"{row.system[:33]:33} {row.benchmark:5} {row.clock_hz / 1e6:>4.0f} |"
            f" {_num(row.latency_ms):>10} {_num(prediction.latency_ms):>10} {_pct(prediction.latency_error)}"
            f" {_num(held_out.latency_ms if held_out else None):>10}"
            f" {_pct(held_out.latency_error if held_out else None)} |"
            f" {_num(row.energy_uj):>10} {_num(prediction.energy_uj):>10} {_pct(prediction.energy_error)}"
            f" {_num(held_out.energy_uj if held_out else None):>10}"
            f" {_pct(held_out.energy_error if held_out else None)}{fitted}"
        )
        rows.append(
            {
                "system": row.system,
                "benchmark": row.benchmark,
                "core": row.core,
                "clock_hz": row.clock_hz,
                "fitted": row.is_tflm,
                "source": row.source,
                "measured_latency_ms": row.latency_ms,
                "predicted_latency_ms": prediction.latency_ms,
                "latency_error": prediction.latency_error,
                "loo_latency_ms": held_out.latency_ms if held_out else None,
                "loo_latency_error": held_out.latency_error if held_out else None,
                "measured_energy_uj": row.energy_uj,
                "predicted_energy_uj": prediction.energy_uj,
                "energy_error": prediction.energy_error,
                "loo_energy_uj": held_out.energy_uj if held_out else None,
                "loo_energy_error": held_out.energy_error if held_out else None,
            }
        )
    return rows


def _summary(label: str, predictions: tuple[RowPrediction, ...]) -> dict[str, float]:
    lat_max, lat_rms = error_summary(p.latency_error for p in predictions)
    en_max, en_rms = error_summary(p.energy_error for p in predictions)
    print(f"{label:28} latency max {lat_max:6.1%} rms {lat_rms:6.1%}   energy max {en_max:6.1%} rms {en_rms:6.1%}")
    return {"latency_max": lat_max, "latency_rms": lat_rms, "energy_max": en_max, "energy_rms": en_rms}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibration", type=Path, default=SHARED / "reference" / "mlperf_tiny_calibration.csv")
    parser.add_argument("--models", type=Path, default=SHARED / "models")
    args = parser.parse_args()

    rows = read_calibration(args.calibration)
    counts = calibration_counts(args.models)
    tflm = [row for row in rows if row.is_tflm]
    base: dict[str, CycleModel] = {core: load_cycle_model(core, CALIBRATED_KERNELS) for core in {r.core for r in rows}}

    print("MAC totals (conv + depthwise + fully connected), arena vs published:")
    published = {row.benchmark: row.published_macs for row in rows}
    for name, model_counts in counts.items():
        mark = "ok" if model_counts.macs == published[name] else "DIFFERENT"
        print(f"  {name:4} {model_counts.macs:>12,} {published[name]:>12,}  {mark}")

    fit = fit_cycle_models(tflm, counts, base)
    print(f"\nFitted on {len(tflm)} TFLM rows: fully connected / conv cycles per MAC rho = {fit.fc_ratio:.4g}")
    print(f"  {'core':11} {'param':34} {'fitted':>9} {'shipped':>9}")
    for core in fit.cores:
        shipped = base[core.core]
        for label, value, coefficient in (
            ("cycles_per_mac conv, depthwise", core.cycles_per_mac, shipped.cycles_per_mac[OpKind.CONV]),
            (
                "cycles_per_mac fully_connected",
                core.cycles_per_mac * fit.fc_ratio,
                shipped.cycles_per_mac[OpKind.FULLY_CONNECTED],
            ),
            (
                "cycles_per_element conv, depthwise",
                core.cycles_per_element,
                shipped.cycles_per_element[OpKind.CONV],
            ),
        ):
            print(f"  {core.core:11} {label:34} {value:9.4g} {coefficient.value:9.4g}")

    power = board_power_mw(tflm)
    print("\nEffective active power (mean of energy / latency over the board's TFLM rows):")
    for board, milliwatts in power.items():
        ratios = [r.energy_uj / r.latency_ms for r in tflm if r.board == board and r.energy_uj is not None]
        print(f"  {board:15} {milliwatts:6.2f} mW  (rows {min(ratios):.2f}..{max(ratios):.2f} mW)")

    # In-sample: the shipped coefficients (what users get). LOO: a refit without the row.
    print("\nPredicted vs measured (err = predicted / measured - 1):")
    in_sample = predict_rows(rows, counts, base, power)
    loo = leave_one_out(tflm, counts, base)
    table = _row_table(in_sample, {p.row.label: p for p in loo})

    print("\nTFLM rows (fitted):")
    scores = {
        "in_sample": _summary("  in-sample (shipped file)", tuple(p for p in in_sample if p.row.is_tflm)),
        "leave_one_out": _summary("  leave-one-out", loo),
    }
    print("microTVM rows (not fitted; TFLM model and TFLM board power):")
    scores["microtvm"] = _summary("  predicted as TFLM", tuple(p for p in in_sample if not p.row.is_tflm))
    verdict = "within" if scores["leave_one_out"]["latency_max"] <= TARGET_ERROR else "NOT within"
    print(f"leave-one-out latency error is {verdict} the {TARGET_ERROR:.0%} target")

    print("\nWhat each fitted parameter buys (TFLM rows):")
    ablation = {}
    for label, options in (
        ("a_k only (cycles/MAC per core)", FitOptions(per_element=False, fc_ratio=False)),
        ("a_k + shared rho", FitOptions(per_element=False)),
        ("a_k + c_k", FitOptions(fc_ratio=False)),
        ("a_k + c_k + rho (shipped)", FitOptions()),
    ):
        variant = fit_cycle_models(tflm, counts, base, options)
        inside = predict_rows(tflm, counts, fitted_models(variant, base), power)
        held = leave_one_out(tflm, counts, base, options)
        in_max, in_rms = error_summary(p.latency_error for p in inside)
        loo_max, loo_rms = error_summary(p.latency_error for p in held)
        print(f"  {label:32} in-sample max {in_max:6.1%} rms {in_rms:6.1%} | LOO max {loo_max:6.1%} rms {loo_rms:6.1%}")
        ablation[label] = {"in_max": in_max, "in_rms": in_rms, "loo_max": loo_max, "loo_rms": loo_rms}

    out = ROOT / "benchmarks" / "results" / "bench_cost.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "fit": {
            "fc_ratio": fit.fc_ratio,
            "cores": [
                {
                    "core": c.core,
                    "cycles_per_mac": c.cycles_per_mac,
                    "cycles_per_element": c.cycles_per_element,
                }
                for c in fit.cores
            ],
        },
        "board_power_mw": power,
        "macs": {name: c.macs for name, c in counts.items()},
        "rows": table,
        "scores": scores,
        "ablation": ablation,
    }
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
