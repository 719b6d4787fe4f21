"""``arena simulate``: get a plan (allocator or file), simulate it, optionally run it in TFLM.

``--execute`` runs the planned model in the tflite-micro wheel (reference kernels, 64-bit host);
``--on-target T`` adds the exported firmware files run by TFLM built for T's core in QEMU
(:mod:`arena.commands.on_target`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arena.allocators import DEVICE_ALLOCATOR
from arena.commands.beside import best_beside
from arena.errors import ArenaError
from arena.model.reader import read_model
from arena.plan.pipeline import plan_model
from arena.plan.plan_file import read_plan_file
from arena.proofs.emulator.build import Progress
from arena.proofs.emulator.exported import OnTargetProof
from arena.proofs.simulator import SimulationResult, simulate_plan
from arena.proofs.tflm_run import ExecutionResult, execute_plan
from arena.targets import Target


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationReport:
    """The simulation and, when asked for, the real-TFLM execution of one plan."""

    simulation: SimulationResult
    execution: ExecutionResult | None = None
    #: Head of arena's best plan for the same buffers, beside a simulated plan of another allocator.
    best_head_bytes: int | None = None
    best_allocator: str | None = None
    #: The exported firmware files run on the emulated core (``--on-target``).
    on_target: OnTargetProof | None = None

    @property
    def ok(self) -> bool:
        """Safe in simulation and, if executed (in the wheel, on the target), identical outputs."""
        return (
            self.simulation.ok
            and (self.execution is None or self.execution.ok)
            and (self.on_target is None or self.on_target.ok)
        )


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
    on_target: Target | None = None,
    sources: str | Path | None = None,
    jobs: int = 2,
    progress: Progress | None = None,
) -> SimulationReport:
    """Simulate the plan from ``plan_file`` or ``allocator`` (default tflm); execute on request.

    ``on_target`` (with ``sources``) also exports the same allocator's plan for that target and
    proves the exported files on its emulated core; it does not take a plan file.
    """
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
    proof = None
    if on_target is not None:
        from arena.commands.on_target import prove_on_target

        if plan_file is not None or sources is None:
            raise ArenaError("--on-target exports an allocator's plan: give --allocator (not --plan) and sources")
        proof = prove_on_target(
            model,
            target=on_target,
            allocator=allocator or DEVICE_ALLOCATOR,
            kernels=kernels,
            sources=sources,
            seed=seed,
            jobs=jobs,
            progress=progress,
        )
    best = None if plan_file is not None else best_beside(result, allow_unsupported=allow_unsupported)
    return SimulationReport(
        simulation=simulation,
        execution=execution,
        best_head_bytes=None if best is None else best.plan.peak_bytes,
        best_allocator=None if best is None else best.allocator,
        on_target=proof,
    )
