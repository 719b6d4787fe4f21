"""``arena validate``: the checks a firmware engineer runs before a model goes on a board.

Each check is a named record with PASS, WARN or FAIL, the numbers it compared and why, so a CI
log says exactly what broke. The memory, flash, latency and energy figures come from the same
pipeline as ``arena plan`` and ``arena cost``; this module only compares them with the limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from arena.allocators import DEVICE_ALLOCATOR
from arena.commands.beside import best_beside
from arena.cost.estimate import CostEstimate
from arena.cost.on_target import estimate_on_target, has_cost_model
from arena.kernels import resolve_kernels
from arena.kernels.cmsis_nn import CMSIS_NN_OPS
from arena.model.reader import read_model
from arena.model.records import Model, Subgraph, Tensor
from arena.plan.pipeline import plan_model
from arena.targets import Target
from arena.units import format_bytes

#: Ops whose constant input 1 is a weight matrix or filter (the quantization that matters).
_WEIGHTED = frozenset(
    {
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "FULLY_CONNECTED",
        "TRANSPOSE_CONV",
        "SVDF",
        "BATCH_MATMUL",
        "UNIDIRECTIONAL_SEQUENCE_LSTM",
    }
)
#: Float graph I/O is acceptable when these ops convert at the edges.
_EDGE_CONVERTERS = frozenset({"QUANTIZE", "DEQUANTIZE"})


class CheckStatus(StrEnum):
    """The verdict of one check (the JSON strings)."""

    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One named check with its verdict and a one-line explanation with the numbers."""

    name: str
    status: CheckStatus
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What the user asked to hold; None skips a check."""

    budget_bytes: int | None = None
    reserve_bytes: int = 0
    deadline_ms: float | None = None
    energy_uj: float | None = None
    profile: str | None = None
    stride_ms: float = 20.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentFacts:
    """The measured side: what the model needs on the target (from plan, tail and cost)."""

    model: Model
    target: str
    kernels: str
    arena_bytes: int
    tflm_arena_bytes: int
    sram_bytes: int | None
    flash_bytes: int | None
    unsupported: tuple[str, ...]
    cost: CostEstimate | None
    cost_error: str | None = None
    #: The whole arena under arena's best plan, when the checked plan is another allocator's.
    best_arena_bytes: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationResult:
    """Every check run for one model on one target; ``ok`` when none failed."""

    model: str
    target: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings allowed)."""
        return all(check.status is not CheckStatus.FAIL for check in self.checks)


def _role_names(graph: Subgraph) -> tuple[set[int], set[int], set[int]]:
    """(weights, biases, consumers-of-float-edges) tensor indices of a subgraph."""
    weights: set[int] = set()
    biases: set[int] = set()
    for op in graph.operators:
        if op.op_name in _WEIGHTED:
            weights.update(i for i in op.inputs[1:2] if i >= 0)
            if op.op_name != "UNIDIRECTIONAL_SEQUENCE_LSTM":
                biases.update(i for i in op.inputs[2:3] if i >= 0)
    edges = {i for op in graph.operators if op.op_name in _EDGE_CONVERTERS for i in (*op.inputs, *op.outputs)}
    return weights, biases, edges


def _label(tensor: Tensor) -> str:
    return f"{tensor.index} '{tensor.name[-40:]}' ({tensor.type_name})"


def check_int8(model: Model) -> Check:
    """Weights int8 (int4 allowed), biases int32, activations int8; float only at converted edges."""
    offenders: list[str] = []
    float_edges: list[str] = []
    state: list[str] = []
    for graph in model.subgraphs:
        weights, biases, edges = _role_names(graph)
        io = set(graph.inputs) | set(graph.outputs)
        for tensor in graph.tensors:
            kind = tensor.type_name
            if tensor.index in weights:
                ok = kind in ("int8", "int4")
            elif tensor.index in biases:
                ok = kind in ("int32", "int64")
            elif tensor.has_data:
                ok = True  # shapes, axes and lookup tables are not activations
            elif tensor.element_count == 0:
                ok = True
            else:
                ok = kind == "int8"
                if not ok and tensor.is_variable and kind == "int16":
                    state.append(_label(tensor))
                    continue
                if not ok and kind == "float32" and tensor.index in io and tensor.index in edges:
                    float_edges.append(_label(tensor))
                    continue
            if not ok:
                offenders.append(_label(tensor))
    if offenders:
        shown = ", ".join(offenders[:5]) + (f" and {len(offenders) - 5} more" if len(offenders) > 5 else "")
        return Check(name="int8", status=CheckStatus.FAIL, detail=f"{len(offenders)} tensors not int8: {shown}")
    notes = []
    if float_edges:
        notes.append(f"float32 graph I/O converted by QUANTIZE/DEQUANTIZE: {', '.join(float_edges)}")
    if state:
        notes.append(f"int16 state tensors (16x8 kernels): {', '.join(state[:3])}")
    if notes:
        return Check(name="int8", status=CheckStatus.WARN, detail="; ".join(notes))
    return Check(name="int8", status=CheckStatus.PASS, detail="weights and activations int8, biases int32")


