"""Prove a plan on the real runtime: TFLM runs the model with the plan embedded, bit for bit.

The plan's tensor offsets go into the model as ``OfflineMemoryAllocation`` metadata
(:mod:`arena.export.offline_model`); TFLM then places every planned tensor where the plan says and
its greedy planner places the scratch buffers around them (they cannot be planned offline).
Three runs on the same inputs, each in a child process because TFLM may crash instead of failing:

1. TFLM (``tflite-micro``) on the unmodified model, with a generous arena: the reference
   outputs and the tail (persistent bytes) that ``print_allocations`` reports;
2. TFLM on the planned model with an arena of ``arena_size`` bytes (default: the predicted head
   plus the measured tail plus slack for TFLM's transient planning memory): outputs must be
   identical, and the head TFLM reports must be the plan's;
3. ai-edge-litert's reference kernels (``BUILTIN_REF``) on the unmodified model, as an
   independent implementation: the largest absolute difference is reported, not judged.

The child side is this module run as ``python -m arena.execute REQUEST.json``.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from arena._io import write_atomic
from arena.errors import ArenaError
from arena.export.offline_model import embed_plan
from arena.lifetimes import BufferKind
from arena.model.reader import read_model_bytes
from arena.model.records import Model
from arena.planning import PlanResult, plan_model

#: Tensor types arena can feed and compare, by their schema names (also numpy dtype names).
_FEEDABLE = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64".split()
)
#: Smallest arena for the reference (unmodified) run; TFLM's own default is 10 x the model size.
REFERENCE_ARENA_BYTES = 4 * 1024 * 1024
#: Slack over head + tail for what TFLM holds only while it plans (tensorflow/lite/micro/
#: micro_allocator.cc ``CommitStaticMemoryPlan``: one AllocationInfo per tensor and scratch
#: buffer, 40 bytes of planner scratch per planned buffer, the scratch request array), generous.
SLACK_BYTES, SLACK_PER_BUFFER_BYTES = 4096, 128
_MARK = "@@ARENA_EXECUTE_JSON@@ "
#: Where ``arena`` is imported from, so the child finds the same package.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])
#: The child's capture of C-level stderr (TFLM's messages), kept in its working folder.
_FD2_LOG = "fd2.log"

Array = npt.NDArray[Any]


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


def _dtype(model: Model, tensor_index: int) -> np.dtype[Any]:
    tensor = model.subgraphs[0].tensors[tensor_index]
    if tensor.type_name not in _FEEDABLE:
        raise ArenaError(
            f"{model.display_name}: graph tensor {tensor_index} has type {tensor.type_name},"
            " which arena cannot feed"
        )
    return np.dtype(tensor.type_name)


def _random_input(rng: np.random.Generator, dtype: np.dtype[Any], shape: tuple[int, ...]) -> Array:
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    info = np.iinfo(dtype)
    low, high = (info.min, info.max) if dtype.itemsize <= 2 else (max(info.min, -128), 127)
    return rng.integers(low, high, shape, endpoint=True).astype(dtype)


def _input_position(key: str, names: list[str], label: str) -> int:
    if key in names:
        return names.index(key)
    digits = key.removeprefix("arr_").removeprefix("input_")
    if digits.isdigit() and int(digits) < len(names):
        return int(digits)
    raise ArenaError(
        f"{label}: array {key!r} names no graph input"
        f" (use 0..{len(names) - 1}, input_<k>, arr_<k> or a name in {names})"
    )


def make_inputs(
    model: Model, source: str | Path | Mapping[str, Array] | None = None, seed: int = 0
) -> tuple[Array, ...]:
    """One array per graph input of subgraph 0: from ``source`` (an .npz path or mapping keyed by
    input index, ``input_<index>``, ``arr_<index>`` or tensor name), else seeded random of the
    right dtype and shape.

    Random data: 8- and 16-bit integers over their whole range, wider integers in [-128, 127],
    floats standard normal.

    Raises
    ------
    ArenaError
        When the file cannot be read, or an array is missing, unknown, or of the wrong dtype or shape.

    Examples
    --------
    >>> from arena.model.records import Model, Subgraph, Tensor
    >>> x = Tensor(index=0, name="x", shape=(1, 3), type_code=9, buffer=0, has_data=False, is_variable=False)
    >>> m = Model(path="m.tflite", sha256="", size_bytes=0, version=3, description="", metadata=(),
    ...           buffer_count=0, data=b"", subgraphs=(Subgraph(index=0, name="", tensors=(x,),
    ...                                                  operators=(), inputs=(0,), outputs=(0,)),))
    >>> make_inputs(m, seed=1)[0].dtype, make_inputs(m, {"x": np.zeros((1, 3), np.int8)})[0].tolist()
    (dtype('int8'), [[0, 0, 0]])
    """
    graph = model.subgraphs[0]
    dtypes = [_dtype(model, t) for t in graph.inputs]
    shapes = [graph.tensors[t].shape for t in graph.inputs]
    if source is None:
        rng = np.random.default_rng(seed)
        return tuple(_random_input(rng, d, s) for d, s in zip(dtypes, shapes, strict=True))
    label = Path(source).name if isinstance(source, str | Path) else "inputs"
    arrays = _load_npz(source, label) if isinstance(source, str | Path) else dict(source)
    names = [graph.tensors[t].name for t in graph.inputs]
    given = {_input_position(str(key), names, label): np.asarray(value) for key, value in arrays.items()}
    result = []
    for position, (dtype, shape) in enumerate(zip(dtypes, shapes, strict=True)):
        if position not in given:
            raise ArenaError(f"{label}: no array for graph input {position} '{names[position]}'")
        array = given[position]
        if array.dtype != dtype or tuple(array.shape) != shape:
            raise ArenaError(
                f"{label}: input {position} '{names[position]}' is {array.dtype}{list(array.shape)},"
                f" the model wants {dtype}{list(shape)}"
            )
        result.append(array)
    return tuple(result)


def _load_npz(path: str | Path, label: str) -> dict[str, Array]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as error:
        raise ArenaError(f"{label}: cannot read input arrays ({error})") from error


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
        ScratchMove(
            buffer=i, name=result.table.problem.buffers[i].name, planned_offset=planned, tflm_offset=placed
        )
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


def _compare(
    model: Model, unmodified: RuntimeRun, planned: RuntimeRun, litert: RuntimeRun
) -> tuple[OutputCheck, ...]:
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
                dtype=str(_dtype(model, tensor)),
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
    """Run one interpreter in ``python -m arena.execute``; a crash or timeout becomes ``error``."""
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
            [sys.executable, "-m", "arena.execute", str(work / f"{stem}.json")],
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
            (json.loads(line[len(_MARK) :]) for line in proc.stdout.splitlines() if line.startswith(_MARK)),
            {},
        )
        log = work / _FD2_LOG
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


def execution_document(result: ExecutionResult) -> dict[str, Any]:
    """A JSON-ready dict of the execution (the ``execution`` part of ``arena simulate --execute --json``)."""
    runs = (result.unmodified, result.planned, result.litert)
    return {
        "ok": result.ok,
        "outputs_identical": result.outputs_identical,
        "head_matches": result.head_matches,
        "plan_head_bytes": result.plan_head_bytes,
        "predicted_head_bytes": result.predicted_head_bytes,
        "tflm_head_bytes": result.planned.head_bytes,
        "arena_size_bytes": result.arena_size_bytes,
        "scratch_moves": [asdict(m) for m in result.scratch_moves],
        "runs": [{k: v for k, v in asdict(r).items() if k != "outputs"} for r in runs],
        "outputs": [asdict(o) for o in result.outputs],
    }


def render_execution_text(result: ExecutionResult) -> str:
    """What TFLM did with the embedded plan, and how the outputs compare."""
    planned = result.planned
    lines = [
        f"tflm run      planned model in a {result.arena_size_bytes:,} B arena:"
        + (
            f" head {planned.head_bytes:,} B (plan {result.plan_head_bytes:,} B),"
            f" tail {planned.tail_bytes:,} B"
            if planned.ok and planned.head_bytes is not None
            else f" FAILED: {planned.error}"
        )
    ]
    lines.extend(
        f"scratch       {m.name} placed by TFLM at {m.tflm_offset:,}, plan says {m.planned_offset:,}"
        for m in result.scratch_moves
    )
    for run in (result.unmodified, result.litert):
        if not run.ok:
            lines.append(f"reference     {run.runtime} on the {run.model} model FAILED: {run.error}")
    compared = result.unmodified.ok and planned.ok
    for check in result.outputs:
        same = ("identical" if check.identical else "DIFFERENT") if compared else "not compared"
        diff = "n/a" if check.litert_max_abs_diff is None else f"{check.litert_max_abs_diff:g}"
        lines.append(
            f"output {check.index:<6} {check.dtype} '{check.name}': {same} to unmodified TFLM;"
            f" LiteRT max abs diff {diff}"
        )
    verdict = "PASS" if result.ok else "FAIL"
    lines.append(
        f"execution     {verdict}: outputs {'identical' if result.outputs_identical else 'differ'},"
        f" head {'matches' if result.head_matches else 'differs from'} the plan"
    )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------- child process
def _capture_fd2(call: Callable[[], Any]) -> tuple[Any, str]:
    """``call()`` with C-level fd 2 captured; returns (result or exception, captured text)."""
    import ctypes

    libc = ctypes.CDLL(None)
    with open(_FD2_LOG, "w+b") as sink:  # in the child's working folder, read back after a crash
        saved = os.dup(2)
        sys.stderr.flush()
        os.dup2(sink.fileno(), 2)
        try:
            value: Any = call()
        except (RuntimeError, ValueError) as error:  # how both interpreters refuse a model or input
            value = error
        finally:
            libc.fflush(None)
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        return value, sink.read().decode(errors="replace")


def _child_tflm(request: dict[str, Any], inputs: list[Array]) -> tuple[dict[str, Any], list[Array]]:
    from tflite_micro import runtime  # type: ignore[import-untyped]

    data = Path(request["model"]).read_bytes()
    interpreter, text = _capture_fd2(
        lambda: runtime.Interpreter.from_bytes(data, arena_size=request["arena_size"])
    )
    if isinstance(interpreter, Exception):
        return {"error": " ".join(f"TFLM refused the model: {interpreter} {text}".split())}, []
    _, text = _capture_fd2(interpreter.print_allocations)
    sizes = {k: int(v) for k, v in re.findall(r"Arena allocation (head|tail) (\d+) bytes", text)}
    for position, array in enumerate(inputs):
        interpreter.set_input(array, position)
    failed, text = _capture_fd2(interpreter.invoke)
    if isinstance(failed, Exception):
        return {**sizes, "error": " ".join(f"TFLM invoke failed: {failed} {text}".split())}, []
    return {**sizes, "error": None}, [
        interpreter.get_output(k) for k in range(len(request["output_tensors"]))
    ]


def _child_litert(request: dict[str, Any], inputs: list[Array]) -> tuple[dict[str, Any], list[Array]]:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType  # type: ignore[import-untyped]

    def run() -> list[Array]:
        interpreter = Interpreter(
            model_path=request["model"],
            num_threads=1,
            experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
        )
        interpreter.allocate_tensors()
        for tensor, array in zip(request["input_tensors"], inputs, strict=True):
            interpreter.set_tensor(tensor, array)
        interpreter.invoke()
        return [interpreter.get_tensor(t) for t in request["output_tensors"]]

    outputs, text = _capture_fd2(run)
    if isinstance(outputs, Exception):
        return {"error": " ".join(f"LiteRT failed: {outputs} {text}".split())[:500]}, []
    return {"error": None}, outputs


def _child_main(request_path: str) -> None:
    request = json.loads(Path(request_path).read_text())
    with np.load(request["inputs"], allow_pickle=False) as archive:
        inputs = [archive[f"arr_{k}"] for k in range(len(request["input_tensors"]))]
    child = _child_tflm if request["runtime"] == "tflm" else _child_litert
    report, outputs = child(request, inputs)
    np.savez(request["outputs"], *outputs)
    print(_MARK + json.dumps(report), flush=True)


if __name__ == "__main__":
    _child_main(sys.argv[1])
