"""Predicted vs measured 32-bit arena on emulated Cortex-M cores, every shared model (issue 13).

Run: ``.venv/bin/python benchmarks/bench_measure.py [--configs cortex-m4:cmsis-nn,...] [--models DIR]``.
For each (core, kernels) it builds TFLM 90b983c2 once (or reuses the cache; the build time is the
one recorded when the library was built), then per model: arena's head, tail and minimum arena
(TFLM's greedy plan, 32-bit) beside what TFLM reported in QEMU, whether the outputs equal the
tflite-micro wheel's on the same seeded inputs, whether the files ``arena export`` writes (exact
plan embedded) allocate in exactly their ``ARENA_SIZE`` with identical outputs, and the link and
run times. Prints one table per configuration and writes benchmarks/results/measure.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from arena.commands.export import build_export
from arena.commands.measure import measure
from arena.commands.on_target import exported_files
from arena.errors import ArenaError
from arena.model.reader import read_model
from arena.proofs.emulator.exported import prove_exported
from arena.proofs.emulator.measure import prepare_library
from arena.targets import get_target

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEFAULT_CONFIGS = "cortex-m4:cmsis-nn,cortex-m55:cmsis-nn,cortex-m4:reference"


def _row(path: Path, target_name: str, kernels: str, sources: Path) -> dict[str, Any]:
    result = measure(path, target_name=target_name, kernels=kernels, sources=sources)
    figures = {f.name: (f.predicted_bytes, f.measured_bytes) for f in result.figures}
    target = get_target(target_name)
    library = prepare_library(target.core, kernels, sources=sources)
    started = time.monotonic()
    bundle = build_export(path, target=target, allocator="exact", kernels=kernels)
    proof = prove_exported(library, read_model(path), exported_files(bundle))
    exported = proof.exported
    return {
        "model": path.stem,
        "head": figures["head"],
        "tail": figures["tail"],
        "minimum": figures["minimum arena"],
        "outputs_equal_wheel": result.outputs_identical_to_wheel,
        "export_ok": proof.ok,
        "export_arena_size": proof.arena_size_bytes,
        "export_minimum": None if exported is None else exported.minimum_arena_bytes,
        "link_seconds": result.link_seconds,
        "run_seconds": result.run_seconds,
        "export_seconds": round(time.monotonic() - started, 2),
        "build_seconds": result.build_seconds,
        "all_equal": result.ok,
    }


def _cell(pair: tuple[int, int]) -> str:
    predicted, measured = pair
    return f"{predicted:,}" if predicted == measured else f"{predicted:,} != {measured:,}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="comma-separated target:kernels pairs")
    parser.add_argument("--models", default=str(SHARED / "models"))
    parser.add_argument("--sources", default=str(SHARED / "third_party"))
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "measure.json"))
    args = parser.parse_args()
    sources = Path(args.sources)
    report: dict[str, Any] = {}
    for config in args.configs.split(","):
        target_name, kernels = config.split(":")
        core = get_target(target_name).core
        library = prepare_library(core, kernels, sources=sources, progress=lambda line: print(line, file=sys.stderr))
        print(f"\n{core}, {kernels} kernels ({library.board.machine}; TFLM built in {library.build_seconds:.0f} s)")
        header = f"{'model':<36} {'head':>9} {'tail':>9} {'minimum':>9} {'= wheel':>8} {'export':>7} {'run s':>6}"
        print(header)
        print("-" * len(header))
        rows = []
        for path in sorted(Path(args.models).glob("*.tflite")):
            try:
                row = _row(path, target_name, kernels, sources)
            except ArenaError as error:
                print(f"{path.stem[:36]:<36} error: {error}", flush=True)
                rows.append({"model": path.stem, "error": str(error)})
                continue
            rows.append(row)
            print(
                f"{path.stem[:36]:<36} {_cell(row['head']):>9} {_cell(row['tail']):>9} {_cell(row['minimum']):>9}"
                f" {'yes' if row['outputs_equal_wheel'] else 'NO':>8} {'ok' if row['export_ok'] else 'FAIL':>7}"
                f" {row['run_seconds']:>6.2f}",
                flush=True,
            )
        equal = sum(1 for r in rows if r.get("all_equal"))
        exported = sum(1 for r in rows if r.get("export_ok"))
        print(f"all three figures equal: {equal}/{len(rows)}; exported files proven: {exported}/{len(rows)}")
        report[f"{core}:{kernels}"] = {
            "machine": library.board.machine,
            "build_seconds": library.build_seconds,
            "models": rows,
        }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
