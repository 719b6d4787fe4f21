"""Live oracle: measure what the real TFLM runtime (PyPI ``tflite-micro``) does with a model's arena.

Our tests compare the package ``arena``'s predictions against this module, so it deliberately uses
no code from ``arena/``: everything is measured from the running TFLM interpreter.

Why a child process: TFLM prints from C to fd 2 (which we capture with ``dup2``) and a too-small
arena can crash the process instead of raising. So each probe runs this file as a script in a
fresh interpreter and passes its result back as one JSON line on stdout.

Why we read process memory: the Python API exposes no tensor addresses. In the child we

1. fill every graph input with a random byte pattern (``set_input``),
2. find the arena: ``new uint8_t[arena_size]`` with ``arena_size >= 4 MiB`` is a glibc mmapped chunk,
   so a page ``P`` of an rw anonymous mapping holds ``prev_size == 0`` and a chunk size with
   ``IS_MMAPPED`` (2) set, and the arena pointer is ``P + 16`` (already 16-aligned, so it is also
   the head start),
3. find subgraph 0's ``TfLiteEvalTensor`` array (24 bytes each on x86-64: data ptr, dims ptr, type)
   in the tail: the unique 8-aligned start whose type fields all equal the model's tensor types and
   whose input data pointers point at our input patterns. Data pointer minus head start = offset.
4. find the ``ScratchBufferHandle`` array (8-byte data pointers). TFLM allocates it from the tail
   (which grows down) just before the online variable buffers (tensor-index order) or, without
   those, before ``input_tensors_`` (an array of ``TfLiteTensor*``, found through the input's
   ``TfLiteTensor``). So it starts within 16 bytes above the end of that next allocation; we read
   the run of 16-aligned head pointers there, require it to end on a 16-byte boundary (start of
   the previous persistent allocation) and require no other head pointer between it and the
   eval-tensor array. If any check fails we return ``None`` rather than guess; ``()`` means the
   model has no scratch buffers. Scratch sizes are not recoverable this way.

Only subgraph 0 is supported (all shared models have one subgraph); only x86-64 Linux + glibc.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

_MARK = "@@TFLM_PROBE_JSON@@ "
_EVAL = 24  # sizeof(TfLiteEvalTensor) on x86-64
# flatbuffer schema TensorType -> C TfLiteType (the enums differ)
_SCHEMA_TO_TFL = {
    0: 1,
    1: 10,
    2: 2,
    3: 3,
    4: 4,
    5: 5,
    6: 6,
    7: 7,
    8: 8,
    9: 9,
    10: 11,
    11: 12,
    12: 13,
    13: 14,
    14: 15,
    15: 16,
    16: 17,
    17: 18,
    18: 19,
}
# bytes per element by TfLiteType (for TfLiteEvalTensorByteLength of variable tensors)
_TFL_SIZE = {1: 4, 2: 4, 3: 1, 4: 8, 6: 1, 7: 2, 8: 8, 9: 1, 10: 2, 11: 8, 12: 16, 13: 8, 16: 4, 17: 2, 19: 2}


@dataclasses.dataclass(frozen=True)
class TflmProbe:
    """What TFLM did with one model's arena (head/tail/total from ``print_allocations()``)."""

    head_bytes: int
    tail_bytes: int
    total_bytes: int
    tensor_offsets: dict[tuple[int, int], int]  # (subgraph, tensor) -> offset from head start
    scratch_offsets: tuple[int, ...] | None  # in handle order; None = could not locate reliably
    error: str | None = None  # set when TFLM refused the model at construction


def probe_tflm(
    model_path: str | os.PathLike, arena_size: int = 4 * 1024 * 1024, timeout_seconds: float = 120
) -> TflmProbe:
    """Run TFLM on ``model_path`` in a child process and return its measured arena plan.

    ``arena_size`` must be >= 4 MiB (mmap-served, see module docstring). Keep it a multiple of 16:
    TFLM counts the misaligned end of the arena into ``tail_bytes``. Takes about 0.3 s.
    """
    if arena_size < 4 * 1024 * 1024:
        raise ValueError("arena_size must be >= 4 MiB so glibc serves the arena by mmap")
    out = _run_child(["probe", os.fspath(model_path), str(arena_size)], timeout_seconds)
    return TflmProbe(
        head_bytes=out["head"],
        tail_bytes=out["tail"],
        total_bytes=out["total"],
        tensor_offsets={(0, int(k)): v for k, v in out["offsets"].items()},
        scratch_offsets=None if out["scratch"] is None else tuple(out["scratch"]),
        error=out["error"],
    )


