"""Wall time of ``arena plan MODEL`` as a user runs it (a fresh process), per shared model.

Issue 16 asks for < 0.3 s warm on every shared model. "Warm" means the OS file cache and
numba's on-disk cache are filled (one unmeasured run first); every measured run is still a new
Python process, so interpreter start-up and imports are counted, as a user pays them.

Also measured: whether the run imported numba at all (it should not when a heuristic already
meets the lower bound), and the one-off cost numba pays on a new machine: compiling the exact
search core into an empty cache (``NUMBA_CACHE_DIR`` pointed at a fresh directory), against
loading it from a filled cache.

Prints a table and writes ``benchmarks/results/bench_plan_wall.json`` and ``.md``.

    python benchmarks/bench_plan_wall.py [--repeats 5] [--target nucleo-l4r5zi]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "models"
RESULTS = ROOT / "benchmarks" / "results"
TARGET_SECONDS = 0.3

#: Runs the real CLI group in a fresh process and reports on stderr whether numba was imported.
_PROBE = (
    "import sys, atexit\n"
    "atexit.register(lambda: sys.stderr.write('NUMBA=%d\\n' % ('numba' in sys.modules)))\n"
    "from arena.cli import cli\n"
    "cli()\n"
)
_COMPILE = (
    "import time\n"
    "t = time.perf_counter()\n"
    "from arena.allocators import _exact_search\n"
    "i = time.perf_counter()\n"
    "from arena.allocators.exact import _compile\n"
    "_compile()\n"
    "print(i - t, time.perf_counter() - i)\n"
)


def _arena() -> list[str]:
    exe = Path(sys.executable).with_name("arena")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "arena"]


def _wall(args: list[str], env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    return time.perf_counter() - started, done


def _floor(command: list[str], repeats: int) -> float:
    """Median wall time of a command that does no planning: what every run pays regardless."""
    _wall(command)
    return statistics.median(_wall(command)[0] for _ in range(repeats))


def bench_model(path: Path, repeats: int, target: str | None) -> dict[str, object]:
    extra = ["--target", target] if target else []
    command = [*_arena(), "plan", str(path), "--json", *extra]
    _wall(command)  # warm the file and numba caches
    times = []
    done = None
    for _ in range(repeats):
        seconds, done = _wall(command)
        times.append(seconds)
    assert done is not None
    row: dict[str, object] = {"model": path.name, "exit": done.returncode, "median_s": statistics.median(times)}
    row["max_s"] = max(times)
    if done.returncode in (0, 1):
        document = json.loads(done.stdout)
        arena = document["arena"]
        row |= {"head_bytes": arena["head_bytes"], "status": arena["status"]}
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, "plan", str(path), "--json", *extra], capture_output=True, text=True, check=False
    )
    row["numba_imported"] = "NUMBA=1" in probe.stderr
    return row


def bench_compile() -> dict[str, float]:
    """Import + compile the search core into an empty numba cache, then load it from that cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        cold_wall, cold = _wall([sys.executable, "-c", _COMPILE], env)
        warm_wall, warm = _wall([sys.executable, "-c", _COMPILE], env)
    cold_import, cold_compile = (float(x) for x in cold.stdout.split())
    warm_import, warm_load = (float(x) for x in warm.stdout.split())
    return {
        "cold_process_s": cold_wall,
        "cold_numba_import_s": cold_import,
        "cold_compile_s": cold_compile,
        "warm_process_s": warm_wall,
        "warm_numba_import_s": warm_import,
        "warm_cache_load_s": warm_load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--target", default=None, help="also size for this target (default: head only)")
    args = parser.parse_args()
    load_before = os.getloadavg()
    floors = {
        "python -c pass": _floor([sys.executable, "-c", "pass"], args.repeats),
        "arena --help": _floor([*_arena(), "--help"], args.repeats),
    }
    rows = [bench_model(path, args.repeats, args.target) for path in sorted(MODELS.glob("*.tflite"))]
    compile_cost = bench_compile()
    load_after = os.getloadavg()
    lines = [
        f"`arena plan MODEL --json{' --target ' + args.target if args.target else ''}`, fresh process each run,"
        f" warm caches, median of {args.repeats}; target < {TARGET_SECONDS} s",
        "",
        f"machine load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after, on"
        f" {os.cpu_count()} cores; floors: "
        + ", ".join(f"`{name}` {seconds:.3f} s" for name, seconds in floors.items()),
        "",
        "| model | median s | max s | head B | status | numba imported | < 0.3 s |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for row in rows:
        ok = float(row["median_s"]) < TARGET_SECONDS  # type: ignore[arg-type]
        lines.append(
            f"| {row['model']} | {row['median_s']:.3f} | {row['max_s']:.3f} | {row.get('head_bytes', '-')}"
            f" | {row.get('status', 'exit ' + str(row['exit']))} | {'yes' if row['numba_imported'] else 'no'}"
            f" | {'yes' if ok else 'NO'} |"
        )
    lines += [
        "",
        "numba's one-off cost (search core, fresh process):",
        "",
        "| cache | numba import s | compile or load s | process wall s |",
        "|---|---:|---:|---:|",
        f"| empty (first run on a machine) | {compile_cost['cold_numba_import_s']:.2f}"
        f" | {compile_cost['cold_compile_s']:.2f} | {compile_cost['cold_process_s']:.2f} |",
        f"| filled | {compile_cost['warm_numba_import_s']:.2f} | {compile_cost['warm_cache_load_s']:.2f}"
        f" | {compile_cost['warm_process_s']:.2f} |",
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "bench_plan_wall" + (f"_{args.target}" if args.target else "")
    (RESULTS / f"{stem}.md").write_text(text)
    document = {"target_seconds": TARGET_SECONDS, "repeats": args.repeats, "target": args.target}
    document |= {"models": rows, "numba": compile_cost, "floors_s": floors}
    document |= {"load_average_before": load_before[0], "load_average_after": load_after[0]}
    (RESULTS / f"{stem}.json").write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
