"""`arena plan --target`, `validate`, `cost` and `sweep` on every catalog target (issue 14).

The cost model changed from a 12-row M4/M33 fit to a per-stack x per-core model; these tests make
sure no catalog target (M0+ to M85, boards and generic cores) falls into an error exit, and check
properties the documented model must have (docs/cost-model.md): a board never measured gets board
factor 1, so it costs the same cycles as its generic core, and latency is cycles / clock.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena.cli import cli
from arena.targets import load_targets

TARGETS = sorted(load_targets())
CORTEX_M = [name for name in TARGETS if load_targets()[name].core.startswith("cortex-m")]

#: Boards of the catalog with no row in ../shared/reference/mlperf_tiny_cortexm.csv (the measured
#: boards are stm32l4r5zi, stm32h7a3zi, stm32u575zi, stm32u385rg, stm32u585ai, stm32g0b1re,
#: stm32f746ng, psoc62 and ra6m4: `benchmarks/bench_cost.py` lists them per stack).
UNMEASURED_BOARDS = ("ek-ra8d1", "nrf5340dk", "numaker-m467hj", "nano33ble", "rp2040")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def kws(shared_dir: Path) -> str:
    return str(shared_dir / "mlperf_kws_ref_model.tflite")


@pytest.mark.parametrize("target", TARGETS)
def test_plan_and_validate_on_every_target(kws: str, target: str) -> None:
    code, out, err = _run("plan", kws, "--target", target, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["target"]["name"] == target
    assert doc["arena"]["total_bytes"] > 0
    if target in CORTEX_M:
        assert doc["cost"]["latency_ms"] > 0 and doc["cost"]["energy_uj"] > 0
    code, _, err = _run("validate", kws, "--target", target)
    assert code == 0, err


@pytest.mark.parametrize("target", CORTEX_M)
def test_cost_on_every_cortex_m_target_names_the_stack(kws: str, target: str) -> None:
    code, out, err = _run("cost", kws, "--target", target)
    assert code == 0, err
    assert "stack" in out and "band" in out


def test_sweep_every_target_and_unmeasured_boards_cost_their_core(kws: str) -> None:
    args = ["sweep", kws, "--jobs", "1", "--json"]
    for target in TARGETS:
        args += ["--target", target]
    code, out, err = _run(*args)
    assert code == 0, err
    rows = {row["target"]: row for row in json.loads(out)["rows"]}
    assert set(rows) == set(TARGETS)
    assert all(row["error"] is None for row in rows.values())
    catalog = load_targets()
    generic = {catalog[name].core: name for name in TARGETS if name == catalog[name].core}

    def cycles(name: str) -> float:
        clock = catalog[name].clock_hz
        assert clock is not None
        return float(rows[name]["latency_ms"]) * clock / 1000

    for board in UNMEASURED_BOARDS:
        core_target = generic[catalog[board].core]
        assert cycles(board) == pytest.approx(cycles(core_target), rel=1e-9)
