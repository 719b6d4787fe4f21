"""Prove a plan on the real runtime: TFLM runs the model with the plan embedded, bit for bit.

The plan's tensor offsets go into the model as ``OfflineMemoryAllocation`` metadata
(:mod:`arena.plan.embed`); TFLM then places every planned tensor where the plan says and
its greedy planner places the scratch buffers around them (they cannot be planned offline).
Three runs on the same inputs, each in a child process because TFLM may crash instead of failing:

1. TFLM (``tflite-micro``) on the unmodified model, with a generous arena: the reference
   outputs and the tail (persistent bytes) that ``print_allocations`` reports;
2. TFLM on the planned model with an arena of ``arena_size`` bytes (default: the predicted head
   plus the measured tail plus slack for TFLM's transient planning memory): outputs must be
   identical, and the head TFLM reports must be the plan's;
3. ai-edge-litert's reference kernels (``BUILTIN_REF``) on the unmodified model, as an
   independent implementation: the largest absolute difference is reported, not judged.

The child side is :mod:`arena.proofs.tflm_child`, run as ``python -m arena.proofs.tflm_child REQUEST.json``.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arena._io import write_atomic
from arena.lifetimes import BufferKind
from arena.model.reader import read_model_bytes
from arena.model.records import Model
from arena.plan.embed import embed_plan
from arena.plan.pipeline import PlanResult, plan_model
from arena.proofs.inputs import Array, input_dtype, make_inputs
from arena.proofs.tflm_child import FD2_LOG, RESULT_MARK

#: Smallest arena for the reference (unmodified) run; TFLM's own default is 10 x the model size.
REFERENCE_ARENA_BYTES = 4 * 1024 * 1024
#: Slack over head + tail for what TFLM holds only while it plans (tensorflow/lite/micro/
#: micro_allocator.cc ``CommitStaticMemoryPlan``: one AllocationInfo per tensor and scratch
#: buffer, 40 bytes of planner scratch per planned buffer, the scratch request array), generous.
SLACK_BYTES, SLACK_PER_BUFFER_BYTES = 4096, 128
#: Where ``arena`` is imported from, so the child finds the same package.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeRun:
    """One run: which runtime on which model, what it reported, and its outputs (none on error)."""

    runtime: str
    model: str
    arena_size_bytes: int | None
    head_bytes: int | None
    tail_bytes: int | None
    error: str | None
    outputs: tuple[Array, ...] = field(default=(), repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when the run finished and produced outputs."""
        return self.error is None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputCheck:
    """One graph output: planned TFLM vs unmodified TFLM (bit for bit) and vs LiteRT."""

    index: int
    tensor: int
    name: str
    dtype: str
    identical: bool
    litert_max_abs_diff: int | float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScratchMove:
    """A scratch buffer TFLM's greedy planner puts elsewhere than the plan (buffer index)."""

    buffer: int
    name: str
    planned_offset: int
    tflm_offset: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionResult:
    """The three runs and their comparison; ``ok`` when outputs are identical and heads agree.

    ``predicted_head_bytes`` is arena's prediction of what TFLM does with the embedded plan
    (tensors fixed, scratch placed by its greedy planner); it can differ from the plan's head
    only when ``scratch_moves`` is not empty.
    """

    model: str
    allocator: str
    plan_head_bytes: int
    predicted_head_bytes: int
    scratch_moves: tuple[ScratchMove, ...]
    arena_size_bytes: int
    unmodified: RuntimeRun
    planned: RuntimeRun
    litert: RuntimeRun
    outputs: tuple[OutputCheck, ...]

    @property
    def outputs_identical(self) -> bool:
        """True when both TFLM runs finished and every output is bit-identical."""
        return self.unmodified.ok and self.planned.ok and all(o.identical for o in self.outputs)

    @property
    def head_matches(self) -> bool:
        """True when the head TFLM reported for the planned model is the plan's head."""
        return self.planned.head_bytes == self.plan_head_bytes

    @property
    def ok(self) -> bool:
        """True when the plan ran in TFLM with identical outputs and exactly the plan's head."""
        return self.outputs_identical and self.head_matches


