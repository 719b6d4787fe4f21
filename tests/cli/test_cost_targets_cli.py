"""`arena targets` and `arena cost` through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from arena.cli import cli
from arena.targets import load_targets


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_targets_lists_every_catalog_entry() -> None:
    code, out, _ = _run("targets")
    assert code == 0
    names = {line.split()[0] for line in out.splitlines()[1:-1]}
    assert names == set(load_targets())
    doc = json.loads(_run("targets", "--json")[1])
    assert all(row["source"] for row in doc["targets"])


def test_cost_totals_and_rate(shared_dir: Path) -> None:
    model = str(shared_dir / "mlperf_kws_ref_model.tflite")
    code, out, _ = _run("cost", model, "--target", "nucleo-l4r5zi", "--json")
    doc = json.loads(out)
    assert code == 0
    # The published MLPerf Tiny MAC count of the KWS DS-CNN (conv, depthwise, FC).
    assert doc["total"]["macs"] == 2_656_768
    assert doc["total"]["latency_ms"] > 0 and doc["total"]["energy_uj"] > 0
    # The layers' cycles add up to the total, and latency is cycles at the 120 MHz clock.
    assert sum(layer["cycles"] for layer in doc["layers"]) == doc["total"]["cycles"]
    assert abs(doc["total"]["latency_ms"] - doc["total"]["cycles"] / 120e3) < 1e-6 * doc["total"]["latency_ms"]
    # A rate faster than one inference takes cannot be met: a verdict, exit 1.
    too_fast = str(2 * 1000 / doc["total"]["latency_ms"])
    assert _run("cost", model, "--target", "nucleo-l4r5zi", "--rate", too_fast)[0] == 1


def test_cost_errors(shared_dir: Path) -> None:
    model = str(shared_dir / "mlperf_kws_ref_model.tflite")
    code, _, err = _run("cost", model, "--target", "no-such-board")
    assert code == 2 and err.startswith("arena: error: unknown target 'no-such-board'")
    code, _, err = _run("cost", model, "--target", "x86-64-host")
    assert code == 2 and "--clock-mhz" in err and err.count("\n") == 1