def check_ops(model: Model, facts: DeploymentFacts) -> list[Check]:
    """Every op has a TFLM kernel; with CMSIS-NN, which ops fall back to reference kernels."""
    versions = sorted({f"{op.op_name} v{op.version}" for g in model.subgraphs for op in g.operators})
    if facts.unsupported:
        reasons = [
            reason.split(": ", 1)[-1].removesuffix("; planned without its scratch buffers")
            for reason in facts.unsupported
        ]
        checks = [Check(name="ops", status=CheckStatus.FAIL, detail="; ".join(reasons))]
    else:
        checks = [Check(name="ops", status=CheckStatus.PASS, detail="all supported by TFLM: " + ", ".join(versions))]
    if facts.kernels.startswith("cmsis-nn"):
        fallback = sorted({op.op_name for g in model.subgraphs for op in g.operators if op.op_name not in CMSIS_NN_OPS})
        status = CheckStatus.WARN if fallback else CheckStatus.PASS
        detail = (
            "reference kernels (no CMSIS-NN version) for: " + ", ".join(fallback)
            if fallback
            else "every op has a CMSIS-NN kernel"
        )
        checks.append(Check(name="cmsis-nn", status=status, detail=detail))
    return checks


def _compare(name: str, needed: float, limit: float, unit: str, why: str) -> Check:
    fits = needed <= limit
    status = CheckStatus.PASS if fits else CheckStatus.FAIL
    margin = limit - needed
    verb = "headroom" if fits else "over by"
    return Check(
        name=name,
        status=status,
        detail=f"{why}: {needed:,.1f} {unit} of {limit:,.1f} {unit} ({verb} {abs(margin):,.1f} {unit})",
    )


def check_memory(facts: DeploymentFacts, limits: Limits) -> list[Check]:
    """Arena within the budget, arena plus reserve within SRAM, model within flash."""
    checks = []
    saving = facts.tflm_arena_bytes - facts.arena_bytes
    note = f" (TFLM's default plan: {facts.tflm_arena_bytes:,} B)" if saving > 0 else ""
    best = facts.best_arena_bytes
    if best is not None and best < facts.arena_bytes:
        note = f" (arena's best plan: {best:,} B once embedded by arena export)"
    if limits.budget_bytes is not None:
        fits = facts.arena_bytes <= limits.budget_bytes
        checks.append(
            Check(
                name="arena-budget",
                status=CheckStatus.PASS if fits else CheckStatus.FAIL,
                detail=f"arena {format_bytes(facts.arena_bytes)}{note} vs budget {format_bytes(limits.budget_bytes)}"
                + ("" if fits else f": {facts.arena_bytes - limits.budget_bytes:,} B over"),
            )
        )
    if facts.sram_bytes is not None:
        needed = facts.arena_bytes + limits.reserve_bytes
        fits = needed <= facts.sram_bytes
        checks.append(
            Check(
                name="sram",
                status=CheckStatus.PASS if fits else CheckStatus.FAIL,
                detail=f"arena + reserve {format_bytes(needed)} vs SRAM {format_bytes(facts.sram_bytes)}"
                + ("" if fits else f": {needed - facts.sram_bytes:,} B over"),
            )
        )
    else:
        checks.append(Check(name="sram", status=CheckStatus.WARN, detail="target has no SRAM figure; give --sram"))
    if facts.flash_bytes is not None:
        size = facts.model.size_bytes
        fits = size <= facts.flash_bytes
        checks.append(
            Check(
                name="flash",
                status=CheckStatus.PASS if fits else CheckStatus.FAIL,
                detail=f"model {format_bytes(size)} vs flash {format_bytes(facts.flash_bytes)} (code not counted)",
            )
        )
    return checks


