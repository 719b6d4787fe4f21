"""Structure-aware mutations of .tflite files, seeded and repeatable.

Each mutation picks a kind of damage, then a field of the right role (see ``fuzz_layout``) and a
value chosen for that role: a vector length claiming 2^31 elements, a shape dim of -1 or 2^31-1,
a tensor index one past the end, a uoffset pointing back at the root table (a loop) or past the
end of the file, a vtable entry pointing outside its table, an opcode turned into IF / WHILE
over options that name arbitrary subgraphs, an ``OfflineMemoryAllocation`` count that does not
match... Plain truncation, byte flips and block splices run beside them. Every mutation returns
a short name (its outcome class in reports) and a description of exactly what it changed.
"""

from __future__ import annotations

import math
import random
import struct
from collections import defaultdict
from collections.abc import Callable

import tflite

from fuzz_layout import Field, locate_fields

_INTERESTING = (
    0,
    1,
    -1,
    2,
    -2,
    3,
    4,
    7,
    8,
    15,
    16,
    127,
    128,
    255,
    256,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x10000,
    1 << 20,
    1 << 24,
    0x3FFFFFFF,
    0x40000000,
    0x7FFFFFFF,
    -0x80000000,
    0xFFFFFFFF,
)
_BIG_LENGTHS = (0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x40000000, 0x10000000, 1 << 20)
_CONTROL_FLOW = {
    "IF": ("IfOptions", tflite.BuiltinOperator.IF),
    "WHILE": ("WhileOptions", tflite.BuiltinOperator.WHILE),
    "CALL_ONCE": ("CallOnceOptions", tflite.BuiltinOperator.CALL_ONCE),
}
_BUILTIN_CODES = sorted(v for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_"))


def wrap(value: int | float, fmt: str) -> int | float:
    """``value`` folded into the range of struct format ``fmt`` (two's complement wrap)."""
    if fmt[-1] in "fd":
        return float(value)
    bits = 8 * struct.calcsize(fmt)
    value = int(value) % (1 << bits)
    if fmt[-1].islower() and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


class ModelMutator:
    """Mutations of one well-formed model; ``mutate(rng)`` returns (kind, what, bytes)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.fields = locate_fields(data)
        roles: dict[str, list[Field]] = defaultdict(list)
        for item in self.fields:
            roles[item.role].append(item)
        self.by_role = dict(roles)
        self.targets = [f.pos + self._read(f) for f in self.by_role["uoffset"]]
        self.kinds: list[tuple[str, Callable[[random.Random], tuple[str, bytes]], int]] = [
            ("field", self._field, 40),
            ("fields", self._fields, 8),
            ("vector-length", self._vector_length, 8),
            ("tensor-index", self._tensor_index, 8),
            ("shape", self._shape, 6),
            ("truncate", self._truncate, 6),
            ("flip", self._flip, 6),
            ("alias", self._alias, 5),
            ("loop", self._loop, 3),
            ("control-flow", self._control_flow, 4),
            ("opcode", self._opcode, 4),
            ("splice", self._splice, 2),
        ]
        if "offline_word" in self.by_role:
            self.kinds.append(("offline-plan", self._offline, 10))

    def _read(self, item: Field) -> int:
        return struct.unpack_from(item.fmt, self.data, item.pos)[0]  # type: ignore[no-any-return]

    def mutate(self, rng: random.Random) -> tuple[str, str, bytes]:
        names = [k[0] for k in self.kinds]
        weights = [k[2] for k in self.kinds]
        index = rng.choices(range(len(names)), weights)[0]
        what, data = self.kinds[index][1](rng)
        return names[index], what, data

    # -- helpers -----------------------------------------------------------------------------
    def _set(self, data: bytearray, item: Field, value: int | float) -> str:
        struct.pack_into(item.fmt, data, item.pos, wrap(value, item.fmt))
        return f"{item.where} = {wrap(value, item.fmt)!r}"

    def _value_for(self, item: Field, rng: random.Random) -> int | float:
        original = self._read(item)
        role = item.role
        if item.fmt[-1] in "fd":
            return rng.choice((math.nan, math.inf, -math.inf, 0.0, -1.0, 1e-45, 3e38, original * 1e6))
        if role == "root":
            return rng.choice((0, 4, 8, len(self.data), len(self.data) - 4, 0xFFFFFFFF, original + 4))
        if role in ("vector_length", "string_length"):
            room = max(len(self.data) - item.pos - 4, 0) // max(item.extent, 1)
            return rng.choice((0, 1, original - 1, original + 1, original * 2, room, room + 1, *_BIG_LENGTHS))
        if role == "uoffset":
            return rng.choice(
                (
                    0,
                    1,
                    4,
                    original + 4,
                    original - 4,
                    len(self.data) - item.pos,
                    len(self.data) - item.pos - 2,
                    0xFFFFFFFF,
                    0x80000000,
                )
            )
        if role == "soffset":
            return rng.choice(
                (0, 4, -4, original + 2, original - 2, item.pos - len(self.data), 0x7FFFFFFF, -0x80000000, item.pos + 8)
            )
        if role in ("vtable_size", "vtable_object_size"):
            return rng.choice((0, 1, 2, 3, 4, original - 2, original + 2, 0xFFFF))
        if role == "vtable_entry":
            return rng.choice((0, 1, 2, 3, original + 1, original + 4, original - 4, 0xFFFF, 0x8000))
        if role == "shape_dim":
            return rng.choice(
                (0, -1, -2, -0x80000000, 0x7FFFFFFF, 1 << 16, 1 << 20, 1 << 30, original * 1024, original + 1, 1)
            )
        if role == "tensor_index":
            return rng.choice(
                (-1, -2, item.extent, item.extent + 1, 0x7FFFFFFF, -0x80000000, rng.randrange(max(item.extent, 1)))
            )
        if role == "tensor_type":
            return rng.choice((*range(21), 127, -1, -128))
        if role == "buffer_index":
            return rng.choice((0, 1, original + 1, original - 1, 0x80000000, 0xFFFFFFFF, rng.randrange(1 << 16)))
        if role == "opcode_index":
            return rng.choice(
                (item.extent, item.extent + 1, 0xFFFFFFFF, 0x7FFFFFFF, rng.randrange(max(item.extent, 1)))
            )
        if role == "builtin_code":
            return rng.choice((*rng.sample(_BUILTIN_CODES, 3), -1, 127, 255, 32, 1000, 0x7FFFFFFF))
        if role == "options_type":
            return rng.randrange(256)
        if role == "axis":
            return rng.choice((-1, 0, 1, 3, 4, 100, 0x7FFFFFFF, -0x80000000))
        if role == "flag":
            return rng.choice((0, 1, 2, 255))
        if role == "offline_word":
            if item.extent == 2:
                return rng.choice((0, original - 1, original + 1, 0x7FFFFFFF, -1, -0x80000000))
            return rng.choice((-2, -1, 0, 1, 8, 15, 16, 1 << 20, 0x7FFFFFF0, 0x7FFFFFFF, -0x80000000, original + 16))
        return rng.choice((*_INTERESTING, original + 1, original - 1))

    def _pick(self, rng: random.Random, *roles: str) -> Field | None:
        pool = [f for role in roles for f in self.by_role.get(role, ())]
        return rng.choice(pool) if pool else None

    def _set_roles(self, rng: random.Random, *roles: str) -> tuple[str, bytes]:
        item = self._pick(rng, *roles) or rng.choice(self.fields)
        data = bytearray(self.data)
        return self._set(data, item, self._value_for(item, rng)), bytes(data)

    # -- mutation kinds ------------------------------------------------------------------------
    def _field(self, rng: random.Random) -> tuple[str, bytes]:
        role = rng.choice(sorted(self.by_role))
        return self._set_roles(rng, role)

    def _fields(self, rng: random.Random) -> tuple[str, bytes]:
        data = bytearray(self.data)
        changes = []
        for _ in range(rng.randint(2, 5)):
            chosen = rng.choice(self.by_role[rng.choice(sorted(self.by_role))])
            changes.append(self._set(data, chosen, self._value_for(chosen, rng)))
        return "; ".join(changes), bytes(data)

    def _vector_length(self, rng: random.Random) -> tuple[str, bytes]:
        return self._set_roles(rng, "vector_length", "string_length")

    def _tensor_index(self, rng: random.Random) -> tuple[str, bytes]:
        item = self._pick(rng, "tensor_index")
        if item is None:
            return self._field(rng)
        data = bytearray(self.data)
        if rng.random() < 0.3:  # duplicate: copy another index field here (duplicate outputs, self loops)
            other = rng.choice(self.by_role["tensor_index"])
            return self._set(data, item, self._read(other)) + " (duplicate)", bytes(data)
        return self._set(data, item, self._value_for(item, rng)), bytes(data)

    def _shape(self, rng: random.Random) -> tuple[str, bytes]:
        item = self._pick(rng, "shape_dim")
        if item is None:
            return self._field(rng)
        data = bytearray(self.data)
        if rng.random() < 0.5:  # every dim of one tensor: 2^40 elements and beyond
            prefix = item.where.rsplit("[", 1)[0]
            value = rng.choice((1 << 10, 1 << 16, 0x7FFFFFFF, -1))
            dims = [f for f in self.by_role.get("shape_dim", ()) if f.where.rsplit("[", 1)[0] == prefix]
            for dim in dims:
                self._set(data, dim, value)
            return f"{prefix} = [{value}] * {len(dims)}", bytes(data)
        return self._set(data, item, self._value_for(item, rng)), bytes(data)

    def _truncate(self, rng: random.Random) -> tuple[str, bytes]:
        if rng.random() < 0.5:
            cut = rng.choice(self.fields).pos + rng.randint(0, 3)
        else:
            cut = rng.choice((rng.randrange(len(self.data)), len(self.data) - 1, len(self.data) // 2, 8, 12))
        return f"truncated to {cut} bytes", self.data[:cut]

    def _flip(self, rng: random.Random) -> tuple[str, bytes]:
        data = bytearray(self.data)
        positions = [rng.randrange(len(data)) for _ in range(rng.randint(1, 16))]
        for pos in positions:
            data[pos] ^= 1 << rng.randrange(8) if rng.random() < 0.5 else rng.randrange(1, 256)
        return f"flipped bytes at {positions[:4]}...", bytes(data)

    def _alias(self, rng: random.Random) -> tuple[str, bytes]:
        """Point one reference at another's target: type confusion and shared (overlapping) data."""
        refs = self.by_role["uoffset"]
        item = rng.choice(refs)
        target = rng.choice(self.targets)
        data = bytearray(self.data)
        return self._set(data, item, target - item.pos) + f" (-> byte {target})", bytes(data)

    def _loop(self, rng: random.Random) -> tuple[str, bytes]:
        """Point a reference backwards at the root table or at itself: offsets into loops."""
        item = rng.choice(self.by_role["uoffset"])
        root = struct.unpack_from("<I", self.data, 0)[0]
        target = rng.choice((root, 0, item.pos, item.pos - 4))
        data = bytearray(self.data)
        return self._set(data, item, target - item.pos) + f" (-> byte {target})", bytes(data)

    def _control_flow(self, rng: random.Random) -> tuple[str, bytes]:
        """Turn an op's code into IF / WHILE / CALL_ONCE and its options into that op's table."""
        name = rng.choice(sorted(_CONTROL_FLOW))
        options, code = _CONTROL_FLOW[name]
        # The reader takes the larger of both code fields; the int8 deprecated one holds codes < 128.
        codes = [f for f in self.by_role.get("builtin_code", ()) if code < 128 or "deprecated" not in f.where]
        types = self.by_role.get("options_type", [])
        if not codes:
            return self._field(rng)
        data = bytearray(self.data)
        changes = [self._set(data, rng.choice(codes), code)]
        if types:
            changes.append(self._set(data, rng.choice(types), getattr(tflite.BuiltinOptions, options)))
        for item in rng.sample(self.by_role.get("option", []), min(2, len(self.by_role.get("option", [])))):
            changes.append(self._set(data, item, rng.choice((0, 1, 2, -1, 1000))))
        return f"{name}: " + "; ".join(changes), bytes(data)

    def _opcode(self, rng: random.Random) -> tuple[str, bytes]:
        """Run an op as another builtin (kernel rules meet inputs and options they do not expect)."""
        return self._set_roles(rng, "builtin_code", "opcode_index", "options_type", "option")

    def _splice(self, rng: random.Random) -> tuple[str, bytes]:
        data = bytearray(self.data)
        size = rng.choice((4, 8, 16, 64))
        source, dest = rng.randrange(len(data) - size), rng.choice(self.fields).pos
        data[dest : dest + size] = self.data[source : source + size]
        return f"copied {size} bytes from {source} to {dest}", bytes(data[: len(self.data)])

    def _offline(self, rng: random.Random) -> tuple[str, bytes]:
        data = bytearray(self.data)
        words = self.by_role["offline_word"]
        item = words[2] if rng.random() < 0.4 and len(words) > 2 else rng.choice(words)
        return self._set(data, item, self._value_for(item, rng)), bytes(data)
