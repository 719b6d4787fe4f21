"""Run a model with real TFLM on an emulated Cortex-M and return what was measured.

One firmware run (``qemu-system-arm -icount shift=0`` with semihosting) allocates the model in a
2 MiB static arena and reports ``arena_used_bytes``, the allocator's head and tail, every tensor's
and scratch buffer's offset, runs one Invoke on seeded inputs timing each op with SysTick, prints
the outputs, then finds the smallest arena ``AllocateTensors`` accepts by bisection inside the
same run: each probe builds a fresh ``MicroInterpreter`` over the first N bytes of the static
buffer, which is what a firmware with ``kTensorArenaSize = N`` does. Bisection is valid because
acceptance is monotonic in N (every check TFLM makes compares positions that only move away from
each other as the arena grows); the probes it prints are kept so a test can check the result
is bracketed by a failure one byte below. A probe that crashes the firmware (a kernel using a
failed allocation; the firmware's fault handler stops QEMU) counts as not accepted and the
bisection resumes in a new run from there.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from arena.errors import ArenaError
from arena.proofs.emulator.boards import Board
from arena.proofs.emulator.protocol import FirmwareOutput, OpCount, parse_firmware_output

#: The static arena every measurement firmware links (fits the RAM of every board; see boards/).
CAPACITY_BYTES = 2 * 1024 * 1024
#: Iterations of the firmware's 2-instruction calibration loop (main.cc ``Calibrate``).
_CALIBRATION_INSTRUCTIONS_PER_ITERATION = 2
_MAX_RESUMES = 40


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    """What real TFLM did on the emulated core (bytes and instruction counts).

    ``tensor_offsets`` maps (subgraph, tensor) to bytes from the arena start, None for tensors
    whose data is not in the arena (constants in the model). ``crashed_probes`` lists arena
    sizes whose allocation crashed rather than failed cleanly.
    """

    machine: str
    core: str
    kernels: str
    capacity_bytes: int
    arena_used_bytes: int
    head_bytes: int
    tail_bytes: int
    minimum_arena_bytes: int
    tensor_offsets: dict[tuple[int, int], int | None]
    scratch_offsets: tuple[int, ...]
    outputs: tuple[bytes, ...]
    ops: tuple[OpCount, ...]
    invoke_instructions: int
    instructions_per_tick: float
    probes: dict[int, bool]
    probe_tails: dict[int, int]
    crashed_probes: tuple[int, ...]
    run_seconds: float


def run_qemu(board: Board, elf: Path, arguments: tuple[str, ...] = (), timeout_seconds: float = 600) -> str:
    """Run the firmware; returns what it printed. ``arguments`` become its semihosting command line.

    Raises
    ------
    ArenaError
        When QEMU cannot start or the run exceeds ``timeout_seconds``.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="arena-qemu-") as scratch:
        console = Path(scratch) / "semihosting.txt"
        return _run_qemu_into(board, elf, arguments, timeout_seconds, console)


def _run_qemu_into(board: Board, elf: Path, arguments: tuple[str, ...], timeout_seconds: float, console: Path) -> str:
    # Semihosting output goes to a file chardev: QEMU's default (the stdio mux) is not a pipe.
    semihosting = ",".join(
        ["enable=on", "target=native", "chardev=arena", "arg=firmware", *(f"arg={a}" for a in arguments)]
    )
    command = [
        "qemu-system-arm",
        "-M",
        board.machine,
        "-cpu",
        board.cpu,
        "-nographic",
        "-monitor",
        "none",
        "-serial",
        "none",
        "-chardev",
        f"file,id=arena,path={console}",
        "-semihosting-config",
        semihosting,
        "-icount",
        "shift=0",
        "-kernel",
        str(elf),
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_seconds, check=False)
    except subprocess.TimeoutExpired as error:
        raise ArenaError(f"{elf.name} on {board.machine}: no result within {timeout_seconds:.0f} s") from error
    text = console.read_text() if console.is_file() else ""
    if result.returncode not in (0, 1) or not text:
        # QEMU's fatal errors end in a register dump: its first line says what happened.
        first = next(iter(result.stderr.strip().splitlines()), "no output")
        raise ArenaError(f"qemu-system-arm -M {board.machine} failed: {first[:200]}")
    return text


