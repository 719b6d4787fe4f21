"""`arena simulate` through click's runner: safe plans, a hand-broken plan file, bad input."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from arena.cli import cli
from conftest import BUNDLED_MODELS

KWS = BUNDLED_MODELS / "kws_ds_cnn_int8.tflite"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_every_allocator_is_safe_on_the_example() -> None:
    for allocator in ("tflm", "best-fit", "breadth", "hill-climb"):
        code, out, _ = _run("simulate", str(KWS), "--allocator", allocator, "--json")
        doc = json.loads(out)
        assert code == 0 and doc["ok"] is True and doc["safe"] is True and not doc["clobbers"], allocator


def test_hand_broken_plan_file_is_caught(tmp_path: Path) -> None:
    plan = json.loads(_run("plan", str(KWS), "--json")[1])
    rows = plan["buffers"]
    # Rows 0 (the graph input, read at step 1) and 1 (written at step 1) are both live at step
    # 1; putting them at the same offset must clobber the input before the conv reads it.
    assert rows[0]["first"] <= rows[1]["last"] and rows[1]["first"] <= rows[0]["last"]
    rows[0]["offset"] = rows[1]["offset"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(plan))
    code, out, _ = _run("simulate", str(KWS), "--plan", str(path), "--json")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and doc["safe"] is False
    names = {rows[0]["name"], rows[1]["name"]}
    assert any(names <= {c["victim"], c["writer"]} or all(n in c["message"] for n in names) for c in doc["clobbers"])


def test_plan_file_for_another_model_is_bad_input(tmp_path: Path) -> None:
    plan = json.loads(_run("plan", str(KWS), "--json")[1])
    plan["buffers"] = plan["buffers"][:-1]
    path = tmp_path / "short.json"
    path.write_text(json.dumps(plan))
    code, _, err = _run("simulate", str(KWS), "--plan", str(path))
    assert code == 2 and err.startswith("arena: error: ") and err.count("\n") == 1


def test_plan_and_allocator_together_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = _run("simulate", str(KWS), "--allocator", "tflm", "--plan", str(tmp_path / "p.json"))
    assert code == 2 and "either --allocator or --plan" in err


def test_on_target_needs_execute_and_an_allocator(tmp_path: Path) -> None:
    code, _, err = _run("simulate", str(KWS), "--on-target", "cortex-m4")
    assert code == 2 and "--on-target needs --execute" in err
    plan = tmp_path / "plan.json"
    plan.write_text(_run("plan", str(KWS), "--json")[1])
    code, _, err = _run("simulate", str(KWS), "--plan", str(plan), "--execute", "--on-target", "cortex-m4")
    assert code == 2 and "give --allocator, not --plan" in err


def test_on_target_unknown_target_is_one_line_exit_2() -> None:
    code, _, err = _run("simulate", str(KWS), "--execute", "--on-target", "no-such-board")
    assert code == 2 and err.startswith("arena: error: ") and err.count("\n") == 1
    assert "no-such-board" in err
