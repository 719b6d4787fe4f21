"""Every registered allocator, and the exact one against a 1 MiB capacity, on MiniMalloc's hard set.

Runs each allocator in ``arena.allocators.ALLOCATORS`` and ``exact`` (capacity 1,048,576 bytes,
minimising below it until the time limit) on ``../shared/dsa-bench/challenging/*.csv``. Prints
per instance: buffers, max-load bound, each allocator's peak and seconds, and for exact the
time to fit the capacity, its peak, status, proven bound and total seconds. Writes
``benchmarks/results/bench_dsa.json``. Times are wall clock on this machine: compare them as
ratios within one run. The first exact call of the run loads (or, on a new machine, compiles)
the jitted search; that time is reported apart.

    python benchmarks/bench_dsa.py [--time-limit 60] [--instances A,B] [--ablate]

``--ablate`` also times the fit with each pruning rule switched off in turn (slow: up to the
time limit per rule and instance).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from arena.allocators import ALLOCATORS, get_allocator  # noqa: E402
from arena.allocators.exact import ExactOptions, exact  # noqa: E402
from arena.allocators.minimalloc_csv import parse_problem_csv  # noqa: E402
from arena.allocators.problem import Buffer, Problem  # noqa: E402
from arena.allocators.validate import validate_plan  # noqa: E402

CAPACITY_BYTES = 1_048_576  # the capacity in the instances' file names
BENCH_DIR = ROOT.parent / "shared" / "dsa-bench" / "challenging"
RULES = (
    "canonical_order",
    "dominance",
    "section_bounds",
    "unplaced_floor",
    "monotonic_floor",
    "hatless_pruning",
    "decomposition",
)


def _heuristics(problem: Problem) -> dict[str, dict[str, object]]:
    rows: dict[str, dict[str, object]] = {}
    for name in ALLOCATORS:
        if name == "exact":
            continue  # run below, with the capacity
        started = time.perf_counter()
        plan = get_allocator(name)(problem)
        rows[name] = {
            "peak_bytes": plan.peak_bytes,
            "seconds": time.perf_counter() - started,
            "valid": validate_plan(problem, plan).ok,
        }
    return rows


def _exact(problem: Problem, options: ExactOptions) -> dict[str, object]:
    started = time.perf_counter()
    plan = exact(problem, options)
    return {
        "peak_bytes": plan.peak_bytes,
        "status": plan.status.value,
        "lower_bound_bytes": plan.lower_bound_bytes,
        "seconds": time.perf_counter() - started,
        "fit_seconds": plan.stats.get("fit_seconds"),
        "valid": validate_plan(problem, plan).ok,
        "nodes": plan.stats["nodes"],
        "backtracks": plan.stats["backtracks"],
    }


def _ablation(problem: Problem, time_limit: float) -> dict[str, float | None]:
    """Seconds to fit the capacity with each rule off in turn (None: no fit in time)."""
    seconds: dict[str, float | None] = {}
    for rule in ("none", *RULES):
        options = ExactOptions(
            time_limit_seconds=time_limit, minimize=False, **({} if rule == "none" else {rule: False})
        )
        plan = exact(problem, options)
        seconds[f"without_{rule}"] = plan.stats.get("fit_seconds")
        print(f"    without {rule:16} {_seconds(seconds[f'without_{rule}'])}", flush=True)
    return seconds


def _seconds(value: object) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per exact run")
    parser.add_argument("--instances", default="", help="comma-separated names (default: all), e.g. A,C")
    parser.add_argument("--ablate", action="store_true", help="also time the fit with each rule off")
    args = parser.parse_args()
    wanted = {name.strip().upper() for name in args.instances.split(",") if name.strip()}
    paths = [p for p in sorted(BENCH_DIR.glob("*.csv")) if not wanted or p.name.split(".")[0] in wanted]
    if not paths:
        print(f"no instances found in {BENCH_DIR}", file=sys.stderr)
        return 2
    started = time.perf_counter()  # the first call loads or compiles the jitted search
    exact(Problem(buffers=(Buffer(name="warm-up", size=1, first=0, last=0),)))
    warm_up_seconds = time.perf_counter() - started
    print(
        f"exact: jitted search ready in {warm_up_seconds:.2f} s; time limit {args.time_limit:g} s,"
        f" capacity {CAPACITY_BYTES:,} B"
    )
    names = [n for n in ALLOCATORS if n != "exact"]
    header = "".join(f" {n + ' B':>10} {'s':>5}" for n in names)
    print(
        f"{'inst':4} {'bufs':>4} {'bound B':>9}{header} {'fit s':>6} {'exact B':>9}"
        f" {'status':>8} {'proven B':>9} {'s':>6}"
    )
    rows = []
    for path in paths:
        problem = parse_problem_csv(path.read_text(), path.name, CAPACITY_BYTES)
        unbounded = dataclasses.replace(problem, capacity=None)
        row: dict[str, object] = {
            "instance": path.name.split(".")[0],
            "buffers": len(problem),
            "lower_bound_bytes": problem.lower_bound_bytes(),
            "heuristics": _heuristics(unbounded),
            "exact": _exact(problem, ExactOptions(time_limit_seconds=args.time_limit)),
        }
        found = row["exact"]
        assert isinstance(found, dict)
        cells = "".join(
            f" {row['heuristics'][n]['peak_bytes']:>10} {row['heuristics'][n]['seconds']:>5.2f}"  # type: ignore[index]
            for n in names
        )
        print(
            f"{row['instance']:4} {row['buffers']:>4} {row['lower_bound_bytes']:>9}{cells}"
            f" {_seconds(found['fit_seconds']):>6} {found['peak_bytes']:>9} {found['status']:>8}"
            f" {found['lower_bound_bytes']:>9} {found['seconds']:>6.2f}",
            flush=True,
        )
        if args.ablate:
            row["ablation_fit_seconds"] = _ablation(problem, args.time_limit)
        rows.append(row)
    fitted = sum(1 for r in rows if r["exact"]["fit_seconds"] is not None)  # type: ignore[index]
    print(f"exact fits {CAPACITY_BYTES:,} B on {fitted} of {len(rows)} instances")
    out = ROOT / "benchmarks" / "results" / "bench_dsa.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "capacity_bytes": CAPACITY_BYTES,
                "time_limit_seconds": args.time_limit,
                "warm_up_seconds": warm_up_seconds,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
