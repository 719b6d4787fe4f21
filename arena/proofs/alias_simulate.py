"""Byte-level simulation of a plan whose tensors may alias: every byte carries the id of its value.

arena's simulator (:mod:`arena.simulate`) treats any overlap of two buffers live at one step as
a clobber, which is right for plain plans and wrong for in-place ops. This one follows values:
each byte of the arena holds the id of the value last written there. A compute op writes fresh
ids; a copy op (RESHAPE, SQUEEZE, EXPAND_DIMS, CONCATENATION, which move bytes unchanged) writes
the ids of what it copies. An op's inputs must hold their expected ids when the op starts, and
must still hold them after the op wrote its outputs, except an input the plan aliases with the
op's output through a rule of :mod:`arena.shrink.alias`; for those, the source must sit exactly
at its target's offset plus the alias's byte offset, which is the condition the rule's kernel
argument needs. Graph outputs are checked at the end. Any other overlap shows up as a wrong id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from arena.lifetimes import BufferKind, LifetimeTable
from arena.shrink.rows import _int32s, slice_rows

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from arena.model.records import Model, Operator, Subgraph
    from arena.shrink.alias import Alias

_COPIES = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS", "CONCATENATION"})


@dataclass(frozen=True, slots=True, kw_only=True)
class AliasSimulation:
    """Problems found (none when ``ok``) and how many reads were checked."""

    problems: tuple[str, ...]
    reads: int

    @property
    def ok(self) -> bool:
        """True when every read found the bytes its tensor was given."""
        return not self.problems


def simulate_aliased(
    model: Model, table: LifetimeTable, offsets: tuple[int, ...], aliases: tuple[Alias, ...]
) -> AliasSimulation:
    """Play subgraph 0 with ``offsets`` (one per table buffer) and report every corrupted read."""
    import numpy as np

    graph = model.subgraphs[0]
    index_of = {o.tensor: i for i, o in enumerate(table.origins) if o.kind is BufferKind.TENSOR and o.subgraph == 0}
    sizes = [o.raw_bytes for o in table.origins]
    head = max((off + size for off, size in zip(offsets, sizes, strict=True)), default=0)
    memory = np.full(head, -1, dtype=np.int64)
    expected: dict[int, npt.NDArray[np.int64]] = {}
    problems: list[str] = []
    counter = [0]
    reads = [0]

    def region(buffer: int) -> slice:
        return slice(offsets[buffer], offsets[buffer] + sizes[buffer])

    def fresh(buffer: int) -> npt.NDArray[np.int64]:
        values = np.arange(counter[0], counter[0] + sizes[buffer], dtype=np.int64)
        counter[0] += sizes[buffer]
        return values

    def write(buffer: int, values: npt.NDArray[np.int64]) -> None:
        expected[buffer] = values
        memory[region(buffer)] = values

    def check(buffer: int, where: str, span: tuple[int, int] | None = None) -> None:
        reads[0] += 1
        if buffer not in expected:
            return  # constants and unplanned tensors are not in the arena
        lo, hi = span if span is not None else (0, sizes[buffer])
        bad = np.flatnonzero(memory[offsets[buffer] + lo : offsets[buffer] + hi] != expected[buffer][lo:hi])
        if bad.size:
            problems.append(f"{where}: {table.origins[buffer].name[:60]} lost {bad.size} bytes")

    for t in graph.inputs:
        if t in index_of:
            write(index_of[t], fresh(index_of[t]))
    by_op: dict[int, list[Alias]] = {}
    for alias in aliases:
        by_op.setdefault(alias.op, []).append(alias)
    for op in graph.operators:
        where = f"op {op.index} {op.op_name}"
        ins = [index_of[t] for t in op.inputs if t in index_of]
        outs = [index_of[t] for t in op.outputs if t in index_of]
        rows = slice_rows(model, graph, op)
        span = None
        if rows is not None:  # a whole-row slice reads only its rows (arena.shrink.rows)
            shape = graph.tensors[op.inputs[0]].shape
            span = (rows[0] * shape[2] * shape[3], rows[1] * shape[2] * shape[3])
        spans = {index_of[op.inputs[0]]: span} if span is not None and op.inputs[0] in index_of else {}
        for buffer in ins:
            check(buffer, where, spans.get(buffer))
        in_place = set()
        replayed = set()
        for alias in by_op.get(op.index, ()):
            source, target = index_of.get(alias.source), index_of.get(alias.target)
            if alias.kind.value == "overlap" and source is not None and target is not None:
                values = fresh(target)
                pads = _int32s(model, graph, op.inputs[1]) if op.op_name == "PAD" else None
                at = (offsets[source], offsets[target])
                found = _replay(graph, op, at, memory, (expected[source], values), pads)
                problems.extend(f"{where}: {p}" for p in found)
                expected[target] = values
                in_place.add(source)
                replayed.add(target)
                continue
            if source is None or target is None or offsets[source] != offsets[target] + alias.byte_offset:
                problems.append(
                    f"{where}: alias {alias.kind.value} of tensor {alias.source} is not where its rule needs"
                )
                continue
            in_place.add(source)
        scratch = [i for i, o in enumerate(table.origins) if o.kind is BufferKind.SCRATCH and o.op == op.index]
        for buffer in scratch:
            write(buffer, fresh(buffer))
        for buffer in [b for b in outs if b not in replayed]:
            source = ins[0] if ins else None
            if span is not None and source is not None and source in expected and span[1] - span[0] == sizes[buffer]:
                write(buffer, expected[source][span[0] : span[1]])
            elif op.op_name in _COPIES and all(b in expected for b in ins[: _copied_inputs(op.op_name, len(ins))]):
                values = np.concatenate([expected[b] for b in ins[: _copied_inputs(op.op_name, len(ins))]])
                write(buffer, values if values.size == sizes[buffer] else fresh(buffer))
            else:
                write(buffer, fresh(buffer))
        for buffer in ins:
            if buffer not in in_place:
                check(buffer, f"{where} (after its writes)", spans.get(buffer))
    for t in graph.outputs:
        if t in index_of:
            check(index_of[t], "graph output")
    return AliasSimulation(problems=tuple(problems), reads=reads[0])


def _rows_read(graph: Subgraph, op: Operator, out_row: int, pads: tuple[int, ...] | None) -> tuple[int, int]:
    """Input rows [lo, hi) that output row ``out_row`` of a conv, depthwise conv or pad reads."""
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if op.op_name == "PAD":
        source = out_row - (pads[2] if pads else 0)
        return (source, source + 1) if 0 <= source < x.shape[1] else (0, 0)
    kernel = graph.tensors[op.inputs[1]].shape[1]
    stride = int(str(op.options["stride_h"]))
    total = max((y.shape[1] - 1) * stride + kernel - x.shape[1], 0) if op.options.get("padding") == 0 else 0
    start = out_row * stride - total // 2
    return max(0, start), min(x.shape[1], start + kernel)


def _replay(
    graph: Subgraph,
    op: Operator,
    at: tuple[int, int],
    memory: npt.NDArray[np.int64],
    ids: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    pads: tuple[int, ...] | None,
) -> list[str]:
    """Run ``op`` row by row in its kernel's raster order with output and input sharing bytes.

    Conv and depthwise: before and after output row ``y`` is written, the input rows it reads must
    still hold the input's values (the reference kernels read them while writing row ``y``).
    PAD: the row's left padding is written, then the copied input row must be intact and must not
    lie where the row's input part lands ahead of the read position, then the rest is written.
    """
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    in_row, out_row = int(x.shape[2] * x.shape[3]), int(y.shape[2] * y.shape[3])
    (source_at, target_at), (source_ids, target_ids) = at, ids
    left = pads[4] * x.shape[3] if op.op_name == "PAD" and pads else 0

    def intact(lo: int, hi: int) -> bool:
        a, b = lo * in_row, hi * in_row
        return bool((memory[source_at + a : source_at + b] == source_ids[a:b]).all())

    def put(a: int, b: int) -> None:
        memory[target_at + a : target_at + b] = target_ids[a:b]

    for row in range(y.shape[1]):
        lo, hi = _rows_read(graph, op, row, pads)
        base = row * out_row
        if hi > lo and not intact(lo, hi):
            return [f"input rows [{lo}, {hi}) overwritten before output row {row} read them"]
        if op.op_name == "PAD" and hi > lo:
            put(base, base + left)
            ahead = target_at + base + left - (source_at + lo * in_row)
            if not intact(lo, hi) or 0 < ahead < in_row:
                return [f"output row {row} is written over input row {lo} before the copy reads it"]
        put(base, base + out_row)
        if op.op_name != "PAD" and hi > lo and not intact(lo, hi):
            return [f"output row {row} overwrote input rows [{lo}, {hi}) it still reads"]
    return []


def _copied_inputs(op_name: str, count: int) -> int:
    """How many leading inputs a copy op moves into its output (a reshape's shape input is not moved)."""
    return count if op_name == "CONCATENATION" else 1


__all__ = ["AliasSimulation", "simulate_aliased"]
