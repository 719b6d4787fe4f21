"""Run fuzz cases in-process, bounded in time and memory, and sort their outcomes into classes.

A case passes when it ends in a result or in one ``ArenaError`` with a one-line message. Any
other exception, a case that runs past its time bound, a jump in the process's peak memory, or
a plan the independent validator (or the simulator) rejects is a failure, kept with the seed and
the mutation that caused it so it can be replayed.
"""

from __future__ import annotations

import json
import random
import re
import resource
import signal
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from arena.allocators import get_allocator
from arena.allocators.hill_climb import hill_climb
from arena.allocators.problem import Plan, Problem
from arena.allocators.validate import ViolationKind, validate_plan
from arena.commands.cost import cost_model_on_target
from arena.commands.pack import pack_file
from arena.errors import ArenaError
from arena.model.reader import read_model_bytes
from arena.model.records import Model
from arena.plan.pipeline import plan_model
from arena.plan.plan_file import plan_from_document, read_plan_file
from arena.proofs.simulator import simulate_plan
from arena.render.plan import render_plan_json
from arena.units import parse_size

#: Wall-clock bound of one case; the slowest real case takes well under a second.
CASE_SECONDS = 10.0
#: A case may raise the process's peak RSS by at most this much (a claimed size must not be allocated).
CASE_RSS_GROWTH_BYTES = 256 * 1024 * 1024
#: The simulator plays a real byte array the size of the head (plus an int64 owner per byte), so
#: cases whose (valid) plan is larger than this are planned and validated but not simulated.
SIMULATE_HEAD_LIMIT_BYTES = 1024 * 1024
PLANNED = "planned OK"
PLANNED_NOT_SIMULATED = f"planned OK (head > {SIMULATE_HEAD_LIMIT_BYTES >> 20} MiB: not simulated)"


class CaseTimeout(BaseException):
    """Raised by the alarm inside a case that runs past its bound (BaseException: nothing swallows it)."""


class WrongResult(AssertionError):
    """A plan the validator rejects, or a valid plan the simulator finds unsafe."""


