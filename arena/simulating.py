"""``arena simulate``: get a plan (allocator or file), simulate it, optionally run it in TFLM."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from arena.allocators import DEFAULT_ALLOCATOR
from arena.execute import ExecutionResult, execute_plan, execution_document, render_execution_text
from arena.model.reader import read_model
from arena.planning import plan_model
from arena.simulate import (
    SimulationResult,
    read_plan_file,
    render_simulation_text,
    render_timeline_chart,
    simulate_plan,
    simulation_document,
)
from arena.units import parse_size


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationReport:
    """The simulation and, when asked for, the real-TFLM execution of one plan."""

    simulation: SimulationResult
    execution: ExecutionResult | None = None

    @property
    def ok(self) -> bool:
        """Safe in simulation and, if executed, identical outputs with the predicted head."""
        return self.simulation.ok and (self.execution is None or self.execution.ok)

    def render_text(self, *, chart: bool = True) -> str:
        """Summary, optional timeline chart, then the execution comparison."""
        parts = [render_simulation_text(self.simulation)]
        if chart:
            parts.append(render_timeline_chart(self.simulation))
        if self.execution is not None:
            parts.append(render_execution_text(self.execution))
        return "\n".join(parts)

    def render_json(self) -> str:
        """One JSON document: the simulation, with ``execution`` when executed."""
        document = simulation_document(self.simulation)
        if self.execution is not None:
            document["execution"] = execution_document(self.execution)
        document["ok"] = self.ok
        return json.dumps(document, indent=2) + "\n"


def run_simulation(
    model: str | Path,
    *,
    allocator: str | None = None,
    plan_file: str | Path | None = None,
    kernels: str = "reference",
    allow_unsupported: bool = False,
    execute: bool = False,
    inputs: str | Path | None = None,
    seed: int = 0,
    arena_size: str | None = None,
    save_outputs: str | Path | None = None,
) -> SimulationReport:
    """Simulate the plan from ``plan_file`` or ``allocator`` (default tflm); execute on request."""
    if plan_file is not None:
        result = read_plan_file(plan_file, read_model(model), allow_unsupported=allow_unsupported)
    else:
        result = plan_model(
            model,
            allocator=allocator or DEFAULT_ALLOCATOR,
            kernels=kernels,
            allow_unsupported=allow_unsupported,
        )
    simulation = simulate_plan(result, seed=seed)
    execution = None
    if execute:
        size = None if arena_size is None else parse_size(arena_size, "--arena-size")
        execution = execute_plan(result, arena_size=size, inputs=inputs, seed=seed, save_outputs=save_outputs)
    return SimulationReport(simulation=simulation, execution=execution)
