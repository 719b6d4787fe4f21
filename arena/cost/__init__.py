"""Cost of one inference: MACs per operator, cycles on a core, latency, energy, average power.

``estimate_cost`` is the entry point; ``docs/cost-model.md`` explains the model, its coefficients
and their sources, and how well it reproduces measured MLPerf Tiny results.
"""

from arena.cost.cycles import CycleModel, CycleModelStatus, cycle_models, load_cycle_model
from arena.cost.estimate import CostEstimate, LayerCost, cost_from_counts, estimate_cost
from arena.cost.macs import ModelCounts, OpCount, OpKind, count_model, count_op, op_kind

__all__ = [
    "CostEstimate",
    "CycleModel",
    "CycleModelStatus",
    "LayerCost",
    "ModelCounts",
    "OpCount",
    "OpKind",
    "cost_from_counts",
    "count_model",
    "count_op",
    "cycle_models",
    "estimate_cost",
    "load_cycle_model",
    "op_kind",
]