@contextmanager
def time_bound(seconds: float) -> Iterator[None]:
    """Raise :class:`CaseTimeout` in the main thread if the block runs longer than ``seconds``."""

    def alarm(signum: int, frame: object) -> None:
        raise CaseTimeout(f"case ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@contextmanager
def capped_memory(extra_bytes: int = 3 << 30) -> Iterator[None]:
    """Cap the address space at its current size plus ``extra_bytes`` for the block.

    A case that tries to allocate a claimed size then fails with ``MemoryError`` (recorded as a
    failure) instead of taking the machine down.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            vm_kib = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    except OSError:  # not Linux: run uncapped
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = vm_kib * 1024 + extra_bytes
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def error_class(error: BaseException, label: str) -> str:
    """``Type: message`` with the file, places, names and numbers taken out (one class per rule)."""
    text = str(error).removeprefix(f"{label}: ")
    text = re.sub(r"'[^']*'", "'*'", text)
    text = re.sub(r"\bop \d+ \([A-Z][^()\s]*\)", "op N (OP)", text)
    text = re.sub(r"\[[^\]]*\]", "[...]", text)
    text = re.sub(r"(?<![A-Za-z_0-9])-?\d+(?:,\d{3})*(?:\.\d+)?(?:e[+-]?\d+)?", "N", text)
    text = re.sub(r" \((?!OP\)).*$", "", text)
    return f"{type(error).__name__}: {text[:90]}"


@dataclass
class Tally:
    """Outcome classes with counts, and every failure with what caused it."""

    name: str
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")
    cases: int = 0
    seconds: float = 0.0

    def run(self, what: str, label: str, case: Callable[[], str]) -> None:
        """Run one case; classify its outcome; keep a failure's cause with ``what``."""
        rss_before = max_rss_bytes()
        started = time.perf_counter()
        try:
            with time_bound(CASE_SECONDS):
                outcome = case()
        except ArenaError as error:
            outcome = error_class(error, label)
            message = str(error)
            if not message or "\n" in message or "\r" in message:
                self.failures.append(f"{what}: ArenaError message is not one line: {message!r}")
            elif label not in message:
                self.failures.append(f"{what}: ArenaError message does not name the file: {message!r}")
        except (CaseTimeout, WrongResult) as error:
            outcome = f"FAIL {type(error).__name__}"
            self.failures.append(f"{what}: {error}")
        except Exception as error:  # noqa: BLE001 - the fuzzer's job is to catch what escapes
            frame = traceback.extract_tb(error.__traceback__)[-1]
            outcome = f"FAIL {type(error).__name__}"
            self.failures.append(
                f"{what}: {type(error).__name__}: {str(error)[:200]} at {frame.filename}:{frame.lineno}"
            )
        elapsed = time.perf_counter() - started
        growth = max_rss_bytes() - rss_before
        if growth > CASE_RSS_GROWTH_BYTES:
            self.failures.append(f"{what}: peak RSS grew by {growth >> 20} MiB")
        self.cases += 1
        self.seconds += elapsed
        self.counts[outcome] += 1
        if elapsed > self.slowest[0]:
            self.slowest = (elapsed, what)

    def campaign(
        self,
        cases: int,
        seed: int,
        label: str,
        mutate: Callable[[random.Random], tuple[str, str, bytes]],
        run: Callable[[bytes, int], str],
    ) -> None:
        """``cases`` mutations from a generator seeded with ``seed``, each run by ``run(data, i)``."""
        rng = random.Random(seed)
        for number in range(cases):
            kind, what, data = mutate(rng)
            self.run(
                f"seed {seed} case {number} {kind}: {what[:160]}",
                label,
                lambda data=data, number=number: run(data, number),
            )  # type: ignore[misc]

    def report(self) -> str:
        lines = [
            f"{self.name}: {self.cases} cases in {self.seconds:.1f} s,"
            f" slowest {self.slowest[0] * 1000:.0f} ms ({self.slowest[1][:100]})"
        ]
        lines += [f"  {count:6d}  {outcome}" for outcome, count in self.counts.most_common()]
        lines += [f"  FAILURE {failure}" for failure in self.failures[:30]]
        return "\n".join(lines)


def _checked(problem: Problem, plan: Plan, what: str) -> None:
    """Raise unless the only violations are overlaps the model's own offline plan chose."""
    for violation in validate_plan(problem, plan).violations:
        chosen = violation.kind is ViolationKind.OVERLAP and all(
            problem.buffers[i].fixed_offset is not None for i in violation.buffers
        )
        if not chosen:
            raise WrongResult(f"{what} plan fails the validator: {violation.message}")


_OTHER_ALLOCATORS = ("best-fit", "breadth", "hill-climb")
_PACK_ALLOCATORS = ("tflm", "best-fit", "breadth", "hill-climb")
_CAPACITIES = (None, 0, 1024, 1 << 20)


def run_model_case(data: bytes, label: str, variant: int) -> str:
    """The library path of every command on one model: read, lifetimes, plans, simulation, cost.

    ``variant`` rotates the kernel library, ``allow_unsupported``, the second allocator and the
    optional stages, so that a campaign covers them all without running each on every case.
    """
    model = read_model_bytes(data, label)
    kernels = ("reference", "cmsis-nn")[variant % 2]
    result = plan_model(model, kernels=kernels, allow_unsupported=variant % 3 != 0)
    problem = result.table.problem
    _checked(problem, result.plan, "tflm")
    other = _OTHER_ALLOCATORS[variant % 3]
    if other == "hill-climb":
        plan = hill_climb(problem, iterations=20, time_limit_seconds=0.2)
    else:
        plan = get_allocator(other)(problem)
    _checked(problem, plan, other)
    if variant % 4 == 0:
        cost_model_on_target(model, "cortex-m4")
    if variant % 5 == 0:
        document = json.loads(render_plan_json(result))
        reloaded = plan_from_document(document, model, label="plan.json", allow_unsupported=True)
        if reloaded.plan.offsets != result.plan.offsets:
            raise WrongResult("plan file round trip changed the offsets")
    if result.plan.peak_bytes > SIMULATE_HEAD_LIMIT_BYTES:
        return PLANNED_NOT_SIMULATED
    simulation = simulate_plan(result)
    if not simulation.ok and not result.validation.violations:
        raise WrongResult(f"valid plan is unsafe in simulation: {simulation.clobbers[0].message}")
    return PLANNED


def run_plan_file_case(path: Path, data: bytes, model: Model) -> str:
    """``arena simulate MODEL --plan FILE`` in-process: load, validate, simulate."""
    path.write_bytes(data)
    result = read_plan_file(path, model, allow_unsupported=True)
    if result.plan.peak_bytes > SIMULATE_HEAD_LIMIT_BYTES:
        return PLANNED_NOT_SIMULATED
    simulation = simulate_plan(result)
    if not simulation.ok and not result.validation.violations:
        raise WrongResult(f"plan the validator accepts is unsafe in simulation: {simulation.clobbers[0].message}")
    if result.validation.violations:
        return "loaded: the plan breaks the validator's rules (a verdict, exit 1)"
    return "loaded: valid plan"


def run_csv_case(path: Path, data: bytes, variant: int) -> str:
    """``arena pack FILE`` in-process: read, pack with a rotating allocator and capacity, validate."""
    path.write_bytes(data)
    allocator = _PACK_ALLOCATORS[variant % len(_PACK_ALLOCATORS)]
    result = pack_file(
        path, allocator=allocator, capacity=_CAPACITIES[variant % len(_CAPACITIES)], time_limit_seconds=0.05
    )
    wrong = [v for v in result.validation.violations if v.kind is not ViolationKind.CAPACITY]
    if wrong:
        raise WrongResult(f"{allocator} plan fails the validator: {wrong[0].message}")
    return "packed" if result.ok else "packed: over capacity (a verdict, exit 1)"


def run_size_case(text: str, expected: int | None) -> str:
    """``parse_size`` on one string: a non-negative int (the expected one when known) or an error."""
    value = parse_size(text, "--capacity")
    if not isinstance(value, int) or value < 0:
        raise WrongResult(f"parse_size({text!r}) returned {value!r}")
    if expected is not None and value != expected:
        raise WrongResult(f"parse_size({text!r}) returned {value}, expected {expected}")
    return "parsed"
