"""Per-kernel instruction model against the emulator, leave-one-model-out.

Runs every op of every shared model (``../shared/models/*.tflite``, top level) with real TFLM
90b983c2 + CMSIS-NN on the emulated core (``arena.proofs.emulator``: QEMU ``-icount shift=0``),
plus the generated single-op models of ``single_op_models.py`` (wider shapes per kernel path),
and fits the per-kind instruction model of ``arena.cost.instructions`` (fit:
``arena.cost.instructions_fit``). Prints, per op kind (the finest key: op and code path), the
leave-one-model-out (LOMO) median and worst relative error of predicted vs measured instructions
over the shared models' ops, which key predicts that kind (its own fit or a pooled one, when it
has too few rows), and each shared model's whole-model error.

Configurations: Cortex-M4 with CMSIS-NN always (its library is built on first use); Cortex-M7,
M33 and M55 with CMSIS-NN only when their library is already in the build cache (this script
never starts those builds). Writes
``benchmarks/results/instructions.json``; with ``--write`` also the shipped
``arena/cost/instructions.json`` (``tests/cost/test_instructions.py`` checks it is what the fit
gives on the rows it stores).

    python benchmarks/bench_instructions.py [--models DIR] [--sources DIR] [--no-generated] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from arena._io import write_atomic  # noqa: E402
from arena.cost.instructions import model_shapes  # noqa: E402
from arena.cost.instructions_fit import (  # noqa: E402
    MIN_MODELS,
    MeasuredOp,
    Prediction,
    dumps_document,
    fit_entry,
    fit_kinds,
    instructions_document,
    kind_for,
    leave_one_model_out,
    measured_op,
    model_totals,
)
from arena.errors import ArenaError  # noqa: E402
from arena.model.reader import read_model, read_model_bytes  # noqa: E402
from arena.model.records import Model  # noqa: E402
from arena.proofs.emulator.boards import board_for_core  # noqa: E402
from arena.proofs.emulator.build import Library, build_key  # noqa: E402
from arena.proofs.emulator.measure import prepare_library, run_model  # noqa: E402
from arena.proofs.emulator.sources import default_cache_dir, unpack_sources  # noqa: E402
from arena.targets import get_target  # noqa: E402

SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "benchmarks" / "results" / "instructions.json"
SHIPPED = ROOT / "arena" / "cost" / "instructions.json"
#: (core, kernels, build when missing): the M4 library is the one every emulator test builds; the
#: others are fitted when their library is in the cache (CI builds the M55's; M7 and M33 come from
#: `arena measure` or benchmarks/bench_measure.py --configs). The reference kernels are not fitted:
#: measured on the M4 (2026-12-05) the same features leave whole-model errors of -20% to -37% on the
#: DS-CNN models (LOMO median 5.4%), too coarse to ship.
CONFIGS = (
    ("cortex-m4", "cmsis-nn", True),
    ("cortex-m7", "cmsis-nn", False),
    ("cortex-m33", "cmsis-nn", False),
    ("cortex-m55", "cmsis-nn", False),
)


def library_if_cached(core: str, kernels: str, sources: Path, *, build: bool) -> Library | None:
    """The built library, or None when it is not in the cache and ``build`` is false.

    The cache directory is the one ``build_library`` would use (same key), so a library that is
    only half-built (no manifest yet) counts as missing and nothing is started.
    """
    if not build:
        tree = unpack_sources(sources)
        directory = default_cache_dir() / "tflm-build" / build_key(tree, board_for_core(core), kernels)
        if not (directory / "manifest.json").is_file():
            return None
    return prepare_library(core, kernels, sources=sources, progress=lambda line: print(line, file=sys.stderr))


def _tags_match(model: Model, ops: tuple[Any, ...]) -> bool:
    names = [op.op_name for subgraph in model.subgraphs for op in subgraph.operators]
    return len(names) == len(ops) and all(
        n == op.tag or n.endswith(":" + op.tag) for n, op in zip(names, ops, strict=True)
    )


def measure(
    library: Library, models: list[tuple[str, Model, bool]], isa: str
) -> tuple[list[MeasuredOp], dict[str, str], dict[str, int]]:
    """Run each model; (rows, failures by model, Invoke instructions by model)."""
    rows: list[MeasuredOp] = []
    failures: dict[str, str] = {}
    invokes: dict[str, int] = {}
    for name, model, generated in models:
        try:
            measured = run_model(library, model).measurement
        except ArenaError as error:
            failures[name] = str(error).splitlines()[0]
            continue
        if not _tags_match(model, measured.ops):
            failures[name] = "the firmware's op list does not match the model's ops"
            continue
        invokes[name] = measured.invoke_instructions
        shapes = model_shapes(model, kernels=library.kernels, isa=isa)
        rows += [
            measured_op(name, s, op.instructions, generated=generated)
            for s, op in zip(shapes, measured.ops, strict=True)
        ]
    return rows, failures, invokes


def _median_worst(errors: list[float]) -> str:
    if not errors:
        return f"{'-':>8} {'-':>8}"
    magnitudes = [abs(e) for e in errors]
    return f"{statistics.median(magnitudes):>8.1%} {max(magnitudes):>8.1%}"


def report(rows: list[MeasuredOp], predictions: tuple[Prediction, ...], min_models: int) -> dict[str, Any]:
    """Print the per-kind and per-model tables; return them as a JSON-ready record."""
    kinds = fit_kinds(rows, min_models)
    by_kind: dict[str, list[Prediction]] = defaultdict(list)
    for p in predictions:
        by_kind[p.row.keys[0]].append(p)
    finest = sorted({row.keys[0] for row in rows})
    header = f"{'op kind (finest key)':48} {'rows':>5} {'models':>6} {'LOMO ops':>8} {'median':>8} {'worst':>8}"
    print(header + "  fitted by")
    table = []
    for key in finest:
        members = [row for row in rows if row.keys[0] == key]
        used = kind_for(kinds, members[0].keys).key
        held = by_kind.get(key, [])
        note = "own model" if used == key else f"pooled: {used}" if used.startswith(("kind:", "all")) else used
        print(
            f"{key[:48]:48} {len(members):>5} {len({r.model for r in members}):>6} {len(held):>8}"
            f" {_median_worst([p.error for p in held])}  {note}"
        )
        table.append(
            {
                "kind": key,
                "rows": len(members),
                "models": len({r.model for r in members}),
                "lomo_ops": len(held),
                "lomo_median": statistics.median(abs(p.error) for p in held) if held else None,
                "lomo_worst": max(abs(p.error) for p in held) if held else None,
                "fitted_by": used,
            }
        )
    every = _median_worst([p.error for p in predictions])
    print(f"{'all held-out ops':48} {'':>5} {'':>6} {len(predictions):>8} {every}")
    totals = model_totals(predictions)
    print(f"\n{'model (LOMO)':44} {'measured':>12} {'predicted':>12} {'error':>8}")
    per_model = []
    for model, (predicted, measured) in sorted(totals.items()):
        print(f"{model[:44]:44} {measured:>12,} {predicted:>12,.0f} {predicted / measured - 1:>+8.1%}")
        per_model.append({"model": model, "measured": measured, "predicted": predicted})
    errors = [predicted / measured - 1 for predicted, measured in totals.values()]
    print(f"{'whole-model error':44} {'':>12} {'':>12} {'':>8}  median {_median_worst(errors)} worst")
    return {"kinds": table, "models": per_model}


def _models(models_dir: Path, generated: bool) -> list[tuple[str, Model, bool]]:
    models = [(path.name, read_model(path), False) for path in sorted(models_dir.glob("*.tflite"))]
    if generated:
        from single_op_models import single_op_models

        models += [(f"gen:{name}", read_model_bytes(data, f"{name}.tflite"), True) for name, data in single_op_models()]
    return models


def _prediction_record(p: Prediction) -> dict[str, Any]:
    return {
        "model": p.row.model,
        "op": p.row.op_index,
        "name": p.row.op_name,
        "kind": p.row.keys[0],
        "key": p.key,
        "measured": p.row.instructions,
        "predicted": p.predicted,
    }


def run_config(core: str, kernels: str, library: Library, args: argparse.Namespace) -> dict[str, Any]:
    """Measure, fit, cross-check and print one (core, kernels) configuration."""
    isa = get_target(core).kernel_isa
    started = time.monotonic()
    rows, failures, invokes = measure(library, _models(args.models, not args.no_generated), isa)
    measure_seconds = time.monotonic() - started
    shared = {row.model for row in rows if not row.generated}
    print(f"\n== {core} {kernels} ({library.board.machine}): {len(rows)} ops of {len({r.model for r in rows})} models")
    print(f"   measured in {measure_seconds:.1f} s; {len(shared)} shared models held out one at a time")
    for name, why in failures.items():
        print(f"   not measured: {name}: {why}")
    predictions = leave_one_model_out(rows, args.min_models)
    tables = report(rows, predictions, args.min_models)
    shared_only = None
    if not args.no_generated:
        plain = [row for row in rows if not row.generated]
        base = leave_one_model_out(plain, args.min_models)
        shared_only = {
            "op_median": statistics.median(abs(p.error) for p in base),
            "op_worst": max(abs(p.error) for p in base),
        }
        print(
            f"   without the generated models (shared rows only): LOMO median {shared_only['op_median']:.1%},"
            f" worst {shared_only['op_worst']:.1%} per op"
        )
    entry = fit_entry(
        rows, core=core, kernels=kernels, isa=isa, machine=library.board.machine, library=library.directory.name
    )
    return {
        "entry": entry,
        "measure_seconds": measure_seconds,
        "failures": failures,
        "invoke_instructions": invokes,
        "predictions": [_prediction_record(p) for p in predictions],
        "shared_only_lomo": shared_only,
        **tables,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=SHARED / "models")
    parser.add_argument(
        "--sources", type=Path, default=Path(os.environ.get("ARENA_TFLM_SOURCES", str(SHARED / "third_party")))
    )
    parser.add_argument("--no-generated", action="store_true", help="fit on the shared models only")
    parser.add_argument("--min-models", type=int, default=MIN_MODELS)
    parser.add_argument("--write", action="store_true", help=f"also write {SHIPPED.relative_to(ROOT)}")
    args = parser.parse_args()
    started = time.monotonic()
    results: dict[str, Any] = {"configs": [], "skipped": []}
    for core, kernels, build in CONFIGS:
        library = library_if_cached(core, kernels, args.sources, build=build)
        if library is None:
            print(f"\n== {core} {kernels}: skipped, its TFLM library is not in the build cache (not built here)")
            results["skipped"].append({"core": core, "kernels": kernels, "reason": "library not in the build cache"})
            continue
        results["configs"].append(run_config(core, kernels, library, args))
    seconds = time.monotonic() - started
    print(f"\nbenchmark took {seconds:.0f} s")
    results["seconds"] = seconds
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(RESULTS, json.dumps(results, indent=1) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    if args.write:
        source = "measured by benchmarks/bench_instructions.py: shared models + generated single-op models"
        document = instructions_document([config["entry"] for config in results["configs"]], source=source)
        write_atomic(SHIPPED, dumps_document(document))
        print(f"wrote {SHIPPED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
