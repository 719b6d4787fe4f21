"""``arena diff``: one test per exit code, and deltas checked against figures known without arena."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from arena.cli import cli
from conftest import BUNDLED_MODELS

KWS = BUNDLED_MODELS / "kws_ds_cnn_int8.tflite"
TARGET = ("--target", "nucleo-l4r5zi")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _metrics(out: str) -> dict[str, dict[str, object]]:
    return {m["name"]: m for m in json.loads(out)["metrics"]}


def test_same_model_exits_0_with_nothing_changed() -> None:
    # Property: a model against itself changes nothing, whatever the thresholds.
    code, out, _ = _run("diff", str(KWS), str(KWS), *TARGET, "--max-arena-increase", "0%", "--json")
    metrics = _metrics(out)
    assert code == 0 and json.loads(out)["ok"] is True
    assert all(m["delta"] in (0, 0.0) for m in metrics.values())
    assert metrics["latency"]["old"] is not None  # the target has a cycle model: latency is compared


def test_growth_past_the_threshold_exits_1(shared_dir: Path) -> None:
    old, new = shared_dir / "tflm_hello_world_int8.tflite", shared_dir / "mlperf_vww_96_int8.tflite"
    code, out, _ = _run("diff", str(old), str(new), *TARGET, "--max-arena-increase", "3%", "--json")
    metrics = _metrics(out)
    assert code == 1 and json.loads(out)["ok"] is False
    assert metrics["arena total"]["exceeded"] is True and metrics["latency"]["exceeded"] is False  # not gated
    # Flash is the file: its delta is the difference of the file sizes, read here without arena.
    assert metrics["flash (model)"]["delta"] == new.stat().st_size - old.stat().st_size
    # Hand-worked: hello_world is FC 1->16, 16->16, 16->1: 16 + 256 + 16 = 288 MACs.
    assert metrics["MACs"]["old"] == 288


def test_a_shrinking_model_passes_the_gate(shared_dir: Path) -> None:
    # The same pair the other way round: every figure falls, so no threshold can be passed.
    old, new = shared_dir / "mlperf_vww_96_int8.tflite", shared_dir / "tflm_hello_world_int8.tflite"
    code, out, _ = _run("diff", str(old), str(new), *TARGET, "--max-arena-increase", "0%")
    assert code == 0 and "verdict  ok" in out and "EXCEEDED" not in out


def test_latency_gate(shared_dir: Path) -> None:
    old, new = shared_dir / "tflm_hello_world_int8.tflite", shared_dir / "mlperf_vww_96_int8.tflite"
    code, out, _ = _run("diff", str(old), str(new), *TARGET, "--max-latency-increase", "5%", "--json")
    metrics = _metrics(out)
    assert code == 1 and metrics["latency"]["exceeded"] is True and metrics["arena total"]["exceeded"] is False


def test_bad_threshold_exits_2_in_one_line() -> None:
    code, out, err = _run("diff", str(KWS), str(KWS), "--max-arena-increase", "lots")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("arena: error: --max-arena-increase 'lots'")


def test_missing_model_exits_2(tmp_path: Path) -> None:
    code, _, err = _run("diff", str(KWS), str(tmp_path / "absent.tflite"))
    assert code == 2 and err.startswith("arena: error:") and err.count("\n") == 1
