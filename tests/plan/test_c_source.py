"""`arena export`: the C compiles (C99, C11, C++11, Cortex-M4), budgets assert, TFLM uses the plan."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena.cli import cli
from conftest import BUNDLED_MODELS

KWS = BUNDLED_MODELS / "kws_ds_cnn_int8.tflite"
WARNINGS = ["-Wall", "-Wextra", "-Werror", "-pedantic"]
HOST_COMPILERS = [
    ("c99", ["gcc", "-std=c99", "-x", "c"]),
    ("c11", ["gcc", "-std=c11", "-x", "c"]),
    ("c++11", ["g++", "-std=c++11", "-x", "c++"]),
]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _export(tmp_path: Path, *extra: str) -> tuple[int, str]:
    code, out, err = _run(
        "export", str(KWS), "--target", "nucleo-l4r5zi", "--header", str(tmp_path / "kws_arena.h"),
        "--source", str(tmp_path / "kws_arena.c"), "--model-array", str(tmp_path / "kws_data.c"),
        "--model-out", str(tmp_path / "kws_planned.tflite"), "--name", "kws", *extra,
    )  # fmt: skip
    return code, out + err


def _compile(command: list[str], source: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, *WARNINGS, "-c", str(source), "-o", "/dev/null"], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(("label", "command"), HOST_COMPILERS, ids=[c[0] for c in HOST_COMPILERS])
def test_exported_c_compiles_on_the_host(tmp_path: Path, label: str, command: list[str]) -> None:
    code, out = _export(tmp_path, "--allocator", "hill-climb", "--budget", "256KB")
    assert code == 0, out
    for name in ("kws_arena.c", "kws_data.c"):
        compiled = _compile(command, tmp_path / name)
        assert compiled.returncode == 0, f"{label} {name}: {compiled.stderr}"


def test_exported_c_compiles_for_cortex_m4(tmp_path: Path) -> None:
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed (Debian package gcc-arm-none-eabi)")
    assert _export(tmp_path, "--budget", "256KB")[0] == 0
    for name in ("kws_arena.c", "kws_data.c"):
        compiled = _compile(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-std=c99"], tmp_path / name)
        assert compiled.returncode == 0, compiled.stderr


def test_budget_too_small_fails_the_build_and_the_exit_code(tmp_path: Path) -> None:
    code, out = _export(tmp_path, "--budget", "1KB")
    assert code == 1 and "EXCEEDS" in out
    for label, command in HOST_COMPILERS:
        compiled = _compile(command, tmp_path / "kws_arena.c")
        assert compiled.returncode != 0, f"{label} accepted an arena over budget"


def test_header_states_the_planned_numbers(tmp_path: Path) -> None:
    _export(tmp_path, "--allocator", "hill-climb")
    header = (tmp_path / "kws_arena.h").read_text()
    doc = json.loads(_run("plan", str(KWS), "--target", "nucleo-l4r5zi", "--allocator", "hill-climb", "--json")[1])
    assert f"#define KWS_ARENA_SIZE {doc['arena']['total_bytes']}u" in header
    assert f"#define KWS_ARENA_TAIL_SIZE {doc['arena']['tail_bytes']}u" in header
    planned = (tmp_path / "kws_planned.tflite").read_bytes()
    assert f'"{hashlib.sha256(planned).hexdigest()}"' in header
    assert header.count("/* ") >= doc["model"]["tensors"]  # one commented row per tensor


def test_failed_export_leaves_existing_files(tmp_path: Path, shared_dir: Path) -> None:
    header = tmp_path / "model_arena.h"
    header.write_text("previous content\n")
    code, _, err = _run(
        "export", str(shared_dir / "unsupported" / "armex_basic_lstm_quantized_small.tflite"),
        "--target", "nucleo-l4r5zi", "--header", str(header),
    )  # fmt: skip
    assert code == 2 and err.startswith("arena: error:")
    assert header.read_text() == "previous content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["model_arena.h"]
