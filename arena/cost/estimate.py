"""Latency, energy and average power of one inference on one target, layer by layer.

Latency is cycles / clock. Energy is the board's active power x latency. At a rate of ``rate_hz``
inferences per second the core is busy ``rate_hz x latency`` of the time and sleeps the rest, so

    average power = rate_hz x energy per inference + sleep power x (1 - rate_hz x latency)

ignoring wake-up transitions and the sensor and radio. A rate the model cannot reach is a
negative verdict (``CostEstimate.ok`` is false), not an error.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from arena.cost.cycles import CycleModel, CycleModelStatus, load_cycle_model
from arena.cost.macs import MAC_KINDS, ModelCounts, OpKind, count_model
from arena.errors import ArenaError
from arena.model.records import Model

#: Input types the calibrated kernels compute in (int8 activations; int16 for LSTM/SVDF state).
_INTEGER_TYPES = frozenset({"int8", "int16"})


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerCost:
    """One operator's counts, its predicted cycles and its share of the inference time."""

    subgraph_index: int
    op_index: int
    op_name: str
    kind: OpKind
    macs: int
    elements: int
    cycles: int
    time_share: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CostEstimate:
    """What one inference costs on a target, and what a duty cycle averages to.

    ``energy_uj`` is None when the target has no active power figure; ``average_power_mw`` is
    None without a rate, or when the rate is out of reach (then ``ok`` is false).
    """

    model_name: str
    core: str
    kernels: str
    clock_hz: int
    cycle_model_status: CycleModelStatus
    cycle_model_basis: str
    layers: tuple[LayerCost, ...]
    parameters: int
    constant_bytes: int
    model_bytes: int
    cycles: int
    latency_ms: float
    active_power_mw: float | None
    energy_uj: float | None
    sleep_power_uw: float | None
    rate_hz: float | None
    average_power_mw: float | None
    warnings: tuple[str, ...]

    @property
    def macs(self) -> int:
        """Multiply-accumulates over all layers."""
        return sum(layer.macs for layer in self.layers)

    @property
    def elements(self) -> int:
        """Element operations over all layers."""
        return sum(layer.elements for layer in self.layers)

    @property
    def inferences_per_second(self) -> float | None:
        """The most inferences per second back to back (None for a model with no cycles)."""
        return 1000.0 / self.latency_ms if self.latency_ms > 0 else None

    @property
    def duty_cycle(self) -> float | None:
        """Fraction of time busy at ``rate_hz`` (above 1 when the rate is out of reach)."""
        return None if self.rate_hz is None else self.rate_hz * self.latency_ms / 1000.0

    @property
    def ok(self) -> bool:
        """False when ``rate_hz`` asks for more inferences per second than the target makes."""
        duty = self.duty_cycle
        return duty is None or duty <= 1.0


def _check_inputs(
    clock_hz: int, active_power_mw: float | None, sleep_power_uw: float | None, rate_hz: float | None
) -> None:
    if isinstance(clock_hz, bool) or not isinstance(clock_hz, int) or clock_hz <= 0:
        raise ArenaError(f"clock {clock_hz!r} Hz: expected a positive whole number of hertz")
    for name, value in (("active power", active_power_mw), ("sleep power", sleep_power_uw)):
        if value is not None and not value >= 0:
            raise ArenaError(f"{name} {value!r}: expected a non-negative number")
    if rate_hz is not None and not rate_hz > 0:
        raise ArenaError(f"rate {rate_hz!r} inferences/s: expected a positive number")


def _warnings(counts: ModelCounts, cycle_model: CycleModel, subgraph_count: int) -> list[str]:
    warnings = []
    if cycle_model.status is CycleModelStatus.DERIVED:
        warnings.append(
            f"cycle model {cycle_model.name} is derived, not calibrated against measurements:"
            " expect errors of a factor of two"
        )
    uncosted = Counter(op.op_name for op in counts.ops if op.kind is OpKind.OTHER)
    if uncosted:
        names = ", ".join(f"{name} x{number}" if number > 1 else name for name, number in sorted(uncosted.items()))
        per_element = cycle_model.cycles_per_element[OpKind.OTHER].value
        warnings.append(
            f"no cost rule for {uncosted.total()} op(s) ({names}):"
            f" costed at a guessed {per_element:g} cycles per output element"
        )
    not_integer = [op for op in counts.ops if op.kind in MAC_KINDS and op.input_type not in _INTEGER_TYPES]
    if not_integer:
        first = not_integer[0]
        warnings.append(
            f"{len(not_integer)} MAC op(s) take non-integer input (first: subgraph {first.subgraph_index},"
            f" op {first.op_index} {first.op_name}, {first.input_type or 'no input'});"
            " the cycle model is for int8 kernels"
        )
    if subgraph_count > 1:
        warnings.append(f"model has {subgraph_count} subgraphs: each op is costed once, however often IF/WHILE run it")
    return warnings


