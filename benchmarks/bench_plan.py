"""Time to load and plan every shared model and a synthetic 5,000-op model.

Prints a table and writes ``benchmarks/results/bench_plan.json``. Figures are wall-clock medians
of a few repeats on this machine; compare them as ratios within one run, not across machines.

    python benchmarks/bench_plan.py [--repeats 5] [--synthetic-ops 5000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from arena.allocators.tflm_greedy import tflm_greedy  # noqa: E402
from arena.errors import ArenaError  # noqa: E402
from arena.lifetimes import derive_lifetimes  # noqa: E402
from arena.model import read_model_bytes  # noqa: E402
from models.generate import build_synthetic  # noqa: E402


def _median_seconds(action, repeats: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def bench(name: str, data: bytes, repeats: int) -> dict[str, object]:
    load_s, model = _median_seconds(lambda: read_model_bytes(data, name), repeats)
    try:
        lifetimes_s, table = _median_seconds(lambda: derive_lifetimes(model), repeats)  # type: ignore[arg-type]
    except ArenaError as error:
        return {"model": name, "ops": model.operator_count, "error": str(error), "load_s": load_s}  # type: ignore[attr-defined]
    plan_s, plan = _median_seconds(lambda: tflm_greedy(table.problem), repeats)  # type: ignore[attr-defined]
    return {
        "model": name,
        "ops": model.operator_count,  # type: ignore[attr-defined]
        "buffers": len(table.problem),  # type: ignore[attr-defined]
        "head_bytes": plan.peak_bytes,  # type: ignore[attr-defined]
        "load_s": load_s,
        "lifetimes_s": lifetimes_s,
        "plan_s": plan_s,
        "total_s": load_s + lifetimes_s + plan_s,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--synthetic-ops", type=int, default=5000)
    args = parser.parse_args()
    inputs = [(p.name, p.read_bytes()) for p in sorted((ROOT.parent / "shared" / "models").rglob("*.tflite"))]
    inputs.append((f"synthetic_{args.synthetic_ops}_ops", build_synthetic(args.synthetic_ops, residual_every=4)))
    rows = []
    print(f"{'model':45} {'ops':>6} {'buffers':>7} {'load ms':>9} {'lifet ms':>9} {'plan ms':>9} {'total ms':>9}")
    for name, data in inputs:
        repeats = 1 if len(data) > 1_000_000 else args.repeats
        row = bench(name, data, repeats)
        rows.append(row)
        if "error" in row:
            print(f"{name:45} {row['ops']:>6} {'-':>7} {1000 * row['load_s']:>9.1f}  not planned: {row['error'][:60]}")
            continue
        print(
            f"{name:45} {row['ops']:>6} {row['buffers']:>7} {1000 * row['load_s']:>9.1f}"
            f" {1000 * row['lifetimes_s']:>9.1f} {1000 * row['plan_s']:>9.1f} {1000 * row['total_s']:>9.1f}"
        )
    out = ROOT / "benchmarks" / "results" / "bench_plan.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"repeats": args.repeats, "rows": rows}, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
