"""`arena cost` instruction counts through click's runner: predicted where a fit exists, null and
one line why where none does, and `--measure` refusing cores QEMU cannot emulate.

The measured path itself (`--measure` against `run_model`) needs the emulator and lives in
tests/test_instructions_emulator.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena.cli import cli

KWS = "mlperf_kws_ref_model.tflite"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cost_json_carries_predicted_instructions_per_layer(shared_dir: Path) -> None:
    code, out, _ = _run("cost", str(shared_dir / KWS), "--target", "nucleo-l4r5zi", "--json")
    assert code == 0
    doc = json.loads(out)
    counts = [layer["instructions"] for layer in doc["layers"]]
    assert all(isinstance(count, int) and count > 0 for count in counts)
    assert doc["total"]["instructions"] == sum(counts)
    assert all(layer["instructions_key"].startswith(layer["op_name"]) for layer in doc["layers"])
    section = doc["instructions"]
    assert section["predicted"] == sum(counts) and section["reason"] is None and section["measured"] is None
    assert "TFLM 90b983c2" in section["what"] and "not cycles" in section["what"]


def test_cost_text_shows_the_instruction_column_and_what_it_is(shared_dir: Path) -> None:
    code, out, _ = _run("cost", str(shared_dir / KWS), "--target", "nucleo-l4r5zi")
    assert code == 0
    assert out.splitlines()[0].split()[-1] == "instr"
    assert any(line.startswith("instructions ") and "not cycles" in line for line in out.splitlines())


def test_a_core_without_a_fit_keeps_null_and_says_why_in_one_line(shared_dir: Path) -> None:
    code, out, _ = _run("cost", str(shared_dir / KWS), "--target", "nucleo-g0b1re", "--json")  # Cortex-M0+
    doc = json.loads(out)
    assert code == 0 and doc["total"]["instructions"] is None
    assert all(layer["instructions"] is None for layer in doc["layers"])
    assert doc["instructions"]["reason"].startswith("no instruction fit for cortex-m0plus")
    code, text, _ = _run("cost", str(shared_dir / KWS), "--target", "nucleo-g0b1re")
    assert code == 0
    assert [line for line in text.splitlines() if line.startswith("instructions")] == [
        "instructions not predicted: " + doc["instructions"]["reason"]
    ]


@pytest.mark.parametrize("target", ["nucleo-g0b1re", "ek-ra8d1"])
def test_measure_on_a_core_qemu_lacks_is_one_line_and_exit_2(shared_dir: Path, target: str) -> None:
    # Cortex-M0+ (no QEMU board with enough RAM) and Cortex-M85 (none at all): refused before any
    # tool, source or build is looked at.
    code, out, err = _run("cost", str(shared_dir / KWS), "--target", target, "--measure", "--sources", "/nonexistent")
    assert code == 2 and out == ""
    assert err.startswith("arena: error: no emulated board for core cortex-m") and err.count("\n") == 1
