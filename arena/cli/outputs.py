"""Files some commands write beside their printed output: the layout picture and the HTML report.

Rendering is in :mod:`arena.render`; this module only picks the renderer and writes the file
atomically (temporary file + rename), so a failed run leaves an existing file untouched.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from arena.errors import ArenaError

if TYPE_CHECKING:
    from arena.cost.estimate import CostEstimate
    from arena.plan.pipeline import PlanResult


def write_map(path: Path, result: PlanResult) -> None:
    """``--map FILE``: the plan's layout as SVG (the only picture format; ``.svg`` expected)."""
    from arena._io import write_atomic
    from arena.render.layout import render_layout_svg

    if path.suffix.lower() not in (".svg", ""):
        raise ArenaError(f"--map {path}: only SVG is written; name the file *.svg")
    write_atomic(path, render_layout_svg(result))


def write_report(path: Path, result: PlanResult, cost: CostEstimate | None, budgets: tuple[int, ...] = ()) -> None:
    """``--report FILE``: the self-contained HTML report of ``result`` (as ``arena report``)."""
    from arena._io import write_atomic
    from arena.commands.report import build_report
    from arena.render.report import render_report_html

    lines = tuple((f"budget {i + 1}", b) for i, b in enumerate(budgets))
    write_atomic(path, render_report_html(build_report(result, cost, lines)))
