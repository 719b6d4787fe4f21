"""The foundation's promise, checked live: arena predicts TFLM's head and every buffer's offset.

For each model, real TFLM (the ``tflite-micro`` package) is run in a child process and its arena
is read back (see ``tflm_probe``). Nothing here is a number pasted from a previous run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.errors import UnsupportedModelError
from arena.lifetimes import BufferKind
from arena.plan.pipeline import plan_model
from conftest import BUNDLED_MODELS, model_id, shared_model_paths
from tflm_probe import probe_tflm

pytestmark = pytest.mark.oracle

MODELS = [*shared_model_paths(), *sorted(BUNDLED_MODELS.glob("*.tflite"))]


@pytest.mark.parametrize("path", MODELS, ids=model_id)
def test_head_and_offsets_match_tflm(path: Path, shared_dir: Path) -> None:
    measured = probe_tflm(path)
    if measured.error is not None:
        # TFLM refuses the model; arena must refuse it too (one explained error), not plan it.
        with pytest.raises(UnsupportedModelError):
            plan_model(path)
        return
    result = plan_model(path, allocator="tflm")
    assert result.plan.peak_bytes == measured.head_bytes
    predicted = {
        (origin.subgraph, origin.tensor): offset
        for origin, offset in zip(result.table.origins, result.plan.offsets, strict=True)
        if origin.kind is BufferKind.TENSOR
    }
    assert predicted == measured.tensor_offsets
    scratch = tuple(
        offset
        for origin, offset in zip(result.table.origins, result.plan.offsets, strict=True)
        if origin.kind is BufferKind.SCRATCH
    )
    assert measured.scratch_offsets is not None, "probe could not locate the scratch handles"
    assert scratch == measured.scratch_offsets


def test_every_shared_model_is_covered(shared_dir: Path) -> None:
    # Guard against a silently empty parametrisation: ../shared/models holds 21 models.
    assert len(shared_model_paths()) >= 20