def cost_from_counts(
    counts: ModelCounts,
    cycle_model: CycleModel,
    *,
    clock_hz: int,
    active_power_mw: float | None = None,
    sleep_power_uw: float | None = None,
    rate_hz: float | None = None,
    subgraph_count: int = 1,
) -> CostEstimate:
    """The cost of counted work under one cycle model; :func:`estimate_cost` without the file.

    The calibration fit (:mod:`arena.cost.fit`) calls this with cycle models it has fitted.
    Parameters are as for :func:`estimate_cost`; ``subgraph_count`` only adds a warning.
    """
    _check_inputs(clock_hz, active_power_mw, sleep_power_uw, rate_hz)
    op_cycles = [round(cycle_model.op_cycles(op)) for op in counts.ops]
    total_cycles = sum(op_cycles)
    layers = tuple(
        LayerCost(
            subgraph_index=op.subgraph_index,
            op_index=op.op_index,
            op_name=op.op_name,
            kind=op.kind,
            macs=op.macs,
            elements=op.elements,
            cycles=cycles,
            time_share=cycles / total_cycles if total_cycles else 0.0,
        )
        for op, cycles in zip(counts.ops, op_cycles, strict=True)
    )
    latency_ms = total_cycles / clock_hz * 1000.0
    energy_uj = None if active_power_mw is None else active_power_mw * latency_ms  # mW x ms = uJ
    warnings = _warnings(counts, cycle_model, subgraph_count)
    average_power_mw = None
    if rate_hz is not None and energy_uj is None:
        warnings.append("no active power figure: energy and average power are unknown")
    if rate_hz is not None and energy_uj is not None:
        duty = rate_hz * latency_ms / 1000.0
        if duty <= 1.0:
            sleep_mw = 0.0 if sleep_power_uw is None else sleep_power_uw / 1000.0
            average_power_mw = rate_hz * energy_uj / 1000.0 + sleep_mw * (1.0 - duty)  # uJ/s = uW
            if sleep_power_uw is None:
                warnings.append("sleep power unknown: the average counts inference energy only")
    return CostEstimate(
        model_name=counts.model_name,
        core=cycle_model.core,
        kernels=cycle_model.kernels,
        clock_hz=clock_hz,
        cycle_model_status=cycle_model.status,
        cycle_model_basis=cycle_model.basis,
        layers=layers,
        parameters=counts.parameters,
        constant_bytes=counts.constant_bytes,
        model_bytes=counts.model_bytes,
        cycles=total_cycles,
        latency_ms=latency_ms,
        active_power_mw=active_power_mw,
        energy_uj=energy_uj,
        sleep_power_uw=sleep_power_uw,
        rate_hz=rate_hz,
        average_power_mw=average_power_mw,
        warnings=tuple(warnings),
    )


def estimate_cost(
    model: Model,
    *,
    core: str,
    kernels: str,
    clock_hz: int,
    active_power_mw: float | None = None,
    sleep_power_uw: float | None = None,
    rate_hz: float | None = None,
) -> CostEstimate:
    """Predict latency, energy and average power of one inference, layer by layer.

    Parameters
    ----------
    model
        The model records (:func:`arena.model.read_model`).
    core, kernels
        Which shipped cycle model to use, e.g. ``"cortex-m4"`` and ``"cmsis-nn"``.
    clock_hz
        Core clock in hertz.
    active_power_mw
        Board power while inferring, in milliwatts; None leaves energy and average power unknown.
    sleep_power_uw
        Board power while sleeping between inferences, in microwatts; None counts it as zero
        (with a warning).
    rate_hz
        Inferences per second for the average-power figure; None skips it.

    Returns
    -------
    CostEstimate
        Per-layer rows and totals; ``ok`` is false when ``rate_hz`` is out of reach.

    Raises
    ------
    ArenaError
        For an unknown (core, kernels) pair, a non-positive clock or rate, a negative power, or
        an operator whose shapes do not fit its counting rule.

    Notes
    -----
    The cycle models, their sources and their measured error are in ``docs/cost-model.md``.

    Examples
    --------
    One fully connected layer, 64 inputs to 10 outputs (640 MACs), on a Cortex-M33 at 100 MHz
    drawing 50 mW, run 10 times a second with 20 uW asleep:

    >>> from arena.model.records import Model, Operator, Subgraph, Tensor
    >>> def t(i, shape):
    ...     return Tensor(index=i, name=f"t{i}", shape=shape, type_code=9, buffer=0,
    ...                   has_data=False, is_variable=False)
    >>> fc = Operator(index=0, opcode_index=0, builtin_code=9, op_name="FULLY_CONNECTED",
    ...               custom_code=None, version=1, inputs=(0, 1, 2), outputs=(3,))
    >>> graph = Subgraph(index=0, name="", operators=(fc,), inputs=(0,), outputs=(3,),
    ...                  tensors=(t(0, (1, 64)), t(1, (10, 64)), t(2, (10,)), t(3, (1, 10))))
    >>> model = Model(path="fc.tflite", sha256="", size_bytes=0, version=3, description="",
    ...               subgraphs=(graph,), metadata=(), buffer_count=0, data=b"")
    >>> cost = estimate_cost(model, core="cortex-m33", kernels="cmsis-nn", clock_hz=100_000_000,
    ...                      active_power_mw=50.0, sleep_power_uw=20.0, rate_hz=10.0)
    >>> cost.macs, cost.ok, cost.layers[0].time_share
    (640, True, 1.0)
    >>> abs(cost.energy_uj - 50.0 * cost.latency_ms) < 1e-9
    True
    """
    counts = count_model(model)
    return cost_from_counts(
        counts,
        load_cycle_model(core, kernels),
        clock_hz=clock_hz,
        active_power_mw=active_power_mw,
        sleep_power_uw=sleep_power_uw,
        rate_hz=rate_hz,
        subgraph_count=len(model.subgraphs),
    )
