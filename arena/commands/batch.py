"""``--batch N`` on plan and check: the same model's arena if it ran N inputs at once.

The model file is not touched. The lifetime problem is rewritten instead: every planned tensor
whose outermost dimension is the model's batch of 1 is scaled to N, keeping its lifetime (TFLM
runs the ops in the same order whatever the batch), and re-aligned to TFLM's 16 bytes. Kernel
scratch buffers keep their size: most of TFLM's reference and CMSIS-NN scratch is per image
(im2col rows, per-channel sums), so this is a lower estimate of what a batched kernel would ask
for. Offsets fixed by an offline plan are released (they were chosen for batch 1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from arena.allocators import get_allocator, run_allocator
from arena.allocators.problem import Problem
from arena.errors import ArenaError
from arena.lifetimes import BufferKind
from arena.plan.pipeline import PlanResult

#: TFLM's buffer alignment (MicroArenaBufferAlignment(), 16 bytes).
_ALIGNMENT = 16
#: Largest batch accepted; beyond it sizes leave any microcontroller far behind.
MAX_BATCH = 4096


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchRow:
    """The head arena at one batch size, under the chosen allocator and under TFLM's plan."""

    batch: int
    head_bytes: int
    lower_bound_bytes: int
    tflm_head_bytes: int
    scaled_buffers: int
    #: head + the batch-1 tail, when planned for a target (the tail of TFLM's structs does not grow).
    total_bytes: int | None


def batched_problem(result: PlanResult, batch: int) -> tuple[Problem, int]:
    """The result's problem with every batch-1 activation scaled to ``batch``; and how many were.

    Raises
    ------
    ArenaError
        When ``batch`` is below 1 or above :data:`MAX_BATCH`.
    """
    if not 1 <= batch <= MAX_BATCH:
        raise ArenaError(f"--batch {batch}: choose a batch from 1 to {MAX_BATCH}")
    model, table = result.model, result.table
    buffers = []
    scaled = 0
    for buffer, origin in zip(table.problem.buffers, table.origins, strict=True):
        shape: tuple[int, ...] = ()
        if origin.kind is BufferKind.TENSOR and origin.tensor is not None:
            shape = tuple(model.subgraphs[origin.subgraph].tensors[origin.tensor].shape)
        if len(shape) >= 2 and shape[0] == 1 and batch != 1:
            raw = origin.raw_bytes * batch
            size = -(-raw // _ALIGNMENT) * _ALIGNMENT
            buffers.append(replace(buffer, size=size, fixed_offset=None))
            scaled += 1
        else:
            buffers.append(replace(buffer, fixed_offset=None) if batch != 1 else buffer)
    return Problem(buffers=tuple(buffers)), scaled


def batch_table(
    result: PlanResult, batches: tuple[int, ...], *, allocator: str, time_limit_seconds: float | None = None
) -> list[BatchRow]:
    """One row per batch size (1 first, then the asked ones in increasing order)."""
    tail = None if result.sizing is None else result.sizing.total_bytes - result.sizing.head_bytes
    rows = []
    for batch in sorted({1, *batches}):
        problem, scaled = batched_problem(result, batch)
        plan = run_allocator(allocator, problem, time_limit_seconds=time_limit_seconds)
        tflm = plan.peak_bytes if allocator == "tflm" else get_allocator("tflm")(problem).peak_bytes
        rows.append(
            BatchRow(
                batch=batch,
                head_bytes=plan.peak_bytes,
                lower_bound_bytes=problem.lower_bound_bytes(),
                tflm_head_bytes=tflm,
                scaled_buffers=scaled,
                total_bytes=None if tail is None else plan.peak_bytes + tail,
            )
        )
    return rows
