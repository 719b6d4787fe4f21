"""Fitting the per-kind instruction models of :mod:`arena.cost.instructions`, and checking them.

Each op-kind key gets the non-negative linear model over its candidate features
(:data:`CANDIDATES`) that minimises the sum of squared *relative* errors over the measured ops
under that key: every support set of the candidates is solved by least squares and the best one
with no negative coefficient is kept, so a feature the data cannot carry drops out instead of
turning negative (a negative coefficient would predict negative instructions for some shape).
Relative errors, because a small op's count matters as much as a large one's share of a model.
A measured count is floored at :data:`MIN_COUNT` in the denominator: the emulator's counts are
SysTick ticks (40 instructions on the MPS2 boards), so smaller counts are mostly rounding.

A key gets its own model when its ops come from at least ``min_models`` distinct models;
otherwise its ops are predicted by the next, coarser key (``all`` is always fitted).

**Leave-one-model-out**: for every measured model that is not a generated single-op model, refit
every key without that model's ops (the fallbacks re-decided on what is left) and predict them;
the errors per op and per model total are what the benchmark and the docs report.
"""

from __future__ import annotations

import itertools
import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from arena.cost.instructions import ALL_KEY, FEATURES, INSTRUCTIONS_SCHEMA_VERSION, KindModel, OpShape
from arena.cost.macs import OpKind

#: Smallest count a relative error is taken against (one SysTick tick on the MPS2 boards).
MIN_COUNT = 40.0
#: Default for how many distinct models a key needs before it gets its own model.
MIN_MODELS = 3