def probe_min_arena(model_path: str | os.PathLike, lo: int, hi: int, timeout_seconds: float = 60) -> int:
    """Smallest ``arena_size`` in [lo, hi] for which ``Interpreter.from_file`` succeeds.

    Bisection, each try in its own child process since some too-small arenas crash TFLM.
    """
    if not _fits(model_path, hi, timeout_seconds):
        raise ValueError(f"{model_path} does not fit in an arena of {hi} bytes")
    while lo < hi:
        mid = (lo + hi) // 2
        if _fits(model_path, mid, timeout_seconds):
            hi = mid
        else:
            lo = mid + 1
    return hi


def _fits(model_path: str | os.PathLike, size: int, timeout: float) -> bool:
    for attempt in range(2):  # one retry: a child that dies without a signal is not TFLM's answer
        try:
            return bool(_run_child(["fits", os.fspath(model_path), str(size)], timeout)["ok"])
        except ChildCrashed as exc:
            if exc.returncode < 0:  # killed by a signal (SIGSEGV, SIGABRT): arena too small
                return False
            if attempt:
                raise
    raise AssertionError("unreachable")


class ChildCrashed(RuntimeError):
    """The child process ended without printing a result."""

    def __init__(self, message: str, returncode: int) -> None:
        super().__init__(message)
        self.returncode = returncode


def _run_child(args: list[str], timeout: float) -> dict:
    """Run this file as a script; return the JSON it prints, or raise with its stderr."""
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(_MARK):
            return json.loads(line[len(_MARK) :])
    raise ChildCrashed(f"TFLM child {args} exited {proc.returncode}: {proc.stderr[-2000:]}", proc.returncode)


# ----------------------------------------------------------------------------------- child side
def _child_fits(path: str, size: int) -> dict:
    from tflite_micro import runtime

    try:
        runtime.Interpreter.from_file(path, arena_size=size)
    except Exception as exc:  # any refusal counts as "does not fit"
        return {"ok": False, "why": f"{type(exc).__name__}: {exc}"}
    return {"ok": True}


def _capture_fd2(fn: Callable[[], Any]) -> tuple[Any, RuntimeError | None, str]:
    """Call ``fn()`` with C-level fd 2 redirected to a temp file; return (result, error, text)."""
    libc = ctypes.CDLL(None)
    with tempfile.TemporaryFile() as tmp:
        saved = os.dup(2)
        sys.stderr.flush()
        os.dup2(tmp.fileno(), 2)
        result, error = None, None
        try:
            result = fn()
        except RuntimeError as exc:  # what TFLM raises when it refuses a model
            error = exc
        finally:
            libc.fflush(None)
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode(errors="replace")
    return result, error, text


def _print_allocations(interp: Any) -> dict[str, int]:
    """Parse head/tail/total from what print_allocations() writes to fd 2."""
    _, _, text = _capture_fd2(interp.print_allocations)
    got = dict(re.findall(r"Arena allocation (head|tail|total) (\d+) bytes", text))
    if set(got) != {"head", "tail", "total"}:
        raise RuntimeError(f"unexpected print_allocations output: {text!r}")
    return {k: int(v) for k, v in got.items()}


def _arena_candidates(arena_size: int) -> list[int]:
    """Arena pointers: pages of rw anonymous mappings holding a matching glibc mmapped chunk."""
    found = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            f = line.split()
            if not f[1].startswith("rw") or f[4] != "0" or len(f) > 5:
                continue
            start, end = (int(x, 16) for x in f[0].split("-"))
            for page in range(start, end - arena_size - 16 + 1, 4096):
                prev, size = (int.from_bytes(ctypes.string_at(page + o, 8), "little") for o in (0, 8))
                csize = size & ~7
                if (
                    prev == 0
                    and size & 2
                    and arena_size + 16 <= csize <= arena_size + 4096 + 32
                    and page + csize <= end
                ):
                    found.append(page + 16)
    return found


