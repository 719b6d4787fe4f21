"""`arena validate` and `arena sweep`: verdicts, exit codes, flags consistent with numbers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from tflite.BuiltinOperator import BuiltinOperator as Op
from tflite.TensorType import TensorType

from arena.cli import cli
from models.generate import Graph, Operator, Tensor, serialize


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _checks(out: str) -> dict[str, dict]:
    return {c["name"]: c for c in json.loads(out)["checks"]}


@pytest.fixture
def float_model(tmp_path: Path) -> Path:
    """A float32 FULLY_CONNECTED model: what a converter gives without quantization."""
    graph = Graph(np.random.default_rng(0), calibrate=False)
    weights = np.ones((4, 8), np.float32).tobytes()
    graph.tensors = [
        Tensor("x", (1, 8), TensorType.FLOAT32, None),
        Tensor("w", (4, 8), TensorType.FLOAT32, None, weights),
        Tensor("b", (4,), TensorType.FLOAT32, None, np.zeros(4, np.float32).tobytes()),
        Tensor("y", (1, 4), TensorType.FLOAT32, None),
    ]
    graph.ops = [Operator(Op.FULLY_CONNECTED, [0, 1, 2], [3], "FullyConnectedOptions", {})]
    graph.inputs, graph.outputs = [0], [3]
    path = tmp_path / "float_fc.tflite"
    path.write_bytes(serialize(graph))
    return path


def test_kws_model_passes_a_roomy_budget(shared_dir: Path) -> None:
    model = str(shared_dir / "mlperf_kws_ref_model.tflite")
    code, out, _ = _run(
        "validate", model, "--target", "nucleo-l4r5zi", "--budget", "100KB", "--sram", "256KB",
        "--reserve", "16KB", "--deadline-ms", "1000", "--json",
    )  # fmt: skip
    checks = _checks(out)
    assert code == 0, out
    assert checks["arena-budget"]["status"] == "PASS" and checks["flash"]["status"] == "PASS"
    assert checks["latency"]["status"] == "PASS" and checks["int8"]["status"] == "PASS"


def test_kws_model_fails_a_tight_budget_and_deadline(shared_dir: Path) -> None:
    model = str(shared_dir / "mlperf_kws_ref_model.tflite")
    code, out, _ = _run("validate", model, "--target", "nucleo-l4r5zi", "--budget", "16KB", "--json")
    assert code == 1 and _checks(out)["arena-budget"]["status"] == "FAIL"
    code, out, _ = _run("validate", model, "--target", "nucleo-l4r5zi", "--deadline-ms", "1", "--json")
    assert code == 1 and _checks(out)["latency"]["status"] == "FAIL"
    code, out, _ = _run("validate", model, "--target", "nucleo-l4r5zi", "--sram", "20KB", "--json")
    assert code == 1 and _checks(out)["sram"]["status"] == "FAIL"


def test_kws_profile(shared_dir: Path) -> None:
    model = str(shared_dir / "mlperf_kws_ref_model.tflite")
    code, out, _ = _run("validate", model, "--target", "ek-ra6m4", "--profile", "kws", "--stride-ms", "100", "--json")
    checks = _checks(out)
    assert checks["kws-input"]["status"] == "PASS" and checks["kws-output"]["status"] == "PASS"
    # A hop longer than one inference is real time; the factor is latency / hop.
    assert checks["real-time"]["status"] == "PASS" and code == 0
    code, out, _ = _run("validate", model, "--target", "ek-ra6m4", "--profile", "kws", "--stride-ms", "5", "--json")
    assert _checks(out)["real-time"]["status"] == "FAIL" and code == 1


def test_float_model_fails_int8(float_model: Path) -> None:
    code, out, _ = _run("validate", str(float_model), "--target", "nucleo-l4r5zi", "--json")
    int8 = _checks(out)["int8"]
    assert code == 1 and int8["status"] == "FAIL" and "'x'" in int8["detail"] and "'w'" in int8["detail"]


def test_unsupported_model_fails_ops(shared_dir: Path) -> None:
    model = str(shared_dir / "unsupported" / "armex_basic_lstm_quantized_small.tflite")
    code, out, _ = _run("validate", model, "--target", "nucleo-l4r5zi", "--json")
    assert code == 1 and _checks(out)["ops"]["status"] == "FAIL" and "FILL" in _checks(out)["ops"]["detail"]


def test_bad_input_exits_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a model")
    code, _, err = _run("validate", str(junk), "--target", "nucleo-l4r5zi")
    assert code == 2 and err.count("\n") == 1


def test_sweep_csv_is_consistent(shared_dir: Path, tmp_path: Path) -> None:
    out_csv = tmp_path / "sweep.csv"
    budgets = {"64KB": 65536, "100KB": 102400, "256KB": 262144}
    args = ["sweep", str(shared_dir), "--target", "nucleo-l4r5zi", "--target", "ek-ra6m4"]
    for budget in budgets:
        args += ["--budget", budget]
    code, _, _ = _run(*args, "--active-budget", "100KB", "--csv", str(out_csv))
    assert code == 0
    rows = list(csv.DictReader(out_csv.read_text().splitlines()))
    assert len(rows) == 2 * len(list(shared_dir.glob("*.tflite")))
    planned = [r for r in rows if not r["error"]]
    for row in planned:
        arena = int(row["arena_bytes"])
        assert int(row["arena_tflm_bytes"]) >= arena  # the best plan never loses to TFLM's
        for size in budgets.values():
            assert row[f"violates_{size}"] == str(arena > size)
        assert row["accepted"] == str(arena <= 102400)
    front = [r for r in planned if r["on_frontier"] == "True"]
    assert front and all(r["accepted"] == "True" for r in front)
    for a in front:  # no accepted row of the same target dominates a frontier row
        for b in planned:
            if b["target"] != a["target"] or b["accepted"] != "True" or not b["latency_ms"]:
                continue
            smaller = int(b["arena_bytes"]) <= int(a["arena_bytes"])
            faster = float(b["latency_ms"]) <= float(a["latency_ms"])
            strictly = int(b["arena_bytes"]) < int(a["arena_bytes"]) or float(b["latency_ms"]) < float(a["latency_ms"])
            assert not (smaller and faster and strictly), (a["model"], b["model"])


def test_sweep_empty_frontier_is_not_an_error(shared_dir: Path) -> None:
    code, out, _ = _run(
        "sweep", str(shared_dir / "mlperf_vww_96_int8.tflite"), "--target", "nucleo-l4r5zi",
        "--budget", "1KB", "--active-budget", "1KB",
    )  # fmt: skip
    assert code == 0 and "frontier on nucleo-l4r5zi: empty" in out


def test_sweep_frontier_by_accuracy(shared_dir: Path, tmp_path: Path) -> None:
    # DS-CNN S, M, L need increasing arenas. With accuracies S 0.90, M 0.85, L 0.95: S (least
    # memory) and L (most accurate) are not dominated; S needs less memory than M and is more
    # accurate, so M is dominated and off the frontier.
    scores = tmp_path / "scores.csv"
    scores.write_text(
        "model,accuracy\narmex_ds_cnn_s_quantized.tflite,0.90\narmex_ds_cnn_m_quantized,0.85\n"
        "armex_ds_cnn_l_quantized.tflite,0.95\n"
    )
    models = [str(shared_dir / f"armex_ds_cnn_{size}_quantized.tflite") for size in "sml"]
    code, out, _ = _run("sweep", *models, "--target", "ek-ra6m4", "--accuracy", str(scores), "--json")
    doc = json.loads(out)
    front = {row["model"] for row in doc["frontier"]}
    assert code == 0
    assert front == {"armex_ds_cnn_s_quantized.tflite", "armex_ds_cnn_l_quantized.tflite"}
    assert {row["model"]: row["accuracy"] for row in doc["rows"]}["armex_ds_cnn_m_quantized.tflite"] == 0.85