def default_arena_size(head_bytes: int, tail_bytes: int, buffer_count: int) -> int:
    """Head + tail + slack for TFLM's transient planning memory, rounded up to 16 bytes.

    >>> default_arena_size(16000, 8272, 35)
    32848
    """
    size = head_bytes + tail_bytes + SLACK_BYTES + SLACK_PER_BUFFER_BYTES * buffer_count
    return (size + 15) // 16 * 16


def _max_abs_diff(a: Array, b: Array) -> int | float | None:
    if a.shape != b.shape:
        return None
    if a.size == 0:
        return 0
    if a.dtype.kind in "biu" and b.dtype.kind in "biu":
        return int(np.max(np.abs(a.astype(np.int64) - b.astype(np.int64))))
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def _scratch_moves(result: PlanResult, realized: PlanResult) -> tuple[ScratchMove, ...]:
    assert len(realized.plan.offsets) == len(result.plan.offsets), "embedded plan changed the buffer list"
    return tuple(
        ScratchMove(buffer=i, name=result.table.problem.buffers[i].name, planned_offset=planned, tflm_offset=placed)
        for i, (origin, planned, placed) in enumerate(
            zip(result.table.origins, result.plan.offsets, realized.plan.offsets, strict=True)
        )
        if origin.kind is BufferKind.SCRATCH and planned != placed
    )


def execute_plan(
    result: PlanResult,
    *,
    arena_size: int | None = None,
    inputs: str | Path | Mapping[str, Array] | None = None,
    seed: int = 0,
    save_outputs: str | Path | None = None,
    timeout_seconds: float = 300.0,
) -> ExecutionResult:
    """Run ``result``'s plan embedded in its model in TFLM and compare against the unmodified model.

    Parameters
    ----------
    result
        The plan to prove (any allocator, or a plan file).
    arena_size
        Arena bytes for the planned run; None = :func:`default_arena_size` of the predicted head
        and the tail TFLM reports for the unmodified model.
    inputs, seed
        Input arrays (see :func:`make_inputs`); seeded random when ``inputs`` is None.
    save_outputs
        Write inputs and every run's outputs to this .npz (keys ``input_<k>``,
        ``tflm_unmodified_<k>``, ``tflm_planned_<k>``, ``litert_<k>``).
    timeout_seconds
        Per child process.

    Returns
    -------
    ExecutionResult
        Failed or crashed runs are reported in it (``error``), not raised.

    Raises
    ------
    ArenaError
        For unusable inputs, or a model the embedded plan cannot be written into.
    """
    model = result.model
    arrays = make_inputs(model, inputs, seed)
    embedded = embed_plan(result)
    realized = plan_model(
        read_model_bytes(embedded, model.path),
        allocator="tflm",
        kernels=result.table.kernels,
        allow_unsupported=bool(result.table.warnings),
    )
    graph = model.subgraphs[0]
    with tempfile.TemporaryDirectory(prefix="arena-execute-") as folder:
        work = Path(folder)
        (work / "unmodified.tflite").write_bytes(model.data)
        (work / "planned.tflite").write_bytes(embedded)
        np.savez(work / "inputs.npz", *arrays)

        def run(runtime: str, name: str, size: int | None) -> RuntimeRun:
            return _run_child(work, runtime, name, size, (graph.inputs, graph.outputs), timeout_seconds)

        unmodified = run("tflm", "unmodified", max(REFERENCE_ARENA_BYTES, 10 * model.size_bytes))
        if arena_size is None:
            tail = unmodified.tail_bytes if unmodified.tail_bytes is not None else REFERENCE_ARENA_BYTES
            arena_size = default_arena_size(realized.plan.peak_bytes, tail, len(result.plan.offsets))
        planned = run("tflm", "planned", arena_size)
        litert = run("litert", "unmodified", None)
    checks = _compare(model, unmodified, planned, litert)
    if save_outputs is not None:
        _save(save_outputs, arrays, unmodified, planned, litert)
    return ExecutionResult(
        model=model.display_name,
        allocator=result.allocator,
        plan_head_bytes=result.plan.peak_bytes,
        predicted_head_bytes=realized.plan.peak_bytes,
        scratch_moves=_scratch_moves(result, realized),
        arena_size_bytes=arena_size,
        unmodified=unmodified,
        planned=planned,
        litert=litert,
        outputs=checks,
    )


