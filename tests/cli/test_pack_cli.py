"""`arena pack` on MiniMalloc CSV problems: verdicts, solution file, errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena.cli import cli

# Three buffers, half-open lifetimes: a [0,2) 32 B, b [1,3) 16 B, c [2,4) 32 B.
# a and c never meet, b meets both: the best packing needs 48 B (a and c share, b beside).
PROBLEM = "id,lower,upper,size\na,0,2,32\nb,1,3,16\nc,2,4,32\n"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def problem_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.csv"
    path.write_text(PROBLEM)
    return path


def test_pack_writes_a_valid_solution(problem_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "solution.csv"
    code, stdout, _ = _run("pack", str(problem_file), "--output", str(out), "--capacity", "48")
    assert code == 0, stdout
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert [(r["lower"], r["upper"], r["size"]) for r in rows] == [
        ("0", "2", "32"),
        ("1", "3", "16"),
        ("2", "4", "32"),
    ]
    spans = {r["id"]: (int(r["offset"]), int(r["offset"]) + int(r["size"])) for r in rows}
    # b is live with a and with c: its bytes must not meet theirs.
    for other in ("a", "c"):
        assert spans["b"][1] <= spans[other][0] or spans[other][1] <= spans["b"][0]
    assert max(end for _, end in spans.values()) <= 48


def test_pack_capacity_too_small_exits_1(problem_file: Path) -> None:
    code, stdout, _ = _run("pack", str(problem_file), "--capacity", "40", "--json")
    doc = json.loads(stdout)
    assert code == 1 and doc["fits"] is False and doc["peak_bytes"] > 40


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("nothing,here\n1,2\n", "missing column"),
        ("id,lower,upper,size\nx,3,1,16\n", "upper 1 <= lower 3"),
        ("id,lower,upper,size\nx,0,1,big\n", "size 'big' is not an integer"),
        ("id,lower,upper,size\nx,0,1,16\nx,0,1,16\n", "repeated"),
    ],
)
def test_bad_problem_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, stdout, stderr = _run("pack", str(path))
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("arena: error: bad.csv") and message in stderr


def test_bad_capacity(problem_file: Path) -> None:
    code, _, stderr = _run("pack", str(problem_file), "--capacity", "lots")
    assert code == 2 and stderr.strip() == (
        "arena: error: --capacity 'lots' does not parse; write e.g. 100KB, 0.25MB or 102400"
    )
