"""Parse what the measurement firmware prints over semihosting (the protocol is in main.cc)."""

from __future__ import annotations

from dataclasses import dataclass, field

from arena.errors import ArenaError


@dataclass(frozen=True, slots=True, kw_only=True)
class OpCount:
    """One op's Invoke: its position in execution order, TFLM's op name, instructions executed."""

    index: int
    tag: str
    instructions: int


@dataclass(slots=True)
class FirmwareOutput:
    """Everything one firmware run printed, as parsed (mutable only while parsing)."""

    capacity_bytes: int | None = None
    calibration: tuple[int, int] | None = None
    allocated: bool | None = None
    arena_used_bytes: int | None = None
    head_bytes: int | None = None
    tail_bytes: int | None = None
    tensor_offsets: dict[tuple[int, int], int | None] = field(default_factory=dict)
    scratch_offsets: list[int] = field(default_factory=list)
    op_ticks: list[tuple[int, str, int]] = field(default_factory=list)
    invoked: bool | None = None
    invoke_ticks: int | None = None
    outputs: dict[int, bytes] = field(default_factory=dict)
    probes: dict[int, bool] = field(default_factory=dict)
    probe_tails: dict[int, int] = field(default_factory=dict)
    pending_probe: int | None = None
    minimum_arena_bytes: int | None = None
    fault: str | None = None
    logs: list[str] = field(default_factory=list)
    done: bool = False


def parse_firmware_output(text: str) -> FirmwareOutput:
    """Read the firmware's lines; unknown lines are kept as logs, malformed ones are an error.

    Examples
    --------
    >>> out = parse_firmware_output("capacity 64\\nhead 32\\ntensor 0 1 -\\nprobe 40 start\\n")
    >>> out.capacity_bytes, out.head_bytes, out.tensor_offsets, out.pending_probe
    (64, 32, {(0, 1): None}, 40)
    """
    out = FirmwareOutput()
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        try:
            _parse_line(out, words, line)
        except (ValueError, IndexError) as error:
            raise ArenaError(f"firmware printed an unreadable line {line[:80]!r}") from error
    return out


def _parse_line(out: FirmwareOutput, words: list[str], line: str) -> None:
    key = words[0]
    numbers = {"capacity": "capacity_bytes", "arena_used_bytes": "arena_used_bytes", "head": "head_bytes"}
    numbers |= {"tail": "tail_bytes", "min_arena": "minimum_arena_bytes"}
    if key in numbers:
        setattr(out, numbers[key], int(words[1]))
    elif key == "calibrate":
        out.calibration = (int(words[1]), int(words[2]))
    elif key == "allocate":
        out.allocated = words[2] == "ok"
    elif key == "tensor":
        offset = None if words[3] in ("-", "null") else int(words[3])
        out.tensor_offsets[(int(words[1]), int(words[2]))] = offset
    elif key == "scratch":
        out.scratch_offsets.append(int(words[2]))
    elif key == "op":
        out.op_ticks.append((int(words[1]), words[2], int(words[3])))
    elif key == "invoke":
        out.invoked = words[1] == "ok"
        out.invoke_ticks = int(words[2])
    elif key == "output":
        out.outputs[int(words[1])] = bytes.fromhex(words[2] if len(words) > 2 else "")
    elif key == "probe":
        size = int(words[1])
        if words[2] == "start":
            out.pending_probe = size
        else:
            out.probes[size] = words[2] == "ok"
            if words[2] == "ok" and len(words) > 3:
                out.probe_tails[size] = int(words[3])
            out.pending_probe = None
    elif key == "fault":
        out.fault = line.strip()
    elif key == "done":
        out.done = True
    else:
        out.logs.append(line)
