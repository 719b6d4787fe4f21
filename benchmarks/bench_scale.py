"""How load, lifetimes, planning, validation and simulation scale from 100 to 10,000 ops.

Each size runs in a fresh child process (so its peak RSS, ``ru_maxrss``, is its own) on two
synthetic int8 graphs from ``models/generate.py`` with a fixed seed: a chain, and a residual
graph whose every 4th op adds the tensor from 4 ops earlier. Prints one table row per graph and
size, then the growth ratios per tenfold ops (about 10 means linear, about 100 quadratic), and
writes ``benchmarks/results/bench_scale.json``. Times are wall-clock medians of a few repeats on
this machine; compare them as ratios within one run. ``map`` is ``arena plan --map``'s renderer
(timed once: it is quadratic in ops).

    python benchmarks/bench_scale.py [--sizes 100 1000 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: Stages timed in the child, in pipeline order (name, column width).
STAGES = ("load", "lifetimes", "tflm", "best-fit", "hill-climb", "validate", "simulate", "map")
GRAPHS = {"chain": 0, "residual": 4}
SEED = 0


def _median_seconds(action: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def child(path: Path, repeats: int) -> dict[str, Any]:
    """Time every stage on one model file, in this process; report its peak RSS.

    The schema module is imported before the clock starts, and the peak RSS after the imports
    is reported too, so that the growth is what arena itself needs for the model.
    """
    import tflite  # noqa: F401  (imported on first read: keep it out of the load time)

    from arena.allocators import get_allocator
    from arena.allocators.validate import validate_plan
    from arena.lifetimes import derive_lifetimes
    from arena.model import read_model_bytes
    from arena.plan.pipeline import PlanResult
    from arena.proofs.simulator import simulate_plan
    from arena.render.plan import render_memory_map

    baseline_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    data = path.read_bytes()
    seconds: dict[str, float] = {}
    seconds["load"], model = _median_seconds(lambda: read_model_bytes(data, "synthetic.tflite"), repeats)
    seconds["lifetimes"], table = _median_seconds(lambda: derive_lifetimes(model), repeats)
    plans = {}
    for name in ("tflm", "best-fit", "hill-climb"):
        allocator = get_allocator(name)
        seconds[name], plans[name] = _median_seconds(lambda: allocator(table.problem), repeats)  # noqa: B023
    plan = plans["tflm"]
    seconds["validate"], report = _median_seconds(lambda: validate_plan(table.problem, plan), repeats)
    result = PlanResult(
        model=model, table=table, plan=plan, allocator="tflm", validation=report, tflm_head_bytes=plan.peak_bytes
    )
    seconds["simulate"], simulation = _median_seconds(lambda: simulate_plan(result), repeats)
    seconds["map"], _ = _median_seconds(lambda: render_memory_map(result), 1)  # quadratic: see README
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "ops": model.operator_count,
        "file_bytes": len(data),
        "tensors": model.tensor_count,
        "buffers": len(table.problem),
        "head_bytes": {name: p.peak_bytes for name, p in plans.items()},
        "valid": report.ok and simulation.ok,
        "seconds": seconds,
        "peak_rss_bytes": peak_kib * 1024,
        "rss_after_imports_bytes": baseline_kib * 1024,
    }


def _run_child(ops: int, residual_every: int, repeats: int, folder: Path) -> dict[str, Any]:
    """Build the model in one child process and measure it in another.

    Linux keeps a process's peak RSS across fork and exec, so the parent stays small (it never
    builds a model) and each measuring child starts from the parent's small peak.
    """
    path = folder / f"synthetic_{ops}_{residual_every}.tflite"
    build = (
        "import sys; from models.generate import build_synthetic as build;"
        f" open(sys.argv[1], 'wb').write(build({ops}, {SEED}, {residual_every}))"
    )
    subprocess.run([sys.executable, "-c", build, str(path)], check=True, cwd=ROOT)
    command = [sys.executable, __file__, "--child", str(path), "--repeats", str(repeats)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    row: dict[str, Any] = json.loads(done.stdout)
    row["residual_every"] = residual_every
    return row


def _rss_growth(row: dict[str, Any]) -> int:
    return int(row["peak_rss_bytes"] - row["rss_after_imports_bytes"])


def _ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per graph, each stage's time (and RSS growth) at 10x the ops over the smaller size."""
    out = []
    for graph, residual in GRAPHS.items():
        mine = sorted((r for r in rows if r["residual_every"] == residual), key=lambda r: r["ops"])
        for small, big in zip(mine, mine[1:], strict=False):
            ratio = {stage: big["seconds"][stage] / max(small["seconds"][stage], 1e-9) for stage in STAGES}
            ratio["ops"] = big["ops"] / small["ops"]
            ratio["rss_growth"] = _rss_growth(big) / max(_rss_growth(small), 1)
            out.append({"graph": graph, "from_ops": small["ops"], "to_ops": big["ops"], "ratio": ratio})
    return out


def _print_table(rows: list[dict[str, Any]], ratios: list[dict[str, Any]]) -> None:
    header = f"{'graph':9} {'ops':>6} {'buffers':>7} " + " ".join(f"{s:>10}" for s in STAGES)
    print("milliseconds per stage (median); peak RSS of the child, and its growth over the imports")
    print(header + f" {'peak RSS':>9} {'growth':>9}")
    for row in rows:
        graph = next(g for g, k in GRAPHS.items() if k == row["residual_every"])
        times = " ".join(f"{1000 * row['seconds'][s]:>10.1f}" for s in STAGES)
        print(
            f"{graph:9} {row['ops']:>6} {row['buffers']:>7} {times} {row['peak_rss_bytes'] / 2**20:>6.0f} MB"
            f" {_rss_growth(row) / 2**20:>6.1f} MB"
        )
    print("\ngrowth per tenfold ops (10 = linear, 100 = quadratic)")
    print(f"{'graph':9} {'ops':>12} " + " ".join(f"{s:>10}" for s in STAGES) + f" {'RSS':>9}")
    for item in ratios:
        ratio = item["ratio"]
        span = f"{item['from_ops']}->{item['to_ops']}"
        cells = " ".join(f"{ratio[s]:>10.1f}" for s in STAGES)
        print(f"{item['graph']:9} {span:>12} {cells} {ratio['rss_growth']:>9.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.repeats)))
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for residual in GRAPHS.values():
            for ops in args.sizes:
                rows.append(_run_child(ops, residual, args.repeats, Path(folder)))
    ratios = _ratios(rows)
    _print_table(rows, ratios)
    from arena._io import write_atomic

    out = ROOT / "benchmarks" / "results" / "bench_scale.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {"seed": SEED, "repeats": args.repeats, "stages": list(STAGES), "rows": rows, "ratios": ratios}
    write_atomic(out, json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")
    if not all(row["valid"] for row in rows):
        print("error: a plan failed the validator or the simulator", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
