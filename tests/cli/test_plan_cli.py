"""`arena plan` through click's runner: output, JSON keys, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena.cli import cli
from conftest import BUNDLED_MODELS

KWS = BUNDLED_MODELS / "kws_ds_cnn_int8.tflite"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_text_summary() -> None:
    code, out, err = _run("plan", str(KWS))
    assert code == 0, err
    assert "arena head" in out and "lower bound" in out and "peak" in out
    assert "kws_ds_cnn_int8.tflite: 13 ops, 35 tensors" in out


def test_json_document() -> None:
    code, out, _ = _run("plan", str(KWS), "--json")
    assert code == 0
    doc = json.loads(out)
    assert {"path", "sha256", "subgraphs", "operators", "tensors"} <= set(doc["model"])
    # The default plan is the exact allocator's, with TFLM's own head always beside it.
    assert doc["allocator"] == "exact" and doc["kernels"] == "reference"
    assert doc["arena"]["tflm_head_bytes"] >= doc["arena"]["head_bytes"] >= doc["arena"]["lower_bound_bytes"]
    assert doc["arena"]["optimal"] is (doc["arena"]["status"] == "optimal")
    assert {"head_bytes", "lower_bound_bytes"} <= set(doc["arena"])
    assert doc["valid"] is True
    row_keys = {
        "kind",
        "tensor",
        "subgraph",
        "op",
        "name",
        "bytes",
        "aligned_bytes",
        "first",
        "last",
        "offset",
    }
    assert doc["buffers"] and all(row_keys <= set(row) for row in doc["buffers"])
    # The head is where the highest buffer ends: a fact about the rows, not about the code.
    assert doc["arena"]["head_bytes"] == max(r["offset"] + r["aligned_bytes"] for r in doc["buffers"])
    assert all(r["aligned_bytes"] % 16 == 0 and r["aligned_bytes"] >= r["bytes"] for r in doc["buffers"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "too short"),
        (b"hello world, not a flatbuffer at all", "not a TFLite model"),
    ],
)
def test_bad_files_give_one_line_and_exit_2(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.tflite"
    path.write_bytes(content)
    code, out, err = _run("plan", str(path))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("arena: error: bad.tflite: ") and message in err


def test_truncated_model(tmp_path: Path) -> None:
    path = tmp_path / "cut.tflite"
    path.write_bytes(KWS.read_bytes()[:5000])
    code, _, err = _run("plan", str(path))
    assert code == 2 and err.count("\n") == 1 and "cut.tflite" in err and "truncated" in err


def test_missing_file() -> None:
    code, _, err = _run("plan", "no/such/model.tflite")
    assert code == 2 and err.strip() == "arena: error: model.tflite: cannot read model file (No such file or directory)"


def test_unsupported_model(shared_dir: Path) -> None:
    code, _, err = _run("plan", str(shared_dir / "unsupported" / "armex_basic_lstm_quantized_small.tflite"))
    assert code == 2 and err.count("\n") == 1
    assert "op 5 (FILL)" in err and "constant dims" in err


def test_unknown_allocator_is_a_usage_error() -> None:
    code, _, err = _run("plan", str(KWS), "--allocator", "bestfit")
    assert code == 2 and "bestfit" in err


def test_help_does_not_import_heavy_modules() -> None:
    # Run in a fresh interpreter so that nothing imported by other tests hides a slow import.
    probe = (
        "import sys\n"
        "from arena.cli import cli\n"
        "try:\n    cli(['--help'], prog_name='arena')\nexcept SystemExit:\n    pass\n"
        "names = ('numpy', 'networkx', 'flatbuffers', 'tflite', 'tflite_micro', 'ai_edge_litert')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "HEAVY=\n" in out, out


def test_buffer_table_and_map() -> None:
    code, out, _ = _run("plan", str(KWS), "--buffers", "--map")
    doc = json.loads(_run("plan", str(KWS), "--json")[1])
    assert code == 0
    rows = [line for line in out.splitlines() if line.split()[:2][-1:] in (["tensor"], ["scratch"])]
    assert len(rows) == len(doc["buffers"])
    map_rows = [line for line in out.splitlines() if line.count("|") == 2]
    steps = {r["first"] for r in doc["buffers"]} | {r["last"] for r in doc["buffers"]}
    assert len(map_rows) == max(steps) - min(steps) + 1
