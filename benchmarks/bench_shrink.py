"""Benchmark ``arena shrink`` on every shared model: head before, after each step, MACs added, proof.

Run: ``.venv/bin/python benchmarks/bench_shrink.py [--max-mac-overhead 0.1] [--models DIR]
[--kernels cmsis-nn --target cortex-m4 --sources DIR]``.
Prints a table and writes benchmarks/results/shrink.json (``shrink-<kernels>-<target>.json`` with
``--kernels``). Heads are TFLM arena heads (bytes) for the kernels; "before" is the exact allocator
on the unmodified model, "TFLM" TFLM's own greedy plan of it (what the device uses without an
embedded plan; "vs TFLM" is the change against that); "proof" is the value-level simulator plus real TFLM (outputs
bit-identical to the original, head = plan): the tflite-micro wheel for reference kernels, TFLM +
CMSIS-NN on the emulated core for CMSIS-NN (the library is built once, minutes, then cached).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from arena.commands.shrink import shrink_model
from arena.errors import ArenaError
from arena.render.shrink import shrink_document
from arena.targets import get_target

IMAGE_MODELS = ("mlperf_vww_96_int8", "tflm_person_detect", "mlperf_ic_pretrainedResnet_quant")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default=str(Path(__file__).resolve().parents[2] / "shared" / "models"))
    parser.add_argument("--max-mac-overhead", type=float, default=0.10)
    parser.add_argument("--kernels", choices=("reference", "cmsis-nn"), default="reference")
    parser.add_argument("--target", default=None, help="catalog target (picks the CMSIS-NN core); default none")
    parser.add_argument("--sources", default=str(Path(__file__).resolve().parents[2] / "shared" / "third_party"))
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    target = None if args.target is None else get_target(args.target)
    suffix = "" if args.kernels == "reference" and target is None else f"-{args.kernels}-{args.target or 'default'}"
    out = Path(args.out or Path(__file__).parent / "results" / f"shrink{suffix}.json")
    rows: list[dict[str, Any]] = []
    header = (
        f"{'model':<34} {'before':>7} {'TFLM':>7} {'reorder':>7} {'alias':>7} {'overlap':>7} {'patches':>7}"
        f" {'after':>7} {'change':>7} {'vs TFLM':>7}"
        f" {'MACs+':>6} proof"
    )
    print(header)
    print("-" * len(header))
    for path in sorted(Path(args.models).glob("*.tflite")):
        start = time.perf_counter()
        try:
            result = shrink_model(
                path,
                kernels=args.kernels,
                target=target,
                max_mac_overhead=args.max_mac_overhead,
                sources=args.sources,
                progress=lambda line: print(line, file=sys.stderr, flush=True),
            )
        except ArenaError as error:
            print(f"{path.stem:<34} error: {error}", flush=True)
            rows.append({"model": path.name, "error": str(error)})
            continue
        doc = shrink_document(result)
        doc["seconds"] = round(time.perf_counter() - start, 1)
        rows.append(doc)
        reorder = next((str(s.head_bytes) for s in result.steps if s.name == "reorder"), "-")
        alias = next(s.head_bytes for s in result.steps if s.name == "alias")
        overlap = next(s.head_bytes for s in result.steps if s.name == "overlap")
        patches = [s.head_bytes for s in result.steps if s.name == "patches"]
        change = (result.head_after_bytes - result.head_before_bytes) / result.head_before_bytes
        vs_tflm = (result.head_after_bytes - result.tflm_head_before_bytes) / result.tflm_head_before_bytes
        macs = (result.macs_after - result.macs_before) / result.macs_before if result.macs_before else 0.0
        proof = "proven" if result.proven else "NOT PROVEN"
        if result.tflm is not None and result.tflm.ok:
            proof += " (TFLM bit-identical, head matches)"
        elif result.tflm is not None:
            proof += f" ({result.tflm.error or 'outputs or head differ'})"
        print(
            f"{path.stem[:34]:<34} {result.head_before_bytes:>7} {result.tflm_head_before_bytes:>7} {reorder:>7}"
            f" {alias:>7} {overlap:>7} {patches[-1] if patches else '-':>7} {result.head_after_bytes:>7}"
            f" {change:>+7.1%} {vs_tflm:>+7.1%} {macs:>+6.1%} {proof}",
            flush=True,
        )
    changes = [
        (r["head_after_bytes"] - r["head_before_bytes"]) / r["head_before_bytes"] for r in rows if "error" not in r
    ]
    image_rows = [r for r in rows if "error" not in r and Path(r["model"]).stem in IMAGE_MODELS]
    images = [(r["head_after_bytes"] - r["head_before_bytes"]) / r["head_before_bytes"] for r in image_rows]
    images_vs_tflm = [
        (r["head_after_bytes"] - r["tflm_head_before_bytes"]) / r["tflm_head_before_bytes"] for r in image_rows
    ]
    summary = {
        "kernels": args.kernels,
        "target": args.target,
        "runtime": next((r["tflm"]["runtime"] for r in rows if r.get("tflm")), None),
        "max_mac_overhead": args.max_mac_overhead,
        "seconds": round(sum(r.get("seconds", 0.0) for r in rows), 1),
        "median_change": statistics.median(changes) if changes else None,
        "image_model_changes": images,
        "image_model_changes_vs_tflm": images_vs_tflm,
        "all_proven": all(r.get("proven") for r in rows),
    }
    print(
        f"\nmedian head change {summary['median_change']:+.1%}; image models: "
        + ", ".join(f"{c:+.1%}" for c in images)
        + " (vs TFLM's plan: "
        + ", ".join(f"{c:+.1%}" for c in images_vs_tflm)
        + ")"
        + f"; all proven: {summary['all_proven']}"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "models": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
