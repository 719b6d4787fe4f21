"""Fuzzing the other inputs: ``--plan`` files, MiniMalloc CSVs and size strings.

Every case ends in a result or one ``ArenaError`` naming the input (see ``fuzz_harness``); a plan
file the validator accepts must also be safe in simulation, and every packing must pass the
validator. Run with ``-s`` to see the outcome classes.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from arena.model import read_model
from arena.plan.pipeline import plan_model
from arena.render.plan import plan_document
from conftest import BUNDLED_MODELS
from fuzz_harness import Tally, capped_memory, run_csv_case, run_plan_file_case, run_size_case
from fuzz_inputs import CsvMutator, PlanMutator, problem_csv, size_string

BUNDLED = BUNDLED_MODELS / "kws_ds_cnn_int8.tflite"
SEED = 20_261_122


def _problem_rows() -> list[tuple[str, int, int, int]]:
    table = plan_model(BUNDLED).table
    return [(b.name, b.first, b.last + 1, b.size) for b in table.problem.buffers]


def test_plan_file_campaign(tmp_path: Path) -> None:
    model = read_model(BUNDLED)
    for allocator in ("tflm", "best-fit"):
        document = plan_document(plan_model(model, allocator=allocator))
        path = tmp_path / "plan.json"
        tally = Tally(f"--plan files ({allocator} plan of {BUNDLED.name})")
        with capped_memory():
            tally.campaign(
                1000,
                SEED,
                "plan.json",
                PlanMutator(document).mutate,
                lambda data, _, path=path: run_plan_file_case(path, data, model),
            )
        print(tally.report())
        assert not tally.failures, tally.report()
        assert tally.counts["loaded: valid plan"] > 50
        assert any(outcome.startswith("loaded: the plan breaks") for outcome in tally.counts)


def test_csv_campaign(tmp_path: Path) -> None:
    bases = {
        "bundled model's problem": problem_csv(_problem_rows()),
        "tiny problem": problem_csv([("a", 0, 2, 16), ("b", 1, 3, 32), ("c", 2, 4, 16)]),
    }
    path = tmp_path / "fuzz.csv"
    for name, text in bases.items():
        tally = Tally(f"CSV problems ({name})")
        with capped_memory():
            tally.campaign(
                1500, SEED, "fuzz.csv", CsvMutator(text).mutate, lambda data, number: run_csv_case(path, data, number)
            )
        print(tally.report())
        assert not tally.failures, tally.report()
        assert tally.counts["packed"] > 100


def test_size_string_campaign() -> None:
    tally = Tally("size strings")
    rng = random.Random(SEED)
    for number in range(4000):
        text, expected = size_string(rng)
        tally.run(
            f"case {number}: {text[:60]!r}",
            "--capacity",
            lambda text=text, expected=expected: run_size_case(text, expected),
        )  # type: ignore[misc]
    print(tally.report())
    assert not tally.failures, tally.report()
    assert tally.counts["parsed"] > 500


def test_plan_file_mutator_output_is_json_where_intended() -> None:
    """Guard the fuzzer itself: JSON-level mutations must still be JSON (else they test less)."""
    document = plan_document(plan_model(BUNDLED))
    mutator = PlanMutator(document)
    rng = random.Random(SEED)
    parsed = 0
    for _ in range(200):
        kind, _, data = mutator.mutate(rng)
        if kind in ("offset", "field", "rows", "top"):
            json.loads(data)
            parsed += 1
    assert parsed > 100
