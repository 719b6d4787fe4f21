"""Render an ``arena measure`` result as text or a JSON document."""

from __future__ import annotations

import json
from typing import Any

from arena.commands.measure import MeasureResult


def measure_document(result: MeasureResult) -> dict[str, Any]:
    """The JSON document: predicted, measured and difference per figure, plus run facts."""
    return {
        "model": result.model,
        "target": result.target,
        "core": result.core,
        "emulator": f"qemu-system-arm -M {result.machine}",
        "kernels": result.kernels,
        "ok": result.ok,
        "figures": {
            f.name.replace(" ", "_"): {
                "predicted_bytes": f.predicted_bytes,
                "measured_bytes": f.measured_bytes,
                "difference_bytes": f.difference_bytes,
            }
            for f in result.figures
        },
        "arena_used_bytes": result.arena_used_bytes,
        "invoke_instructions": result.invoke_instructions,
        "ops": [{"op": tag, "instructions": count} for tag, count in result.op_instructions],
        "output_sha256": result.output_sha256,
        "outputs_identical_to_wheel": result.outputs_identical_to_wheel,
        "wheel_error": result.wheel_error,
        "crashed_probes": list(result.crashed_probes),
        "build_seconds": result.build_seconds,
        "library_cached": result.library_cached,
        "link_seconds": result.link_seconds,
        "run_seconds": result.run_seconds,
    }


def render_measure_json(result: MeasureResult) -> str:
    """One JSON document and a newline."""
    return json.dumps(measure_document(result), indent=2) + "\n"


def render_measure_text(result: MeasureResult) -> str:
    """A table of predicted vs measured bytes, then the instruction counts per op."""
    lines = [
        f"{result.model} on {result.target} ({result.core}, {result.kernels} kernels), "
        f"measured with real TFLM in qemu-system-arm -M {result.machine}",
        "",
        f"  {'':15} {'predicted':>11} {'measured':>11} {'difference':>11}",
    ]
    for f in result.figures:
        lines.append(f"  {f.name:15} {f.predicted_bytes:>11,} {f.measured_bytes:>11,} {f.difference_bytes:>+11,}")
    lines += [
        "",
        f"  arena_used_bytes() {result.arena_used_bytes:,}; set kTensorArenaSize >= "
        f"{result.figures[-1].measured_bytes:,}",
        f"  Invoke: {result.invoke_instructions:,} instructions (emulated: no caches or wait states; not cycles)",
    ]
    for tag, count in result.op_instructions:
        lines.append(f"    {tag:28} {count:>14,}")
    lines.append(f"  outputs sha256 {result.output_sha256[:16]}...")
    if result.outputs_identical_to_wheel is not None:
        same = "identical to" if result.outputs_identical_to_wheel else "DIFFER from"
        lines.append(f"  outputs {same} the tflite-micro wheel (reference kernels) on the same inputs")
    elif result.wheel_error is not None:
        lines.append(f"  outputs not compared: the tflite-micro wheel failed: {result.wheel_error}")
    memory_ok = all(f.difference_bytes == 0 for f in result.figures)
    verdict = "prediction equals measurement" if memory_ok else "prediction DIFFERS from measurement"
    lines += ["", f"  {verdict}", ""]
    return "\n".join(lines)
