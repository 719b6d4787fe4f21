"""`arena check` and `arena plan --target`: whole-arena figures, budgets and exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from arena.cli import cli
from conftest import BUNDLED_MODELS

KWS = str(BUNDLED_MODELS / "kws_ds_cnn_int8.tflite")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _plan(*args: str) -> dict:
    code, out, err = _run("plan", KWS, "--json", *args)
    assert code == 0, err
    return json.loads(out)


def test_plan_for_a_target_reports_tail_and_total() -> None:
    doc = _plan("--target", "nucleo-l4r5zi")
    arena = doc["arena"]
    assert arena["tail_bytes"] > 0
    # The minimum arena covers head and tail; any excess is the plan-commit transient.
    assert arena["total_bytes"] == arena["head_bytes"] + arena["tail_bytes"] + arena["transient_bytes"]
    assert sum(c["bytes"] for c in arena["tail_components"]) == arena["tail_bytes"]
    assert doc["target"]["pointer_bits"] == 32 and doc["kernels"] == "cmsis-nn-dsp"


def test_32_bit_tail_is_smaller_than_64_bit() -> None:
    # Same model, same reference kernels: only pointer-bearing structs shrink on a 32-bit core.
    host = _plan("--target", "x86-64-host")["arena"]
    m4 = _plan("--target", "cortex-m4", "--kernels", "reference")["arena"]
    assert m4["head_bytes"] == host["head_bytes"]
    assert m4["tail_bytes"] < host["tail_bytes"]


def test_plan_without_target_has_no_total() -> None:
    arena = _plan()["arena"]
    assert arena["tail_bytes"] is None and arena["total_bytes"] is None


def test_check_budgets_and_exit_codes() -> None:
    total = _plan("--target", "nucleo-l4r5zi")["arena"]["total_bytes"]
    above, below = str(total + 16), str(total - 16)
    code, out, _ = _run("check", KWS, "--target", "nucleo-l4r5zi", "--budget", above, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True
    budget_line = doc["checks"][0]
    assert (budget_line["required_bytes"], budget_line["available_bytes"], budget_line["excess_bytes"]) == (
        total,
        total + 16,
        0,
    )
    code, out, _ = _run("check", KWS, "--target", "nucleo-l4r5zi", "--budget", below, "--budget", above, "--json")
    doc = json.loads(out)
    assert code == 1 and doc["checks"][0]["excess_bytes"] == 16 and doc["checks"][0]["active"]
    code, _, _ = _run("check", KWS, "--target", "nucleo-l4r5zi", "--budget", below, "--active-budget", above)
    assert code == 0


def test_check_flash_is_checked() -> None:
    code, out, _ = _run("check", KWS, "--target", "nucleo-l4r5zi", "--flash", "1KB", "--budget", "1MB", "--json")
    doc = json.loads(out)
    flash = next(c for c in doc["checks"] if c["name"].startswith("target flash"))
    assert (
        code == 1
        and not flash["fits"]
        and flash["required_bytes"] == (BUNDLED_MODELS / "kws_ds_cnn_int8.tflite").stat().st_size
    )


@pytest.mark.parametrize("budget", ["2OKB", "-5KB", "1.5", "", "lots"])
def test_bad_budget(budget: str) -> None:
    code, out, err = _run("check", KWS, "--target", "nucleo-l4r5zi", "--budget", budget)
    assert code == 2 and out == "" and err.startswith("arena: error: --budget") and err.count("\n") == 1


def test_unknown_target() -> None:
    code, _, err = _run("check", KWS, "--target", "nucleo-nope", "--budget", "100KB")
    assert code == 2 and "unknown target 'nucleo-nope'" in err


def test_plan_shows_inference_cost_beside_memory(shared_dir) -> None:  # type: ignore[no-untyped-def]
    model = str(shared_dir / "mlperf_kws_ref_model.tflite")
    code, out, _ = _run("plan", model, "--target", "nucleo-l4r5zi", "--json")
    cost = json.loads(out)["cost"]
    # MLPerf Tiny's published multiply-accumulate count for its KWS DS-CNN.
    assert code == 0 and cost["macs"] == 2_656_768 and cost["latency_ms"] > 0
    code, out, _ = _run("plan", model, "--target", "nucleo-l4r5zi")
    assert "2,656,768 MACs" in out
    # No cycle model for the host: the plan still works, without a cost.
    assert _plan("--target", "x86-64-host")["cost"] is None
