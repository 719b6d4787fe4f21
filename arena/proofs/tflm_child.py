"""The child side of a real run: one interpreter, one model, in a process of its own.

TFLM can crash on a model instead of failing, so every interpreter runs here, started by
:mod:`arena.proofs.tflm_run` as ``python -m arena.proofs.tflm_child REQUEST.json``. The request
names the model, arena size, input and output files; the result is one marked JSON line on
stdout, and C-level stderr is captured to a file in the working folder so a crash still leaves
TFLM's last message behind.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

#: Prefix of the one stdout line carrying the child's JSON result.
RESULT_MARK = "@@ARENA_EXECUTE_JSON@@ "
#: The child's capture of C-level stderr (TFLM's messages), kept in its working folder.
FD2_LOG = "fd2.log"

Array = npt.NDArray[Any]


def _capture_fd2(call: Callable[[], Any]) -> tuple[Any, str]:
    """``call()`` with C-level fd 2 captured; returns (result or exception, captured text)."""
    import ctypes

    libc = ctypes.CDLL(None)
    with open(FD2_LOG, "w+b") as sink:  # in the child's working folder, read back after a crash
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
    interpreter, text = _capture_fd2(lambda: runtime.Interpreter.from_bytes(data, arena_size=request["arena_size"]))
    if isinstance(interpreter, Exception):
        return {"error": " ".join(f"TFLM refused the model: {interpreter} {text}".split())}, []
    _, text = _capture_fd2(interpreter.print_allocations)
    sizes = {k: int(v) for k, v in re.findall(r"Arena allocation (head|tail) (\d+) bytes", text)}
    for position, array in enumerate(inputs):
        interpreter.set_input(array, position)
    failed, text = _capture_fd2(interpreter.invoke)
    if isinstance(failed, Exception):
        return {**sizes, "error": " ".join(f"TFLM invoke failed: {failed} {text}".split())}, []
    return {**sizes, "error": None}, [interpreter.get_output(k) for k in range(len(request["output_tensors"]))]


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
    print(RESULT_MARK + json.dumps(report), flush=True)


if __name__ == "__main__":
    _child_main(sys.argv[1])
