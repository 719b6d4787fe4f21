"""One small case per bug the fuzzer found, each with the one-line error it must now give.

Before the fixes these escaped as OverflowError, RecursionError, ValueError, csv.Error,
MemoryError or IndexError, hung, or returned a wrong number (see the notes per case).
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from arena.commands.pack import read_problem
from arena.errors import ArenaError
from arena.model import read_model, read_model_bytes
from arena.plan.pipeline import plan_model
from arena.plan.plan_file import read_plan_file
from arena.render.plan import plan_document
from arena.units import parse_size
from conftest import BUNDLED_MODELS
from fuzz_models import HOSTILE_MODELS, custom_op_model, flexbuffer_fan_out

BUNDLED = BUNDLED_MODELS / "kws_ds_cnn_int8.tflite"


def _one_line(error: pytest.ExceptionInfo[ArenaError], start: str, fragment: str) -> None:
    message = str(error.value)
    assert message.startswith(start) and "\n" not in message and fragment in message, message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1" * 5000, "larger than"),  # was OverflowError: float infinity to integer
        ("9" * 40 + "MB", "larger than"),
        ("-5KB", "is negative"),
        ("\u0661\u0660\u0660", "does not parse"),  # Arabic-Indic digits went through float()
        ("", "does not parse"),
        ("NaN", "does not parse"),
        ("1e999", "does not parse"),
    ],
)
def test_bad_sizes(text: str, fragment: str) -> None:
    with pytest.raises(ArenaError) as caught:
        parse_size(text, "--capacity")
    _one_line(caught, "--capacity ", fragment)


def test_sizes_are_exact() -> None:
    # Was parsed through a float: 2^53 + 1 came back as 2^53.
    assert parse_size("9007199254740993") == 9007199254740993
    assert parse_size("8589934593 KB") == 8589934593 * 1024


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"id,lower,upper,size\na,0,2,1\x00\n", "not an integer"),
        (b"id,lower,upper,size\n" + b"x" * 200_000 + b",0,1,16\n", "not CSV"),  # was _csv.Error
        (b"id,lower,upper,size\na,0,9223372036854775808,16\n", "outside the steps"),  # OverflowError
        (b"id,lower,upper,size\na,0," + b"9" * 400 + b",16\n", "too large"),
        (b"id,lower,upper,size\na,0,4294967296,16\n", "outside the steps"),  # MemoryError
        (b"id,lower,upper,size\na,-5,3,16\n", "outside the steps"),
        (b"id,lower,upper,size\na,0,1,4611686018427387905\n", "more than"),  # int64 overflow
        (b"id,lower,upper,size\na,0,1,1_000\n", "not an integer"),  # int() took underscores
    ],
)
def test_bad_csv_problems(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ArenaError) as caught:
        read_problem(path)
    _one_line(caught, "bad.csv: ", fragment)


def test_csv_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfid,lower,upper,size\na,0,2,16\n")
    assert len(read_problem(path).buffers) == 1


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deep"),  # was RecursionError
        ('{"buffers": [], "x": ' + "9" * 5000 + "}", "not a plan document"),  # was ValueError
    ],
)
def test_unreadable_plan_documents(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(text)
    with pytest.raises(ArenaError) as caught:
        read_plan_file(path, read_model(BUNDLED))
    _one_line(caught, "plan.json: ", fragment)


@pytest.mark.parametrize("offset", [2**63, 2**40, 10**30])
def test_plan_offsets_beyond_any_plan(tmp_path: Path, offset: int) -> None:
    # Was OverflowError in the int64 columns, or a simulator allocating the claimed head.
    result = plan_model(BUNDLED)
    document = plan_document(result)
    document["buffers"][3]["offset"] = offset
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ArenaError) as caught:
        read_plan_file(path, result.model)
    _one_line(caught, "plan.json: ", "the highest any plan needs")


def test_plan_file_kernels_must_be_a_library(tmp_path: Path) -> None:
    result = plan_model(BUNDLED)
    document = plan_document(result)
    document["kernels"] = ["reference"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ArenaError) as caught:
        read_plan_file(path, result.model)
    _one_line(caught, "plan.json: ", "not a kernel library")


def test_devices_are_not_read() -> None:
    # /dev/zero never ends: reading it whole was a hang and an unbounded allocation.
    with pytest.raises(ArenaError) as caught:
        read_model("/dev/zero")
    _one_line(caught, "zero: ", "a device")


def test_call_once_names_its_subgraph() -> None:
    # The options reader skipped every accessor starting with "Init", so CALL_ONCE's
    # init_subgraph_index was never read and every CALL_ONCE model was refused.
    build, _ = HOSTILE_MODELS["call chain 40 deep"]
    model = read_model_bytes(build(), "calls.tflite")
    assert model.subgraphs[0].operators[0].options == {"init_subgraph_index": 1}
    assert plan_model(model, allow_unsupported=True).ok


def test_custom_options_are_not_decoded_in_full() -> None:
    blob = flexbuffer_fan_out(width=100, layers=2)  # 100^3 = 1,000,000 ints from 810 bytes
    model = read_model_bytes(custom_op_model("SignalRfft", blob), "rfft.tflite")
    tracemalloc.start()
    try:
        plan_model(model)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"planning a {len(blob)}-byte custom options blob allocated {peak:,} bytes"
