"""Tests of the TFLM oracle itself (tflm_probe), so that a broken probe cannot pass for TFLM.

They run the real TFLM runtime in child processes (about 0.3 s per probe) and need the shared
models at ``../shared/models`` relative to the project root.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

try:
    from .tflm_probe import TflmProbe, probe_min_arena, probe_tflm
except ImportError:  # tests/oracle collected as a rootdir-relative module, not a package
    from tflm_probe import TflmProbe, probe_min_arena, probe_tflm

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
MODELS = SHARED / "models"
UNSUPPORTED = [
    "unsupported/armex_basic_lstm_quantized_small.tflite",
    "special/tflm_person_detect_vela.tflite",
]
# bytes per element by flatbuffer schema TensorType
SCHEMA_SIZE = {0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 6: 1, 7: 2, 8: 8, 9: 1, 10: 8, 12: 8, 15: 4, 16: 2}

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not MODELS.is_dir(), reason=f"shared models not found at {MODELS}"),
]


def runnable_models() -> list[str]:
    if not MODELS.is_dir():
        return []
    return sorted(p.name for p in MODELS.glob("*.tflite"))


_cache: dict[str, TflmProbe] = {}


def probe(name: str) -> TflmProbe:
    """Probe once per model per session: each probe costs a child process."""
    if name not in _cache:
        _cache[name] = probe_tflm(MODELS / name)
    return _cache[name]


def tensor_bytes(name: str) -> dict[int, int]:
    """Byte size of every subgraph-0 tensor, from the flatbuffer (not from arena/)."""
    import tflite

    sg = tflite.Model.GetRootAsModel((MODELS / name).read_bytes(), 0).Subgraphs(0)
    sizes = {}
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        sizes[i] = int(np.prod(t.ShapeAsNumpy())) * SCHEMA_SIZE[t.Type()]
    return sizes


def test_head_tail_total_stable_across_runs() -> None:
    name = "mlperf_kws_ref_model.tflite"
    a, b = probe(name), probe_tflm(MODELS / name)
    assert (a.head_bytes, a.tail_bytes, a.total_bytes) == (b.head_bytes, b.tail_bytes, b.total_bytes)
    assert a.head_bytes + a.tail_bytes == a.total_bytes
    assert a.tensor_offsets == b.tensor_offsets
    assert a.scratch_offsets == b.scratch_offsets


@pytest.mark.parametrize("name", runnable_models())
def test_offsets_aligned_and_inside_head(name: str) -> None:
    result = probe(name)
    assert result.error is None
    assert result.tensor_offsets, "no planned tensor found"
    sizes = tensor_bytes(name)
    for (subgraph, tensor), offset in result.tensor_offsets.items():
        assert subgraph == 0
        assert offset % 16 == 0, (tensor, offset)
        assert offset + -(-sizes[tensor] // 16) * 16 <= result.head_bytes, (tensor, offset)
    if result.scratch_offsets is not None:
        assert all(o % 16 == 0 and 0 <= o <= result.head_bytes for o in result.scratch_offsets)


def test_simple_add_slots_disjoint() -> None:
    result = probe("tflm_simple_add_model.tflite")
    offsets = sorted(result.tensor_offsets[(0, i)] for i in range(3))
    assert [b - a for a, b in zip(offsets, offsets[1:], strict=False)] == [16384, 16384]
    assert offsets[-1] + 16384 <= result.head_bytes == 49152
    assert result.scratch_offsets == ()


def test_scratch_buffers_found() -> None:
    """SVDF/LSTM/signal models request scratch buffers; plain conv models do not."""
    for name in [
        "tflm_keyword_scrambled.tflite",
        "tflm_micro_speech_lstm.tflite",
        "tflm_audio_preprocessor_int8.tflite",
    ]:
        assert probe(name).scratch_offsets, name
    assert probe("mlperf_kws_ref_model.tflite").scratch_offsets == ()


@pytest.mark.parametrize("name", UNSUPPORTED)
def test_unsupported_model_reports_error(name: str) -> None:
    result = probe_tflm(MODELS / name)
    assert result.error
    assert result.tensor_offsets == {} and result.head_bytes == 0


def test_matches_provenance_measurements() -> None:
    """With the package version PROVENANCE.md was measured with, head/tail must agree."""
    text = (MODELS / "PROVENANCE.md").read_text()
    version = re.search(r"tflite-micro==(\S+?)`", text)
    if version is None or metadata.version("tflite-micro") != version.group(1):
        pytest.skip("installed tflite-micro differs from the one PROVENANCE.md measured")
    rows = re.findall(r"^\| `([^`]+)` \| \d+ \| \d+ \| \d+ \| (\d+) \| (\d+) \|$", text, re.M)
    assert rows
    for name, head, tail in rows:
        if "/" not in name:
            assert (probe(name).head_bytes, probe(name).tail_bytes) == (int(head), int(tail)), name


def test_min_arena_bisection() -> None:
    name = "tflm_hello_world_int8.tflite"
    n = probe_min_arena(MODELS / name, 1, 8192)
    assert probe(name).total_bytes <= n <= 8192
    assert probe_min_arena(MODELS / name, n - 1, n) == n