def check_time_and_energy(facts: DeploymentFacts, limits: Limits) -> list[Check]:
    """Latency within the deadline, energy within the limit (when the cost model covers the core)."""
    asked = limits.deadline_ms is not None or limits.energy_uj is not None or limits.profile == "kws"
    if facts.cost is None:
        if asked:
            return [Check(name="latency", status=CheckStatus.WARN, detail=f"no cost estimate: {facts.cost_error}")]
        return []
    checks = []
    total = facts.cost
    if limits.deadline_ms is not None:
        checks.append(_compare("latency", total.latency_ms, limits.deadline_ms, "ms", "one inference"))
    if limits.energy_uj is not None:
        if total.energy_uj is None:
            checks.append(Check(name="energy", status=CheckStatus.WARN, detail="target has no power figure"))
        else:
            checks.append(_compare("energy", total.energy_uj, limits.energy_uj, "uJ", "one inference"))
    return checks


def _is_spectrogram(tensor: Tensor) -> bool:
    dims = [d for d in tensor.shape if d != 1]
    return len(dims) == 2 and all(d >= 2 for d in dims)


def check_kws(model: Model, facts: DeploymentFacts, limits: Limits) -> list[Check]:
    """Keyword spotting: spectrogram-shaped int8 input, class-score output, real-time factor."""
    graph = model.subgraphs[0]
    first_input = graph.tensors[graph.inputs[0]] if graph.inputs else None
    first_output = graph.tensors[graph.outputs[0]] if graph.outputs else None
    checks = []
    flat = first_input is not None and len([d for d in first_input.shape if d != 1]) == 1
    if first_input is not None and _is_spectrogram(first_input) and first_input.type_name in ("int8", "float32"):
        status = CheckStatus.PASS if first_input.type_name == "int8" else CheckStatus.WARN
        detail = f"input {list(first_input.shape)} {first_input.type_name}: time x features"
    elif flat and first_input is not None:
        status = CheckStatus.WARN
        detail = f"input {list(first_input.shape)} is flattened: time x features cannot be checked"
    else:
        status = CheckStatus.FAIL
        detail = f"input {None if first_input is None else list(first_input.shape)} is not a 2-D spectrogram"
    checks.append(Check(name="kws-input", status=status, detail=detail))
    classes = [d for d in first_output.shape if d != 1] if first_output is not None else []
    is_scores = len(classes) == 1 and classes[0] >= 2
    checks.append(
        Check(
            name="kws-output",
            status=CheckStatus.PASS if is_scores else CheckStatus.FAIL,
            detail=f"output {None if first_output is None else list(first_output.shape)}"
            + (f": {classes[0]} class scores" if is_scores else " is not a class-score vector"),
        )
    )
    if facts.cost is not None:
        latency = facts.cost.latency_ms
        factor = latency / limits.stride_ms
        checks.append(
            Check(
                name="real-time",
                status=CheckStatus.PASS if factor <= 1 else CheckStatus.FAIL,
                detail=f"real-time factor {factor:.2f}: {latency:,.1f} ms per inference"
                f" every {limits.stride_ms:g} ms hop (1 s window)",
            )
        )
    return checks


def validate_deployment(facts: DeploymentFacts, limits: Limits) -> ValidationResult:
    """Run every check that applies and collect the verdicts."""
    checks: list[Check] = [check_int8(facts.model)]
    checks += check_ops(facts.model, facts)
    checks += check_memory(facts, limits)
    checks += check_time_and_energy(facts, limits)
    if limits.profile == "kws":
        checks += check_kws(facts.model, facts, limits)
    return ValidationResult(model=facts.model.display_name, target=facts.target, checks=tuple(checks))


def validate_model(
    model: str | Path,
    target: Target,
    limits: Limits,
    *,
    allocator: str = DEVICE_ALLOCATOR,
    kernels: str | None = None,
) -> ValidationResult:
    """Plan, size and cost ``model`` on ``target`` and check it against ``limits``."""
    loaded = read_model(model)
    result = plan_model(loaded, allocator=allocator, kernels=kernels, target=target, allow_unsupported=True)
    sizing = result.sizing
    assert sizing is not None, "planned for a target, so sized"
    best = best_beside(result, allow_unsupported=True)
    family = kernels or target.default_kernels
    cost = None
    cost_error = None
    if has_cost_model(target, family):
        cost = estimate_on_target(loaded, target, kernels=family)
    else:
        cost_error = f"no cycle model for {target.core} with {resolve_kernels(family, target.kernel_isa)} kernels"
    facts = DeploymentFacts(
        model=loaded,
        target=target.name,
        kernels=result.table.kernels,
        arena_bytes=sizing.total_bytes,
        tflm_arena_bytes=sizing.tflm_total_bytes,
        sram_bytes=target.sram_bytes,
        flash_bytes=target.flash_bytes,
        unsupported=result.table.warnings,
        cost=cost,
        cost_error=cost_error,
        best_arena_bytes=None if best is None or best.sizing is None else best.sizing.total_bytes,
    )
    return validate_deployment(facts, limits)
