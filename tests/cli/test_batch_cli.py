"""``--batch N`` on plan and check: activations scaled by N in the lifetime problem, re-planned."""

from __future__ import annotations

import json

from click.testing import CliRunner

from arena.cli import cli
from arena.model.reader import read_model
from conftest import BUNDLED_MODELS

KWS = BUNDLED_MODELS / "kws_ds_cnn_int8.tflite"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _expected_bound(rows: list[dict[str, object]], batch: int) -> tuple[int, int]:
    """Recomputed from the problem's definition: a batch-1 activation (outer dim 1, rank >= 2)
    grows to ceil(N x raw bytes / 16) x 16 (TFLM's 16-byte alignment); the max-load bound is the
    largest sum of sizes live at one step (lifetimes inclusive)."""
    model = read_model(KWS)
    sizes, scaled = [], 0
    for row in rows:
        size = int(row["aligned_bytes"])
        if row["kind"] == "tensor":
            shape = model.subgraphs[int(row["subgraph"])].tensors[int(row["subgraph_tensor"])].shape
            if len(shape) >= 2 and shape[0] == 1:
                size = -(-int(row["bytes"]) * batch // 16) * 16
                scaled += 1
        sizes.append(size)
    last = max(int(r["last"]) for r in rows)
    loads = [
        sum(s for s, r in zip(sizes, rows, strict=True) if int(r["first"]) <= step <= int(r["last"]))
        for step in range(last + 1)
    ]
    return max(loads), scaled


def test_plan_batch_rows_match_the_recomputed_bound() -> None:
    code, out, _ = _run("plan", str(KWS), "--batch", "2", "--batch", "4", "--json")
    doc = json.loads(out)
    assert code == 0
    rows = doc["batches"]
    assert [r["batch"] for r in rows] == [1, 2, 4]
    assert rows[0]["head_bytes"] == doc["arena"]["head_bytes"]  # batch 1 is the plan itself
    for row in rows:
        bound, scaled = _expected_bound(doc["buffers"], row["batch"])
        assert row["lower_bound_bytes"] == bound
        assert row["scaled_buffers"] == (0 if row["batch"] == 1 else scaled)
        assert row["lower_bound_bytes"] <= row["head_bytes"] <= row["tflm_head_bytes"]


def test_check_batch_table_and_bad_batch() -> None:
    code, out, _ = _run("check", str(KWS), "--target", "nucleo-l4r5zi", "--batch", "3")
    assert code == 0 and "batch" in out and "    3 " in out
    code, out, err = _run("plan", str(KWS), "--batch", "0")
    assert code == 2 and "--batch" in err