def measure_firmware(board: Board, kernels: str, elf: Path) -> Measurement:
    """Run the firmware, resume the bisection after crashes, and check the run is complete.

    Raises
    ------
    ArenaError
        When the model does not allocate in the 2 MiB arena, Invoke fails, or the firmware faults
        outside the bisection.
    """
    started = time.monotonic()
    first = parse_firmware_output(run_qemu(board, elf))
    where = f"{elf.name} on {board.machine}"
    capacity = first.capacity_bytes or CAPACITY_BYTES  # the firmware's own arena (an export's may be small)
    if first.allocated is not True:
        detail = first.fault or " ".join(first.logs[-2:]) or "AllocateTensors failed"
        raise ArenaError(f"{where}: the model did not allocate in a {capacity}-byte arena: {detail}")
    if first.invoked is not True:
        raise ArenaError(f"{where}: Invoke failed: {first.fault or ' '.join(first.logs[-2:])}")
    probes, crashed, tails = dict(first.probes), [], dict(first.probe_tails)
    state = first
    for _ in range(_MAX_RESUMES):
        if state.minimum_arena_bytes is not None:
            break
        if state.pending_probe is None:
            raise ArenaError(f"{where}: the bisection stopped without a result ({state.fault or 'no fault'})")
        crashed.append(state.pending_probe)
        probes[state.pending_probe] = False
        low = state.pending_probe
        high = min((size for size, ok in probes.items() if ok), default=capacity)
        state = parse_firmware_output(run_qemu(board, elf, ("bisect", str(low), str(high))))
        probes.update(state.probes)
        tails.update(state.probe_tails)
    if state.minimum_arena_bytes is None:
        raise ArenaError(f"{where}: the bisection did not finish after {_MAX_RESUMES} crashed probes")
    seconds = time.monotonic() - started
    return _measurement(board, kernels, first, state.minimum_arena_bytes, (probes, tails), crashed, seconds)


def _measurement(
    board: Board,
    kernels: str,
    out: FirmwareOutput,
    minimum: int,
    probes_and_tails: tuple[dict[int, bool], dict[int, int]],
    crashed: list[int],
    seconds: float,
) -> Measurement:
    assert out.calibration is not None and out.invoke_ticks is not None
    assert out.head_bytes is not None and out.tail_bytes is not None and out.arena_used_bytes is not None
    iterations, ticks = out.calibration
    measured_per_tick = iterations * _CALIBRATION_INSTRUCTIONS_PER_ITERATION / ticks
    per_tick = board.instructions_per_tick
    if abs(measured_per_tick - per_tick) > 0.005 * per_tick:
        raise ArenaError(
            f"{board.machine}: SysTick counted {measured_per_tick:.2f} instructions per tick, expected {per_tick:.2f} "
            "(is QEMU running with -icount shift=0?)"
        )
    ops = tuple(OpCount(index=i, tag=tag, instructions=round(t * per_tick)) for i, tag, t in out.op_ticks)
    return Measurement(
        machine=board.machine,
        core=board.core,
        kernels=kernels,
        capacity_bytes=out.capacity_bytes or CAPACITY_BYTES,
        arena_used_bytes=out.arena_used_bytes,
        head_bytes=out.head_bytes,
        tail_bytes=out.tail_bytes,
        minimum_arena_bytes=minimum,
        tensor_offsets=dict(out.tensor_offsets),
        scratch_offsets=tuple(out.scratch_offsets),
        outputs=tuple(out.outputs[i] for i in sorted(out.outputs)),
        ops=ops,
        invoke_instructions=round(out.invoke_ticks * per_tick),
        instructions_per_tick=per_tick,
        probes=probes_and_tails[0],
        probe_tails=probes_and_tails[1],
        crashed_probes=tuple(crashed),
        run_seconds=round(seconds, 3),
    )
