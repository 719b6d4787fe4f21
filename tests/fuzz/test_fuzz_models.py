"""Fuzzing the model path: every mutated or hostile model ends in a checked plan or one ArenaError.

Each case runs the library path of every command (read, lifetimes, a TFLM plan and a second
allocator's plan, both validated, simulation, cost, a plan-file round trip) under a time bound,
a memory cap and a peak-RSS check (see ``fuzz_harness``). Run with ``-s`` to see the outcome
classes. The default run covers the bundled model (so a clone without ../shared still fuzzes),
every shared model and the hand-built hostile models; ``slow`` runs the long campaign.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
import tflite

from arena.errors import ArenaError
from arena.model import read_model_bytes
from arena.plan.pipeline import plan_model
from arena.proofs.simulator import simulate_plan
from conftest import BUNDLED_MODELS, shared_model_paths
from fuzz_harness import PLANNED, Tally, capped_memory, run_model_case
from fuzz_layout import locate_fields
from fuzz_models import HOSTILE_MODELS
from fuzz_mutate import ModelMutator

BUNDLED = BUNDLED_MODELS / "kws_ds_cnn_int8.tflite"
SEED = 20_261_122
LABEL = "fuzz.tflite"
#: Models the campaign spends fewer cases on: each case plans ~700 ops (~0.2 s).
HEAVY_MODELS = {"armex_basic_lstm_quantized_small.tflite"}


def _campaign(name: str, data: bytes, cases: int, seed: int) -> Tally:
    tally = Tally(name)
    with capped_memory():
        tally.campaign(
            cases, seed, LABEL, ModelMutator(data).mutate, lambda case, number: run_model_case(case, LABEL, number)
        )
    print(tally.report())
    return tally


def _shared_campaign(cases_per_model: int, seed: int) -> list[Tally]:
    tallies = []
    for path in shared_model_paths():
        cases = max(cases_per_model // 10, 10) if path.name in HEAVY_MODELS else cases_per_model
        tallies.append(_campaign(path.name, path.read_bytes(), cases, seed))
    return tallies


def test_field_map_agrees_with_the_generated_accessors() -> None:
    """The mutator's byte positions are the fields the reader sees (structure-aware for real)."""
    data = BUNDLED.read_bytes()
    fields = locate_fields(data)
    model = tflite.Model.GetRootAs(data, 0)
    graph = model.Subgraphs(0)
    for t in range(graph.TensorsLength()):
        dims = [f for f in fields if f.role == "shape_dim" and f.where.startswith(f"subgraph 0 tensor {t} shape[")]
        assert [struct.unpack_from("<i", data, f.pos)[0] for f in dims] == graph.Tensors(t).ShapeAsNumpy().tolist()
    for o in range(graph.OperatorsLength()):
        inputs = [f for f in fields if f.where.startswith(f"subgraph 0 op {o} inputs[")]
        assert [struct.unpack_from("<i", data, f.pos)[0] for f in inputs] == graph.Operators(o).InputsAsNumpy().tolist()
    roles = {f.role for f in fields}
    assert {
        "vector_length",
        "uoffset",
        "soffset",
        "vtable_entry",
        "tensor_index",
        "shape_dim",
        "opcode_index",
        "builtin_code",
        "option",
        "string_length",
    } <= roles


def test_bundled_model_campaign() -> None:
    tally = _campaign(BUNDLED.name, BUNDLED.read_bytes(), 3000, SEED)
    assert not tally.failures, tally.report()
    assert tally.counts[PLANNED] > 300, "the mutations should leave many models plannable"
    assert len(tally.counts) > 20, "the mutations should reach many different checks"


def test_shared_models_campaign(shared_dir: Path) -> None:
    tallies = _shared_campaign(100, SEED)
    assert len(tallies) >= 20
    failures = [f for tally in tallies for f in tally.failures]
    assert not failures, "\n".join(t.report() for t in tallies if t.failures)


@pytest.mark.parametrize("name", HOSTILE_MODELS)
def test_hostile_model(name: str) -> None:
    build, expected = HOSTILE_MODELS[name]
    data = build()
    tally = Tally(name)
    with capped_memory():
        for variant in range(6):
            tally.run(
                f"{name} variant {variant}",
                "hostile.tflite",
                lambda variant=variant: run_model_case(data, "hostile.tflite", variant),
            )  # type: ignore[misc]
        try:
            result = plan_model(read_model_bytes(data, "hostile.tflite"), allow_unsupported=True)
            outcome = "planned"
            assert result.ok
            if result.plan.peak_bytes <= 1 << 20:
                assert simulate_plan(result).ok
        except ArenaError as error:
            outcome = str(error)
            assert outcome.startswith("hostile.tflite: ") and "\n" not in outcome
    print(tally.report())
    assert not tally.failures, tally.report()
    assert expected in outcome, f"{name}: expected {expected!r}, got {outcome!r}"


@pytest.mark.slow
def test_long_campaign_bundled() -> None:
    tally = _campaign(BUNDLED.name, BUNDLED.read_bytes(), 6000, SEED + 1)
    assert not tally.failures, tally.report()


@pytest.mark.slow
def test_long_campaign_shared(shared_dir: Path) -> None:
    tallies = _shared_campaign(250, SEED + 1)
    failures = [f for tally in tallies for f in tally.failures]
    assert not failures, "\n".join(t.report() for t in tallies if t.failures)
