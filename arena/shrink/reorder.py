"""Operator reordering on branched graphs: run subgraph 0's ops in the order with the least live bytes.

TFLM runs the operators of a subgraph in the order of its operator list
(tensorflow/lite/micro/micro_interpreter_graph.cc ``InvokeSubgraph`` loops over the list), and its
planners derive every tensor's lifetime from that order. On a branched graph (ResNet shortcuts,
Inception-like fans) another topological order can shorten lifetimes: HMCOS (Wang et al., "Memory
Optimization of Hierarchical Computation Graphs", 2021) and Serenity (Ahn et al., MLSys 2020)
schedule for the smallest peak. Any topological order computes every tensor from the same inputs
with the same kernel, so outputs are bit-identical by construction; only lifetimes change.

The search is exact: a dynamic program over the downsets of the op DAG (the sets of ops already
run), keeping per set the smallest peak of live bytes reached so far; the peak of the rest of an
order depends only on that set, so the minimum over orders is exact. The live-bytes peak is a lower
bound of any plan's head; the caller re-plans the reordered graph and keeps it only if the real
head drops. When the number of downsets exceeds ``max_states`` (large, very wide graphs) the
search gives up and the original order is kept: the rule is then simply not applied.
"""

from __future__ import annotations

from arena.model.records import Model
from arena.shrink.alias import tensor_bytes

#: Downsets explored at most before the search gives up (keeps the original order).
MAX_STATES = 20_000


def order_peak(model: Model, order: tuple[int, ...]) -> int:
    """Largest sum of live non-constant tensor bytes over the steps of ``order`` (subgraph 0)."""
    return _Graph(model).peak(order)


class _Graph:
    def __init__(self, model: Model) -> None:
        graph = model.subgraphs[0]
        self.ops = graph.operators
        producer: dict[int, int] = {}
        for op in self.ops:
            for t in op.outputs:
                producer[t] = op.index
        self.size: dict[int, int] = {}
        self.readers: dict[int, set[int]] = {}
        for op in self.ops:
            for t in op.inputs:
                if t >= 0 and (t in producer or t in graph.inputs):
                    self.readers.setdefault(t, set()).add(op.index)
        for t in {*producer, *graph.inputs}:
            self.size[t] = tensor_bytes(graph.tensors[t])
        self.producer = producer
        self.outputs = frozenset(graph.outputs)
        self.inputs = frozenset(graph.inputs)
        self.preds = [frozenset(producer[t] for t in op.inputs if t in producer) for op in self.ops]

    def _live_before(self, done: frozenset[int]) -> int:
        total = 0
        for t, size in self.size.items():
            made = t in self.inputs or self.producer.get(t, -1) in done
            if made and (t in self.outputs or not self.readers.get(t, set()) <= done):
                total += size
        return total

    def _step(self, done: frozenset[int], op: int) -> int:
        """Live bytes while ``op`` runs after ``done``: what is live, plus its outputs."""
        return self._live_before(done) + sum(self.size.get(t, 0) for t in self.ops[op].outputs)

    def peak(self, order: tuple[int, ...]) -> int:
        done: frozenset[int] = frozenset()
        worst = 0
        for op in order:
            worst = max(worst, self._step(done, op))
            done = done | {op}
        return worst

    def best(self, max_states: int) -> tuple[int, tuple[int, ...]] | None:
        layer: dict[frozenset[int], tuple[int, tuple[int, ...]]] = {frozenset(): (0, ())}
        seen = 0
        for _ in self.ops:
            following: dict[frozenset[int], tuple[int, tuple[int, ...]]] = {}
            for done, (worst, order) in layer.items():
                for op in range(len(self.ops)):
                    if op in done or not self.preds[op] <= done:
                        continue
                    state = done | {op}
                    value = (max(worst, self._step(done, op)), (*order, op))
                    if state not in following or value < following[state]:
                        following[state] = value
            seen += len(following)
            if seen > max_states:
                return None
            layer = following
        return next(iter(layer.values()))


def best_order(model: Model, *, max_states: int = MAX_STATES) -> tuple[int, tuple[int, ...]] | None:
    """(live-bytes peak, op order) of the best topological order of subgraph 0, or None.

    None when the graph has a single op, or the search would exceed ``max_states`` downsets. Ties
    prefer the order closest to the original (lexicographically smallest op indices).
    """
    if len(model.subgraphs[0].operators) < 2:
        return None
    return _Graph(model).best(max_states)


__all__ = ["MAX_STATES", "best_order", "order_peak"]
