"""``arena shrink`` through click: exit codes, the one-line error, the JSON document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena.cli import cli


def test_missing_model_is_one_line_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["shrink", str(tmp_path / "nope.tflite"), "-o", str(tmp_path / "o.tflite")])
    assert result.exit_code == 2
    assert "nope.tflite" in result.output


def test_bad_overhead_is_exit_2(shared_dir: Path, tmp_path: Path) -> None:
    args = ["shrink", str(shared_dir / "tflm_hello_world_int8.tflite"), "-o", str(tmp_path / "o.tflite"),
            "--max-mac-overhead", "lots"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "--max-mac-overhead" in result.output


def test_budget_of_one_byte_is_not_met(shared_dir: Path, tmp_path: Path) -> None:
    # Any model with an activation tensor needs more than one byte of head: a budget of 1 B cannot be met,
    # and that is a negative verdict (exit 1), not bad input.
    model = shared_dir / "tflm_hello_world_int8.tflite"
    args = ["shrink", str(model), "-o", str(tmp_path / "o.tflite"), "--budget", "1B", "--no-prove", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert document["budget_bytes"] == 1
    assert document["ok"] is False


@pytest.mark.oracle
def test_json_and_written_model_are_bit_identical_and_smaller_in_tflm(shared_dir: Path, tmp_path: Path) -> None:
    """armex_cnn_s takes overlap and patches (seconds, where person detection takes minutes: the benchmark
    covers the image models); TFLM (wheel) measures both heads and compares the outputs live."""
    out = tmp_path / "small.tflite"
    args = ["shrink", str(shared_dir / "armex_cnn_s_quantized.tflite"), "-o", str(out), "--json"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["tflm"]["outputs_identical"] and doc["tflm"]["head_matches"]
    # TFLM measured the original's head live: the shrunk head TFLM measured must be below it.
    assert doc["tflm"]["shrunk_head_bytes"] < doc["tflm"]["original_head_bytes"]
    assert (doc["macs_after"] - doc["macs_before"]) <= 0.10 * doc["macs_before"]
    assert {step["name"] for step in doc["steps"]} >= {"alias", "overlap", "patches"}
    assert out.read_bytes()[4:8] == b"TFL3"