#: Candidate features per cost class (the fit keeps the best non-negative subset).
CANDIDATES: dict[str, tuple[str, ...]] = {
    OpKind.CONV: ("one", "macs", "outputs", "rows", "taps", "window"),
    OpKind.DEPTHWISE: ("one", "macs", "outputs", "rows", "taps"),
    OpKind.FULLY_CONNECTED: ("one", "macs", "outputs", "rows"),
    OpKind.RECURRENT: ("one", "macs", "elements", "outputs"),
    OpKind.POOL: ("one", "elements", "outputs"),
    OpKind.SOFTMAX: ("one", "inputs", "rows"),
    OpKind.REDUCE: ("one", "inputs", "outputs"),
    OpKind.ELEMENTWISE: ("one", "outputs", "inputs"),
    OpKind.DATA_MOVEMENT: ("one", "outputs", "inputs"),
    OpKind.OTHER: ("one", "outputs", "inputs"),
    ALL_KEY: ("one", "macs", "elements"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasuredOp:
    """One op measured on the emulator: its features, its op-kind keys and its count."""

    model: str
    op_index: int
    op_name: str
    keys: tuple[str, ...]
    values: tuple[float, ...]
    instructions: int
    #: A generated single-op model: always trained on, never held out.
    generated: bool = False

    @property
    def kind(self) -> str:
        """The cost class (the value after ``kind:`` in the keys)."""
        return next(key.removeprefix("kind:") for key in self.keys if key.startswith("kind:"))


def measured_op(model: str, shape: OpShape, instructions: int, *, generated: bool = False) -> MeasuredOp:
    """A measured row from a predicted shape and the emulator's count."""
    return MeasuredOp(
        model=model,
        op_index=shape.op_index,
        op_name=shape.op_name,
        keys=shape.keys,
        values=shape.values,
        instructions=instructions,
        generated=generated,
    )


def candidates(key: str, rows: Sequence[MeasuredOp]) -> tuple[str, ...]:
    """The candidate features of a key: its cost class's, or the pooled ``all`` list."""
    return CANDIDATES[ALL_KEY] if key == ALL_KEY else CANDIDATES[rows[0].kind]


def _denominator(row: MeasuredOp) -> float:
    return max(float(row.instructions), MIN_COUNT)


def fit_kind(key: str, rows: Sequence[MeasuredOp]) -> KindModel:
    """The non-negative least-relative-squares model of one key (module docstring).

    Examples
    --------
    Three ops that cost exactly 100 + 2 x MACs are recovered:

    >>> def row(model, macs):
    ...     values = (1.0, macs, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    ...     return MeasuredOp(model=model, op_index=0, op_name="FULLY_CONNECTED",
    ...                       keys=("FULLY_CONNECTED", "kind:fully_connected", "all"),
    ...                       values=values, instructions=round(100 + 2 * macs))
    >>> fitted = fit_kind("FULLY_CONNECTED", [row("a", 10.0), row("b", 500.0), row("c", 90.0)])
    >>> {name: round(value, 6) for name, value in fitted.coefficients.items()}
    {'one': 100.0, 'macs': 2.0}
    """
    import numpy as np

    names = [name for name in candidates(key, rows) if any(row.values[FEATURES.index(name)] for row in rows)]
    weights = np.array([1.0 / _denominator(row) for row in rows])
    design = np.array([[row.values[FEATURES.index(name)] for name in names] for row in rows]) * weights[:, None]
    target = np.array([row.instructions for row in rows], dtype=float) * weights
    best: tuple[float, dict[str, float]] | None = None
    # Smallest supports first, and a larger one must be better by more than rounding: of two
    # equally good models (collinear features, such as outputs and inputs of an elementwise op)
    # the one with fewer features is kept.
    for size in range(1, len(names) + 1):
        for support in itertools.combinations(range(len(names)), size):
            solution, *_ = np.linalg.lstsq(design[:, list(support)], target, rcond=None)
            if (solution < 0).any():
                continue
            error = float(((design[:, list(support)] @ solution - target) ** 2).sum())
            if best is None or error < best[0] * (1 - 1e-9) - 1e-18:
                best = (error, {names[j]: float(v) for j, v in zip(support, solution, strict=True) if v > 0})
    coefficients = best[1] if best is not None else {}
    return KindModel(key=key, coefficients=coefficients, rows=len(rows), models=len({row.model for row in rows}))


def fit_kinds(rows: Sequence[MeasuredOp], min_models: int = MIN_MODELS) -> dict[str, KindModel]:
    """A model for every key whose ops come from ``min_models`` or more models, and for ``all``."""
    by_key: dict[str, list[MeasuredOp]] = {}
    for row in rows:
        for key in row.keys:
            by_key.setdefault(key, []).append(row)
    return {
        key: fit_kind(key, members)
        for key, members in sorted(by_key.items())
        if key == ALL_KEY or len({row.model for row in members}) >= min_models
    }


def kind_for(kinds: dict[str, KindModel], keys: Iterable[str]) -> KindModel:
    """The finest fitted key among ``keys``."""
    return next(kinds[key] for key in keys if key in kinds)


def predict_row(kinds: dict[str, KindModel], row: MeasuredOp) -> tuple[float, str]:
    """(predicted instructions, key used) for a measured row."""
    kind = kind_for(kinds, row.keys)
    return sum(value * row.values[FEATURES.index(name)] for name, value in kind.coefficients.items()), kind.key


@dataclass(frozen=True, slots=True, kw_only=True)
class Prediction:
    """A held-out op: what the fit without its model predicted, and with which key."""

    row: MeasuredOp
    predicted: float
    key: str

    @property
    def error(self) -> float:
        """predicted / measured - 1 (measured floored at :data:`MIN_COUNT`)."""
        return self.predicted / _denominator(self.row) - 1.0


def leave_one_model_out(rows: Sequence[MeasuredOp], min_models: int = MIN_MODELS) -> tuple[Prediction, ...]:
    """Predict every op of every non-generated model from a fit without that model."""
    predictions = []
    for model in sorted({row.model for row in rows if not row.generated}):
        kinds = fit_kinds([row for row in rows if row.model != model], min_models)
        for row in rows:
            if row.model == model:
                predicted, key = predict_row(kinds, row)
                predictions.append(Prediction(row=row, predicted=predicted, key=key))
    return tuple(predictions)


def model_totals(predictions: Sequence[Prediction]) -> dict[str, tuple[float, int]]:
    """Per held-out model: (predicted, measured) sums over its ops."""
    totals: dict[str, tuple[float, int]] = {}
    for p in predictions:
        predicted, measured = totals.get(p.row.model, (0.0, 0))
        totals[p.row.model] = (predicted + p.predicted, measured + p.row.instructions)
    return totals


def _summary(errors: Sequence[float]) -> tuple[float, float]:
    magnitudes = [abs(e) for e in errors]
    return (statistics.median(magnitudes), max(magnitudes)) if magnitudes else (0.0, 0.0)


def _row_entry(row: MeasuredOp) -> dict[str, Any]:
    return {
        "model": row.model,
        "op": row.op_index,
        "name": row.op_name,
        "keys": list(row.keys),
        "x": [int(v) if float(v).is_integer() else round(v, 6) for v in row.values],
        "instructions": row.instructions,
        "generated": row.generated,
    }


def rows_from_fit(fit: dict[str, Any]) -> tuple[MeasuredOp, ...]:
    """The measured rows a shipped fit stores (the inverse of what :func:`fit_entry` writes)."""
    return tuple(
        MeasuredOp(
            model=entry["model"],
            op_index=entry["op"],
            op_name=entry["name"],
            keys=tuple(entry["keys"]),
            values=tuple(float(v) for v in entry["x"]),
            instructions=entry["instructions"],
            generated=entry["generated"],
        )
        for entry in fit["rows"]
    )


def fit_entry(
    rows: Sequence[MeasuredOp],
    *,
    core: str,
    kernels: str,
    isa: str,
    machine: str,
    library: str,
    min_models: int = MIN_MODELS,
) -> dict[str, Any]:
    """One ``fits`` entry of ``instructions.json``: the kinds, the LOMO summary and the rows."""
    rows = rows_from_fit({"rows": [_row_entry(row) for row in rows]})  # what a reader will see
    kinds = fit_kinds(rows, min_models)
    predictions = leave_one_model_out(rows, min_models)
    op_median, op_worst = _summary([p.error for p in predictions])
    totals = model_totals(predictions)
    total_median, total_worst = _summary([predicted / measured - 1 for predicted, measured in totals.values()])
    return {
        "core": core,
        "kernels": kernels,
        "isa": isa,
        "machine": machine,
        "library": library,
        "min_models": min_models,
        "measured_models": len({row.model for row in rows}),
        "lomo": {
            "ops": len(predictions),
            "models": len(totals),
            "op_median": op_median,
            "op_worst": op_worst,
            "total_median": total_median,
            "total_worst": total_worst,
        },
        "kinds": {
            key: {"coefficients": kind.coefficients, "rows": kind.rows, "models": kind.models}
            for key, kind in kinds.items()
        },
        "rows": [_row_entry(row) for row in rows],
    }


def instructions_document(fits: Sequence[dict[str, Any]], *, source: str) -> dict[str, Any]:
    """The whole ``instructions.json`` document."""
    return {
        "schema_version": INSTRUCTIONS_SCHEMA_VERSION,
        "generated_by": "benchmarks/bench_instructions.py --write",
        "source": source,
        "features": list(FEATURES),
        "fits": list(fits),
    }


def dumps_document(document: dict[str, Any]) -> str:
    """The document as JSON text with one measured row per line (diffs stay readable)."""
    placeholder = "@rows-{}@"
    compact = dict(document)
    compact["fits"] = [dict(fit, rows=placeholder.format(i)) for i, fit in enumerate(document["fits"])]
    text = json.dumps(compact, indent=1)
    for i, fit in enumerate(document["fits"]):
        rows = ",\n".join("  " + json.dumps(row) for row in fit["rows"])
        text = text.replace(json.dumps(placeholder.format(i)), "[\n" + rows + "\n  ]")
    return text + "\n"
