"""A sample of the fuzz cases through the real CLI: exit 0/1 with output, or exit 2 with one line.

Click's runner catches whatever escapes a command, so a traceback shows up here as an exception
other than ``SystemExit``; every exit 2 must print exactly one ``arena: error: <file>: ...`` line.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from arena.cli import cli
from arena.plan.pipeline import plan_model
from arena.render.plan import render_plan_json
from conftest import BUNDLED_MODELS
from fuzz_harness import capped_memory
from fuzz_inputs import CsvMutator, PlanMutator, problem_csv, size_string
from fuzz_models import HOSTILE_MODELS
from fuzz_mutate import ModelMutator

BUNDLED = BUNDLED_MODELS / "kws_ds_cnn_int8.tflite"
SEED = 20_261_122
MODEL_COMMANDS = (
    ("plan", "{m}"),
    ("plan", "{m}", "--json", "--allocator", "best-fit", "--kernels", "cmsis-nn"),
    ("simulate", "{m}", "--no-chart"),
    ("cost", "{m}", "--target", "cortex-m4"),
)


class _Cli:
    """Runs commands, checks the exit-code contract, and counts outcomes."""

    def __init__(self) -> None:
        self.runner = CliRunner()
        self.outcomes: Counter[str] = Counter()
        self.failures: list[str] = []

    def run(self, args: list[str], allowed: set[int], name: str, what: str) -> None:
        with capped_memory():
            result = self.runner.invoke(cli, args)
        where = f"{what}: arena {' '.join(args)}"
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            self.failures.append(f"{where}: {type(result.exception).__name__}: {result.exception}")
            return
        if result.exit_code not in allowed:
            self.failures.append(f"{where}: exit {result.exit_code} ({result.stderr.strip()[:200]})")
        if result.exit_code == 2:
            lines = result.stderr.splitlines()
            if len(lines) != 1 or not lines[0].startswith(f"arena: error: {name}"):
                self.failures.append(f"{where}: exit 2 with stderr {result.stderr[:300]!r}")
        self.outcomes[f"{args[0]}: exit {result.exit_code}"] += 1

    def check(self) -> None:
        print(dict(sorted(self.outcomes.items())))
        assert not self.failures, "\n".join(self.failures[:20])


def test_mutated_and_hostile_models_through_the_cli(tmp_path: Path) -> None:
    cli_run = _Cli()
    mutator = ModelMutator(BUNDLED.read_bytes())
    rng = random.Random(SEED)
    path = tmp_path / "fuzz.tflite"
    for number in range(60):
        kind, what, data = mutator.mutate(rng)
        path.write_bytes(data)
        command = MODEL_COMMANDS[number % len(MODEL_COMMANDS)]
        cli_run.run([part.format(m=path) for part in command], {0, 2}, path.name, f"case {number} {kind}: {what}")
    # Hostile models through plan and cost only: `arena simulate` plays a real byte array of the
    # head (9 bytes per head byte), so the valid 1 GiB plans among them are not simulated here.
    for number, (name, (build, _)) in enumerate(HOSTILE_MODELS.items()):
        path.write_bytes(build())
        command = MODEL_COMMANDS[(0, 1, 3)[number % 3]]
        cli_run.run([part.format(m=path) for part in command], {0, 2}, path.name, name)
    cli_run.check()
    assert cli_run.outcomes["plan: exit 0"] and cli_run.outcomes["plan: exit 2"]


def test_plan_files_csvs_and_sizes_through_the_cli(tmp_path: Path) -> None:
    cli_run = _Cli()
    rng = random.Random(SEED)
    plan_path, csv_path = tmp_path / "plan.json", tmp_path / "fuzz.csv"
    result = plan_model(BUNDLED)
    plans = PlanMutator(json.loads(render_plan_json(result)))
    for number in range(40):
        kind, what, data = plans.mutate(rng)
        plan_path.write_bytes(data)
        cli_run.run(
            ["simulate", str(BUNDLED), "--plan", str(plan_path), "--no-chart"],
            {0, 1, 2},
            plan_path.name,
            f"plan case {number} {kind}: {what[:100]}",
        )
    rows = [(b.name, b.first, b.last + 1, b.size) for b in result.table.problem.buffers]
    csvs = CsvMutator(problem_csv(rows))
    for number in range(40):
        kind, what, data = csvs.mutate(rng)
        csv_path.write_bytes(data)
        cli_run.run(
            ["pack", str(csv_path), "--allocator", ("tflm", "best-fit", "breadth")[number % 3]],
            {0, 1, 2},
            csv_path.name,
            f"csv case {number} {kind}: {what[:100]}",
        )
    csv_path.write_text(problem_csv(rows))
    for number in range(40):
        text, _ = size_string(rng)
        if text.startswith("-") or not text or "\x00" in text:
            continue  # click reads these as options or cannot pass them in argv
        cli_run.run(
            ["pack", str(csv_path), f"--capacity={text}"], {0, 1, 2}, "--capacity", f"size case {number}: {text[:40]!r}"
        )
    cli_run.check()
