"""``arena targets``: the catalog as a table or JSON."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from arena.targets import Target


def _size(value: int | None) -> str:
    if value is None:
        return "-"
    return f"{value // 1024**2:,} MiB" if value % 1024**2 == 0 else f"{value / 1024:,.0f} KiB"


def render_targets_text(targets: Sequence[Target]) -> str:
    """One row per target: name, core, ISA, clock, SRAM, flash, default kernels."""
    header = f"{'name':16} {'core':14} {'isa':4} {'clock':>8} {'sram':>10} {'flash':>9}  kernels    description"
    lines = [header]
    for target in targets:
        clock = "-" if target.clock_hz is None else f"{target.clock_hz / 1e6:g} MHz"
        lines.append(
            f"{target.name:16} {target.core:14} {target.kernel_isa:4} {clock:>8} {_size(target.sram_bytes):>10}"
            f" {_size(target.flash_bytes):>9}  {target.default_kernels:10} {target.description}"
        )
    lines.append("Figures and their sources: arena targets --json")
    return "\n".join(lines) + "\n"


def render_targets_json(targets: Sequence[Target]) -> str:
    """Every target with all its fields, sources included."""
    rows = []
    for target in targets:
        row = dataclasses.asdict(target)
        row["fpu"] = str(target.fpu)
        row["kernel_isa"] = target.kernel_isa
        rows.append(row)
    return json.dumps({"targets": rows}, indent=2) + "\n"
