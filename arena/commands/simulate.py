"""``arena simulate``: get a plan (allocator or file), simulate it, optionally run it in TFLM."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arena.allocators import DEVICE_ALLOCATOR
from arena.commands.beside import best_beside
from arena.model.reader import read_model
from arena.plan.pipeline import plan_model
from arena.plan.plan_file import read_plan_file
from arena.proofs.simulator import SimulationResult, simulate_plan
from arena.proofs.tflm_run import ExecutionResult, execute_plan


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationReport:
    """The simulation and, when asked for, the real-TFLM execution of one plan."""

    simulation: SimulationResult
    execution: ExecutionResult | None = None
    #: Head of arena's best plan for the same buffers, beside a simulated plan of another allocator.
    best_head_bytes: int | None = None
    best_allocator: str | None = None

    @property
    def ok(self) -> bool:
        """Safe in simulation and, if executed, identical outputs with the predicted head."""
        return self.simulation.ok and (self.execution is None or self.execution.ok)


def run_simulation(
    model: str | Path,
    *,
    allocator: str | None = None,
    plan_file: str | Path | None = None,
    kernels: str | None = None,
    allow_unsupported: bool = False,
    execute: bool = False,
    inputs: str | Path | None = None,
    seed: int = 0,
    arena_size: int | None = None,
    save_outputs: str | Path | None = None,
) -> SimulationReport:
    """Simulate the plan from ``plan_file`` or ``allocator`` (default tflm); execute on request."""
    if plan_file is not None:
        result = read_plan_file(plan_file, read_model(model), allow_unsupported=allow_unsupported)
    else:
        result = plan_model(
            model,
            allocator=allocator or DEVICE_ALLOCATOR,
            kernels=kernels,
            allow_unsupported=allow_unsupported,
        )
    simulation = simulate_plan(result, seed=seed)
    execution = None
    if execute:
        execution = execute_plan(result, arena_size=arena_size, inputs=inputs, seed=seed, save_outputs=save_outputs)
    best = None if plan_file is not None else best_beside(result, allow_unsupported=allow_unsupported)
    return SimulationReport(
        simulation=simulation,
        execution=execution,
        best_head_bytes=None if best is None else best.plan.peak_bytes,
        best_allocator=None if best is None else best.allocator,
    )
