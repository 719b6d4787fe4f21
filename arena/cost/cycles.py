"""Cycle models: how many core cycles an operator takes on one (core, kernel library) pair.

A cycle model is a short table read from ``coefficients.toml`` beside this module::

    cycles(op) = cycles_per_mac[kind] x macs + cycles_per_element[kind] x elements + cycles_per_op

with ``macs`` and ``elements`` from :mod:`arena.cost.macs`. Every coefficient in the file names
its source: a fit to measured MLPerf Tiny latencies (:mod:`arena.cost.fit`), or an estimate
from the kernel source code, explained in ``docs/cost-model.md``.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

from arena.cost.macs import OpCount, OpKind
from arena.errors import ArenaError

#: The coefficient file's layout version this module reads.
COEFFICIENTS_SCHEMA_VERSION = 1


class CycleModelStatus(StrEnum):
    """How far a cycle model's numbers were checked against measurements."""

    #: Fitted to measured latencies of the named board and software stack.
    CALIBRATED = "calibrated"
    #: Scaled from a calibrated model by a published ratio; never compared with a measurement.
    DERIVED = "derived"


@dataclass(frozen=True, slots=True, kw_only=True)
class Coefficient:
    """One number of a cycle model and the key of its source in the file's ``[sources]``."""

    value: float
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleModel:
    """Cycles per MAC and per element for each op kind, plus a fixed cost per op invocation.

    A kind missing from ``cycles_per_mac`` has no MAC cost; every kind has a per-element cost.
    ``basis`` says what the numbers were measured or derived on, in one line.
    """

    core: str
    kernels: str
    status: CycleModelStatus
    basis: str
    cycles_per_mac: Mapping[OpKind, Coefficient]
    cycles_per_element: Mapping[OpKind, Coefficient]
    cycles_per_op: Coefficient
    sources: Mapping[str, str]

    @property
    def name(self) -> str:
        """``core/kernels``, as the CLI and messages spell it."""
        return f"{self.core}/{self.kernels}"

    def op_cycles(self, count: OpCount) -> float:
        """Cycles of one operator (not rounded; sums stay exact until the caller rounds).

        Examples
        --------
        >>> from arena.cost.macs import OpCount, OpKind
        >>> model = load_cycle_model("cortex-m33", "cmsis-nn")
        >>> add = OpCount(subgraph_index=0, op_index=0, op_name="ADD", kind=OpKind.ELEMENTWISE,
        ...               macs=0, elements=100)
        >>> model.op_cycles(add) == model.cycles_per_op.value + 100 * (
        ...     model.cycles_per_element[OpKind.ELEMENTWISE].value)
        True
        """
        per_mac = self.cycles_per_mac.get(count.kind)
        per_element = self.cycles_per_element[count.kind]
        mac_cycles = count.macs * per_mac.value if per_mac is not None else 0.0
        return mac_cycles + count.elements * per_element.value + self.cycles_per_op.value


def _coefficient(raw: Any, where: str, sources: Mapping[str, str]) -> Coefficient:
    if not isinstance(raw, dict) or set(raw) != {"value", "source"}:
        raise ArenaError(f"coefficients.toml: {where} must be {{ value = <number>, source = <key> }}")
    value, source = raw["value"], raw["source"]
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ArenaError(f"coefficients.toml: {where} value {value!r} is not a non-negative number")
    for key in str(source).split("+"):
        if key not in sources:
            raise ArenaError(f"coefficients.toml: {where} names source {key!r}, not in [sources]")
    return Coefficient(value=float(value), source=str(source))


def _kind_table(raw: Any, where: str, sources: Mapping[str, str]) -> dict[OpKind, Coefficient]:
    if not isinstance(raw, dict):
        raise ArenaError(f"coefficients.toml: {where} must be a table")
    table = {}
    for key, entry in raw.items():
        try:
            kind = OpKind(key)
        except ValueError:
            raise ArenaError(f"coefficients.toml: {where} has unknown op kind {key!r}") from None
        table[kind] = _coefficient(entry, f"{where}.{key}", sources)
    return table


def _cycle_model(raw: dict[str, Any], sources: Mapping[str, str]) -> CycleModel:
    where = f"cycle_model {raw.get('core')}/{raw.get('kernels')}"
    per_element = _kind_table(raw.get("cycles_per_element"), f"{where} cycles_per_element", sources)
    missing = [str(kind) for kind in OpKind if kind not in per_element]
    if missing:
        raise ArenaError(f"coefficients.toml: {where} cycles_per_element lacks {', '.join(missing)}")
    return CycleModel(
        core=str(raw["core"]),
        kernels=str(raw["kernels"]),
        status=CycleModelStatus(raw["status"]),
        basis=str(raw["basis"]),
        cycles_per_mac=_kind_table(raw.get("cycles_per_mac"), f"{where} cycles_per_mac", sources),
        cycles_per_element=per_element,
        cycles_per_op=_coefficient(raw.get("cycles_per_op"), f"{where} cycles_per_op", sources),
        sources=sources,
    )


def parse_cycle_models(text: str) -> tuple[CycleModel, ...]:
    """Every cycle model in a coefficient file's text.

    Raises
    ------
    ArenaError
        When the text is not TOML of this layout, or a coefficient lacks a known source.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ArenaError(f"coefficients.toml: {error}") from error
    if document.get("schema_version") != COEFFICIENTS_SCHEMA_VERSION:
        raise ArenaError(
            f"coefficients.toml: schema_version {document.get('schema_version')!r},"
            f" expected {COEFFICIENTS_SCHEMA_VERSION}"
        )
    sources = document.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
        raise ArenaError("coefficients.toml: [sources] must map plain keys (no dots) to strings")
    try:
        return tuple(_cycle_model(raw, sources) for raw in document.get("cycle_model", []))
    except (KeyError, ValueError) as error:
        raise ArenaError(f"coefficients.toml: malformed cycle_model ({error})") from error


@functools.cache
def cycle_models() -> tuple[CycleModel, ...]:
    """The cycle models shipped in ``arena/cost/coefficients.toml`` (read once)."""
    text = resources.files("arena.cost").joinpath("coefficients.toml").read_text(encoding="utf-8")
    return parse_cycle_models(text)


def load_cycle_model(core: str, kernels: str) -> CycleModel:
    """The shipped cycle model for ``core`` (e.g. ``cortex-m4``) and a kernel library.

    Raises
    ------
    ArenaError
        When no model exists for the pair; the message lists the pairs that do.

    Examples
    --------
    >>> load_cycle_model("cortex-m4", "cmsis-nn").status
    <CycleModelStatus.CALIBRATED: 'calibrated'>
    >>> load_cycle_model("cortex-m0plus", "cmsis-nn")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    arena.errors.ArenaError: no cycle model for core 'cortex-m0plus' with kernels 'cmsis-nn'; ...
    """
    for model in cycle_models():
        if model.core == core and model.kernels == kernels:
            return model
    known = ", ".join(model.name for model in cycle_models())
    raise ArenaError(f"no cycle model for core {core!r} with kernels {kernels!r}; available (core/kernels): {known}")
