"""The exact allocator skips its search (and numba) when a heuristic already meets the bound."""

from __future__ import annotations

import random
import subprocess
import sys

from arena.allocators.exact import exact, exact_within
from arena.allocators.problem import Buffer, PlanStatus, Problem
from arena.allocators.validate import validate_plan
from conftest import BUNDLED_MODELS


def test_a_plan_at_the_bound_skips_the_search() -> None:
    # Hand-worked: a [0,1] 32 B, b [1,2] 16 B, c [2,3] 32 B. Max load is 48 B (steps 1 and 2);
    # a and c never meet, so stacking b on top of the shared a/c slot reaches 48: optimal.
    problem = Problem(
        buffers=(
            Buffer(name="a", size=32, first=0, last=1),
            Buffer(name="b", size=16, first=1, last=2),
            Buffer(name="c", size=32, first=2, last=3),
        )
    )
    plan = exact_within(problem)
    assert plan.peak_bytes == 48 and plan.status is PlanStatus.OPTIMAL and plan.lower_bound_bytes == 48
    assert plan.stats["nodes"] == 0 and "heuristic" in plan.stats
    assert validate_plan(problem, plan).ok
    assert exact(problem).peak_bytes == 48  # the search agrees


def test_the_shortcut_never_changes_the_optimum() -> None:
    # Property over random problems: with or without the shortcut, the same proven peak; and
    # where the search is needed (no heuristic at the bound) it does run.
    rng = random.Random(16)
    searched = 0
    for _ in range(80):
        buffers = []
        for index in range(rng.randint(6, 14)):
            first = rng.randint(0, 8)
            buffers.append(
                Buffer(name=f"b{index}", size=16 * rng.randint(1, 9), first=first, last=first + rng.randint(0, 3))
            )
        problem = Problem(buffers=tuple(buffers))
        quick, full = exact_within(problem), exact(problem)
        assert validate_plan(problem, quick).ok
        assert quick.status is full.status is PlanStatus.OPTIMAL
        assert quick.peak_bytes == full.peak_bytes
        searched += quick.stats.get("heuristic") is None
    assert searched > 0  # some instances had to be searched


def test_planning_the_bundled_model_does_not_import_numba() -> None:
    # A fresh process, as a user runs it; the bundled KWS model's greedy plan meets the bound.
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from arena.cli import cli\n"
        f"r = CliRunner().invoke(cli, ['plan', {str(BUNDLED_MODELS / 'kws_ds_cnn_int8.tflite')!r}, '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert '\"optimal\": true' in r.output\n"
        "print('numba' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_capacity_below_the_bound_needs_the_search() -> None:
    # Hand-worked: the a/b/c problem above needs 48 B; asked for 40 B no heuristic fits, so the
    # search runs (numba loaded in a fresh process) and proves nothing fits.
    code = (
        "import sys\n"
        "from arena.allocators.exact import exact_within\n"
        "from arena.allocators.problem import Buffer, Problem\n"
        "p = Problem(buffers=(Buffer(name='a', size=32, first=0, last=1), Buffer(name='b', size=16, first=1, last=2),"
        " Buffer(name='c', size=32, first=2, last=3)), capacity=40)\n"
        "plan = exact_within(p)\n"
        "print(plan.status.value, 'numba' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert done.stdout.split() == ["infeasible", "True"]
