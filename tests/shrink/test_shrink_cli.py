"""``arena shrink`` end to end: exit codes, JSON, and a live TFLM proof of the whole pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena.cli import cli


def test_missing_model_is_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["shrink", str(tmp_path / "none.tflite"), "-o", str(tmp_path / "out.tflite")])
    assert result.exit_code == 2
    assert "none.tflite" in result.output
    assert "Traceback" not in result.output


def test_bad_overhead_is_bad_input(shared_dir: Path, tmp_path: Path) -> None:
    model = shared_dir / "tflm_hello_world_int8.tflite"
    result = CliRunner().invoke(
        cli, ["shrink", str(model), "-o", str(tmp_path / "o.tflite"), "--max-mac-overhead", "x"]
    )
    assert result.exit_code == 2
    assert "--max-mac-overhead" in result.output


def test_budget_of_one_byte_is_not_met(shared_dir: Path, tmp_path: Path) -> None:
    # Any model with an activation tensor needs more than one byte of head: a budget of 1 B cannot be met,
    # and that is a negative verdict (exit 1), not bad input.
    model = shared_dir / "tflm_hello_world_int8.tflite"
    args = ["shrink", str(model), "-o", str(tmp_path / "o.tflite"), "--budget", "1B", "--no-prove", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    document = json.loads(result.output)
    assert document["budget_bytes"] == 1
    assert document["ok"] is False


@pytest.mark.oracle
def test_cli_output_is_bit_identical_and_smaller_in_tflm(shared_dir: Path, tmp_path: Path) -> None:
    """armex_cnn_s takes all three rules; TFLM (wheel) measures both heads and compares the outputs live."""
    model = shared_dir / "armex_cnn_s_quantized.tflite"
    out = tmp_path / "small.tflite"
    result = CliRunner().invoke(cli, ["shrink", str(model), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    tflm = document["tflm"]
    assert tflm["outputs_identical"] is True
    assert tflm["head_matches"] is True
    # Both heads are TFLM's own measurement (arena_used_bytes minus the tail), not arena's prediction.
    assert tflm["shrunk_head_bytes"] < tflm["original_head_bytes"]
    assert out.read_bytes()[4:8] == b"TFL3"
    assert {step["name"] for step in document["steps"]} >= {"alias", "overlap", "patches"}
