"""One default rule for --allocator and --kernels, sizes as a parameter type, buffers named in JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena.allocators import BEST_ALLOCATOR, DEVICE_ALLOCATOR
from arena.cli import cli
from arena.model.offline_plan import read_offline_plan
from arena.model.reader import read_model
from conftest import BUNDLED_MODELS

KWS = BUNDLED_MODELS / "kws_ds_cnn_int8.tflite"
# Three buffers, half-open lifetimes: a [0,2) 32 B, b [1,3) 16 B, c [2,4) 32 B. a and c never
# meet, b meets both, so the best packing is 48 B (a and c share bytes, b beside them).
PROBLEM = "id,lower,upper,size\na,0,2,32\nb,1,3,16\nc,2,4,32\n"

DEPLOY = ("plan", "pack", "export", "diff", "report")
DEVICE = ("check", "validate", "simulate")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", DEPLOY + DEVICE)
def test_help_states_the_rule_and_the_default(command: str) -> None:
    code, out, _ = _run(command, "--help")
    text = " ".join(out.split())
    expected = BEST_ALLOCATOR if command in DEPLOY else DEVICE_ALLOCATOR
    assert code == 0 and f"[default: {expected}]" in text
    if command in DEPLOY:
        assert "commands that produce or check a plan to deploy use the best plan arena can prove" in text
    else:
        assert "commands that describe the device with the unmodified model use TFLM's own plan" in text
    if command != "pack":  # pack plans a raw problem: no kernels
        assert "default: the target's, else reference" in text  # --kernels, one rule


def test_the_registry_names_the_defaults() -> None:
    # The rule's two defaults are the proven-best and the device's planner, by the registry's help.
    from arena.allocators import ALLOCATORS

    assert "proves the smallest arena" in ALLOCATORS[BEST_ALLOCATOR].help
    assert "what the device does by default" in ALLOCATORS[DEVICE_ALLOCATOR].help


def test_pack_defaults_to_the_proven_optimum(tmp_path: Path) -> None:
    # The complaint: a heuristic said DOES NOT FIT where the exact allocator fits.
    path = tmp_path / "tiny.csv"
    path.write_text(PROBLEM)
    code, out, _ = _run("pack", str(path), "--capacity", "48", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["allocator"] == "exact" and doc["peak_bytes"] == 48


def test_export_defaults_to_an_embedded_plan(tmp_path: Path) -> None:
    header = tmp_path / "a.h"
    model = tmp_path / "planned.tflite"
    code, out, _ = _run(
        "export", str(KWS), "--target", "nucleo-l4r5zi", "--header", str(header), "--model-out", str(model)
    )
    assert code == 0, out
    # exact's plan is embedded as OfflineMemoryAllocation metadata, so the model written differs
    # from the input and carries an offline plan; the header names the allocator.
    assert model.read_bytes() != KWS.read_bytes()
    assert read_offline_plan(read_model(model)) is not None
    assert "Allocator: exact" in header.read_text()


def test_check_shows_the_best_plan_beside_tflms() -> None:
    code, out, _ = _run("check", str(KWS), "--target", "nucleo-l4r5zi", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["allocator"] == "tflm"
    best = doc["best"]
    assert best["allocator"] == "exact"
    # Property: the proven-optimal head can never be above TFLM's greedy head.
    assert best["head_bytes"] <= doc["arena"]["head_bytes"]
    assert best["saved_bytes"] == doc["arena"]["total_bytes"] - best["total_bytes"]


def test_simulate_shows_the_best_head_beside_tflms() -> None:
    code, out, _ = _run("simulate", str(KWS), "--json", "--no-chart")
    doc = json.loads(out)
    assert code == 0 and doc["allocator"] == "tflm"
    assert doc["best"]["allocator"] == "exact" and doc["best"]["head_bytes"] <= doc["head_bytes"]


@pytest.mark.parametrize(
    ("args", "option", "value"),
    [
        (("check", str(KWS), "--target", "nucleo-l4r5zi", "--budget", "lots"), "--budget", "lots"),
        (("check", str(KWS), "--target", "nucleo-l4r5zi", "--active-budget", "12QB"), "--active-budget", "12QB"),
        (("check", str(KWS), "--target", "nucleo-l4r5zi", "--sram", "1.5"), "--sram", "1.5"),
        (("plan", str(KWS), "--target", "nucleo-l4r5zi", "--flash", "-3KB"), "--flash", "-3KB"),
        (("validate", str(KWS), "--target", "nucleo-l4r5zi", "--reserve", "x"), "--reserve", "x"),
        (("export", str(KWS), "--target", "nucleo-l4r5zi", "--header", "h.h", "--budget", "1e3"), "--budget", "1e3"),
        (("simulate", str(KWS), "--execute", "--arena-size", "big"), "--arena-size", "big"),
        (("sweep", str(KWS), "--target", "nucleo-l4r5zi", "--budget", "?"), "--budget", "?"),
    ],
)
def test_bad_sizes_are_one_line_naming_option_and_value(args: tuple[str, ...], option: str, value: str) -> None:
    code, out, err = _run(*args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"arena: error: {option} '{value}' ")


def test_sizes_parse_before_any_work(tmp_path: Path) -> None:
    # A missing model and a bad size: the size is refused first (the option type runs at parse time).
    code, _, err = _run("check", str(tmp_path / "absent.tflite"), "--target", "nucleo-l4r5zi", "--budget", "lots")
    assert code == 2 and "--budget 'lots'" in err


def _broken_plan(tmp_path: Path) -> tuple[Path, list[dict[str, object]]]:
    plan = json.loads(_run("plan", str(KWS), "--json")[1])
    rows = plan["buffers"]
    # Rows 0 (the graph input, read at step 1) and 1 (written at step 1) are both live at step 1;
    # one offset for both clobbers the input before the conv reads it.
    rows[0]["offset"] = rows[1]["offset"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(plan))
    return path, rows


def test_clobbers_name_tensor_subgraph_and_full_name(tmp_path: Path) -> None:
    path, rows = _broken_plan(tmp_path)
    code, out, _ = _run("simulate", str(KWS), "--plan", str(path), "--json")
    doc = json.loads(out)
    assert code == 1 and doc["clobbers"]
    model = read_model(KWS)
    for clobber in doc["clobbers"]:
        for role in ("victim_buffer", "writer_buffer"):
            ref = clobber[role]
            assert ref["buffer"] == clobber[role.split("_")[0]]
            if ref["kind"] == "tensor":
                # The name is the model's own full tensor name at that (subgraph, tensor) index.
                assert ref["name"] == model.subgraphs[ref["subgraph"]].tensors[ref["tensor"]].name
    refs = {(c["victim_buffer"]["buffer"], c["writer_buffer"]["buffer"]) for c in doc["clobbers"]}
    assert any({0, 1} == set(pair) for pair in refs)


def test_plan_rows_carry_the_subgraph_tensor_index() -> None:
    doc = json.loads(_run("plan", str(KWS), "--json")[1])
    model = read_model(KWS)
    for row in doc["buffers"]:
        if row["kind"] == "tensor":
            assert model.subgraphs[row["subgraph"]].tensors[row["subgraph_tensor"]].name == row["name"]
    assert doc["violation_details"] == [] and doc["offline_overlap_details"] == []
