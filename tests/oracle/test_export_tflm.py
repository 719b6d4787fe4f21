"""Real TFLM runs the exported model with exactly the exported head and tail, same outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.commands.export import build_export
from arena.proofs.tflm_run import execute_plan
from arena.targets import choose_target
from conftest import model_id, shared_model_paths
from tflm_probe import probe_tflm

pytestmark = pytest.mark.oracle


@pytest.mark.parametrize("path", shared_model_paths(), ids=model_id)
def test_tflm_uses_the_exported_plan(path: Path, shared_dir: Path, tmp_path: Path) -> None:
    if probe_tflm(path).error is not None:
        pytest.skip("TFLM does not run this model")
    bundle = build_export(path, target=choose_target("x86-64-host"), allocator="hill-climb")
    exported = tmp_path / path.name
    exported.write_bytes(bundle.model_bytes)
    measured = probe_tflm(exported)
    # The header's head and tail are what the tflite-micro package (a 64-bit host) reports.
    assert (measured.head_bytes, measured.tail_bytes) == (bundle.arena.head_bytes, bundle.arena.tail_bytes)
    execution = execute_plan(bundle.planned)
    assert execution.outputs_identical, execution