def _compare(model: Model, unmodified: RuntimeRun, planned: RuntimeRun, litert: RuntimeRun) -> tuple[OutputCheck, ...]:
    graph = model.subgraphs[0]
    checks = []
    for position, tensor in enumerate(graph.outputs):
        reference = unmodified.outputs[position] if unmodified.ok else None
        mine = planned.outputs[position] if planned.ok else None
        other = litert.outputs[position] if litert.ok else None
        identical = (
            reference is not None
            and mine is not None
            and reference.dtype == mine.dtype
            and reference.shape == mine.shape
            and reference.tobytes() == mine.tobytes()
        )
        ours = mine if mine is not None else reference  # LiteRT vs planned TFLM, else vs unmodified
        diff = None if ours is None or other is None else _max_abs_diff(ours, other)
        checks.append(
            OutputCheck(
                index=position,
                tensor=tensor,
                name=graph.tensors[tensor].name,
                dtype=str(input_dtype(model, tensor)),
                identical=identical,
                litert_max_abs_diff=diff,
            )
        )
    return tuple(checks)


def _save(path: str | Path, arrays: Sequence[Array], *runs: RuntimeRun) -> None:
    named = {f"input_{k}": a for k, a in enumerate(arrays)}
    for run in runs:
        prefix = "litert" if run.runtime == "litert" else f"tflm_{run.model}"
        named.update({f"{prefix}_{k}": a for k, a in enumerate(run.outputs)})
    buffer = io.BytesIO()
    np.savez(buffer, **named)  # type: ignore[arg-type]
    write_atomic(path, buffer.getvalue())


def _run_child(
    work: Path,
    runtime: str,
    name: str,
    arena_size: int | None,
    io_tensors: tuple[tuple[int, ...], tuple[int, ...]],
    timeout_seconds: float,
) -> RuntimeRun:
    """Run one interpreter in ``python -m arena.proofs.tflm_child``; a crash or timeout becomes ``error``."""
    stem = f"{runtime}_{name}"
    request = {
        "runtime": runtime,
        "model": str(work / f"{name}.tflite"),
        "arena_size": arena_size,
        "inputs": str(work / "inputs.npz"),
        "outputs": str(work / f"{stem}.npz"),
        "input_tensors": list(io_tensors[0]),
        "output_tensors": list(io_tensors[1]),
    }
    (work / f"{stem}.json").write_text(json.dumps(request))
    done: dict[str, Any] = {}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "arena.proofs.tflm_child", str(work / f"{stem}.json")],
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join([_PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")]),
            },
            cwd=work,
            capture_output=True,
            text=True,
            timeout=timeout_seconds,
            check=False,
        )
        done = next(
            (json.loads(line[len(RESULT_MARK) :]) for line in proc.stdout.splitlines() if line.startswith(RESULT_MARK)),
            {},
        )
        log = work / FD2_LOG
        stderr = proc.stderr + (log.read_text(errors="replace") if log.exists() else "")
        error = done.get("error") if done else _crash_text(runtime, proc.returncode, stderr)
    except subprocess.TimeoutExpired:
        error = f"{runtime} did not finish within {timeout_seconds:g} s"
    outputs: tuple[Array, ...] = ()
    if error is None:
        with np.load(work / f"{stem}.npz", allow_pickle=False) as archive:
            outputs = tuple(archive[f"arr_{k}"] for k in range(len(io_tensors[1])))
    return RuntimeRun(
        runtime=runtime,
        model=name,
        arena_size_bytes=arena_size,
        head_bytes=done.get("head"),
        tail_bytes=done.get("tail"),
        error=error,
        outputs=outputs,
    )


def _crash_text(runtime: str, returncode: int, stderr: str) -> str:
    how = f"was killed by signal {-returncode}" if returncode < 0 else f"exited {returncode}"
    last = stderr.strip().splitlines()[-1:] or [""]
    return f"{runtime} {how} without a result: {last[0][:200]}".rstrip(": ")