def _child_probe(path: str, arena_size: int) -> dict:
    import numpy as np
    import tflite
    from tflite_micro import runtime

    result = {"head": 0, "tail": 0, "total": 0, "offsets": {}, "scratch": None, "error": None}
    interp, exc, text = _capture_fd2(lambda: runtime.Interpreter.from_file(path, arena_size=arena_size))
    if exc is not None:
        result["error"] = " | ".join(x for x in (str(exc), " ".join(text.split())) if x)
        return result
    model = tflite.Model.GetRootAsModel(Path(path).read_bytes(), 0)
    sg = model.Subgraphs(0)
    n = sg.TensorsLength()
    tensors = [sg.Tensors(i) for i in range(n)]
    types = [_SCHEMA_TO_TFL[t.Type()] for t in tensors]
    inputs = [int(i) for i in sg.InputsAsNumpy()]

    rng = np.random.default_rng(0x7F1A)
    patterns = {}
    for k, t_idx in enumerate(inputs):
        det = interp.get_input_details(k)
        dtype, shape = np.dtype(det["dtype"]), tuple(int(s) for s in det["shape"])
        raw = rng.integers(0, 256, size=int(np.prod(shape)) * dtype.itemsize, dtype=np.uint8)
        interp.set_input(raw.view(dtype).reshape(shape), k)
        patterns[t_idx] = raw.tobytes()
    alloc = _print_allocations(interp)
    result.update(alloc)
    head, tail = alloc["head"], alloc["tail"]

    hits = []  # (arena ptr, arena bytes, eval-array start offset)
    candidates = _arena_candidates(arena_size)
    if not candidates:
        raise RuntimeError(f"no glibc mmapped chunk for a {arena_size}-byte arena in /proc/self/maps")
    for ptr in candidates:
        mem = ctypes.string_at(ptr, arena_size) + bytes(-arena_size % 8)  # pad for u8 views
        t32 = np.frombuffer(mem, dtype="<i4")
        t64 = np.frombuffer(mem, dtype="<u8")
        for s in range((arena_size - tail) // 8 * 8, arena_size - _EVAL * n + 1, 8):
            if any(t32[(s + _EVAL * i + 16) // 4] != types[i] for i in range(n)):
                continue
            ok = True
            for t_idx, pat in patterns.items():
                d = int(t64[(s + _EVAL * t_idx) // 8]) - ptr
                ok = ok and 0 <= d and d + len(pat) <= head and mem[d : d + len(pat)] == pat
            if ok:
                hits.append((ptr, mem, s))
    if len(hits) != 1:
        raise RuntimeError(f"expected one TfLiteEvalTensor array, found {len(hits)}")
    ptr, mem, s = hits[0]
    words = np.frombuffer(mem, dtype="<u8")
    data = [int(words[(s + _EVAL * i) // 8]) for i in range(n)]
    result["offsets"] = {i: d - ptr for i, d in enumerate(data) if ptr <= d < ptr + head}
    if model.SubgraphsLength() == 1:
        result["scratch"] = _find_scratch(mem, ptr, head, tail, s, data, tensors, types, inputs)
    return result


def _find_scratch(
    mem: bytes,
    ptr: int,
    head: int,
    tail: int,
    s: int,
    data: list[int],
    tensors: list,
    types: list[int],
    inputs: list[int],
) -> list[int] | None:
    """Offsets of the ScratchBufferHandle array (see module docstring), or None if unsure."""
    import numpy as np

    words = np.frombuffer(mem, dtype="<u8")
    arena_size, n = len(mem), len(data)

    def is_head_ptr(v: int) -> bool:
        return ptr <= v <= ptr + head and (v - ptr) % 16 == 0

    t0 = (arena_size - tail) // 8 * 8
    # Where does the allocation made right after the handle array end?
    variables = [
        i for i in range(n) if tensors[i].IsVariable() and ptr + arena_size - tail <= data[i] < ptr + arena_size
    ]
    if variables:
        v = variables[0]
        size = int(np.prod(tensors[v].ShapeAsNumpy())) * _TFL_SIZE[types[v]]
        low = data[v] - ptr + size
    else:  # input_tensors_[0] -> TfLiteTensor (static-memory layout: data +24, dims +32,
        # type +48). Output TfLiteTensors may share the data pointer, but input_tensors_ is
        # allocated before them, so it is the highest matching pointer array.
        dims = int(words[(s + _EVAL * inputs[0] + 8) // 8])
        structs = [
            o - 24
            for o in range(t0 + 24, s - 24, 8)
            if int(words[o // 8]) == data[inputs[0]]
            and int(words[o // 8 + 1]) == dims
            and int(np.frombuffer(mem[o + 24 : o + 28], "<i4")[0]) == types[inputs[0]]
        ]
        arrays = [o for c in structs for o in range(t0, s, 8) if int(words[o // 8]) == ptr + c]
        if not arrays:
            return None
        low = max(arrays) + 8 * len(inputs)
    if not t0 <= low <= s:
        return None
    start = (low + 7) // 8 * 8  # the array starts here or after one zero padding word
    if start + 8 < min(low + 16, s) and words[start // 8] == 0 and is_head_ptr(int(words[start // 8 + 1])):
        start += 8
    end = start
    while end < s and is_head_ptr(int(words[end // 8])):
        end += 8
    # The array ends where the previous (16-aligned persistent, or eval-tensor) allocation starts.
    if start < end != s and end % 16:
        return None
    # Between that allocation and the eval-tensor array, the run must be the only head pointers.
    if any(is_head_ptr(int(words[o // 8])) for o in range(end, s, 8)):
        return None
    return [int(words[o // 8]) - ptr for o in range(start, end, 8)]


if __name__ == "__main__":
    cmd, model_arg, size_arg = sys.argv[1:4]
    fn = _child_probe if cmd == "probe" else _child_fits
    print(_MARK + json.dumps(fn(model_arg, int(size_arg))), flush=True)
