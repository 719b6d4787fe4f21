"""Mutations of the text inputs: ``--plan`` JSON documents, MiniMalloc CSVs and size strings.

Plan documents are mutated as JSON (a key dropped, a value of the wrong type, an offset of -1,
2^31, 2^63, NaN or 10^400, rows dropped, duplicated or reordered) and as text (truncated, bytes
flipped, a BOM, not UTF-8, nested 100,000 deep, not JSON at all). CSVs get the same two levels
(columns missing or swapped, huge, negative, fractional, hexadecimal or non-ASCII numbers, NUL
bytes, a 200,000-character field, duplicate ids, an empty file). Size strings come from a small
grammar of numbers, units and junk.
"""

from __future__ import annotations

import copy
import json
import math
import random
from collections.abc import Callable
from typing import Any

_WRONG_VALUES: tuple[Any, ...] = (
    None,
    True,
    False,
    "16",
    "",
    [],
    {},
    1.5,
    -1,
    0,
    2**31,
    2**63,
    2**64,
    -(2**63),
    10**30,
    math.nan,
    math.inf,
    -math.inf,
    "\u0661\u0666",
    [16],
    {"offset": 16},
)
_OFFSETS: tuple[Any, ...] = (
    -1,
    -16,
    0,
    1,
    15,
    16,
    2**31 - 16,
    2**31,
    2**32,
    2**63 - 1,
    2**63,
    10**30,
    16.0,
    "16",
    None,
    math.nan,
    math.inf,
    True,
)


def _text_damage(text: str, rng: random.Random) -> tuple[str, bytes]:
    """Damage at the byte level, common to JSON and CSV."""
    raw = text.encode("utf-8")
    choice = rng.randrange(9)
    if choice == 0:
        cut = rng.randrange(len(raw) + 1)
        return f"truncated to {cut} bytes", raw[:cut]
    if choice == 1:
        data = bytearray(raw)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return "bytes flipped", bytes(data)
    if choice == 2:
        return "BOM", b"\xef\xbb\xbf" + raw
    if choice == 3:
        return "binary junk", bytes(rng.randrange(256) for _ in range(rng.choice((1, 64, 4096))))
    if choice == 4:
        return "empty file", b""
    if choice == 5:
        pos = rng.randrange(len(raw) + 1)
        return f"NUL at {pos}", raw[:pos] + b"\x00" + raw[pos:]
    if choice == 6:
        return "latin-1 text", text.replace(",", ",\xe9", 1).encode("latin-1", "replace")
    if choice == 7:
        return "UTF-16", text.encode("utf-16")
    return "CRLF line ends", text.replace("\n", "\r\n").encode("utf-8")


class PlanMutator:
    """Mutations of one ``arena plan --json`` document; ``mutate(rng)`` returns (kind, what, bytes)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.text = json.dumps(document)

    def mutate(self, rng: random.Random) -> tuple[str, str, bytes]:
        kind = rng.choices(
            ("offset", "field", "rows", "top", "text", "nesting", "big-int"), (30, 20, 12, 10, 18, 4, 6)
        )[0]
        if kind == "text":
            what, data = _text_damage(self.text, rng)
            return kind, what, data
        if kind == "nesting":
            depth = rng.choice((100, 5000, 100_000))
            return kind, f"nested {depth} deep", ("[" * depth + "]" * depth).encode()
        if kind == "big-int":
            digits = rng.choice((20, 400, 5000))
            row = rng.randrange(len(self.document["buffers"]))
            doc = copy.deepcopy(self.document)
            doc["buffers"][row]["offset"] = 12345
            text = json.dumps(doc).replace('"offset": 12345', '"offset": ' + "9" * digits, 1)
            return kind, f"offset of {digits} digits", text.encode()
        doc = copy.deepcopy(self.document)
        what = getattr(self, f"_{kind}")(doc, rng)
        return kind, what, json.dumps(doc, allow_nan=True).encode()

    def _offset(self, doc: dict[str, Any], rng: random.Random) -> str:
        rows = doc["buffers"]
        if not rows:
            return "no rows"
        row = rng.randrange(len(rows))
        if rng.random() < 0.3:  # a plausible hand edit: another row's offset or the head
            value = rng.choice([r["offset"] for r in rows] + [doc["arena"]["head_bytes"]])
        else:
            value = rng.choice(_OFFSETS)
        rows[row]["offset"] = value
        return f"buffers[{row}].offset = {value!r}"

    def _field(self, doc: dict[str, Any], rng: random.Random) -> str:
        rows = doc["buffers"]
        if not rows:
            return "no rows"
        row = rows[rng.randrange(len(rows))]
        key = rng.choice(sorted(row))
        if rng.random() < 0.3:
            del row[key]
            return f"deleted {key}"
        row[key] = rng.choice(_WRONG_VALUES)
        return f"{key} = {row[key]!r}"

    def _rows(self, doc: dict[str, Any], rng: random.Random) -> str:
        rows = doc["buffers"]
        choice = rng.randrange(5)
        if choice == 0 and rows:
            rows.pop(rng.randrange(len(rows)))
            return "dropped a row"
        if choice == 1 and rows:
            rows.append(copy.deepcopy(rng.choice(rows)))
            return "duplicated a row"
        if choice == 2:
            rng.shuffle(rows)
            return "shuffled rows"
        if choice == 3 and rows:
            rows[rng.randrange(len(rows))] = rng.choice(_WRONG_VALUES)
            return "row of the wrong type"
        doc["buffers"] = rng.choice(_WRONG_VALUES[:6])
        return f"buffers = {doc['buffers']!r}"

    def _top(self, doc: dict[str, Any], rng: random.Random) -> str:
        key = rng.choice(("kernels", "model", "allocator", "arena", "schema_version"))
        value = rng.choice((*_WRONG_VALUES, "cmsis-nn", "reference", "nope", {"sha256": "ab" * 32}, {"sha256": 7}))
        if rng.random() < 0.3:
            doc.pop(key, None)
            return f"deleted {key}"
        doc[key] = value
        return f"{key} = {value!r}"


def problem_csv(rows: list[tuple[str, int, int, int]]) -> str:
    return "id,lower,upper,size\n" + "".join(f"{n},{lo},{up},{size}\n" for n, lo, up, size in rows)


_NUMBERS = (
    "0",
    "-1",
    "1.5",
    "1e3",
    "0x10",
    "1_000",
    "\u0661\u0662",
    "\uff11",
    "2147483648",
    "4194304",
    "4194305",
    "9223372036854775808",
    "9" * 30,
    "",
    " 7 ",
    "+8",
    "NaN",
    "-0",
)


class CsvMutator:
    """Mutations of one MiniMalloc CSV; ``mutate(rng)`` returns (kind, what, bytes)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines()

    def mutate(self, rng: random.Random) -> tuple[str, str, bytes]:
        kind = rng.choices(("number", "header", "rows", "text", "long-field"), (40, 12, 15, 28, 5))[0]
        if kind == "text":
            what, data = _text_damage(self.text, rng)
            return kind, what, data
        lines = list(self.lines)
        what = getattr(self, f"_{kind.replace('-', '_')}")(lines, rng)
        return kind, what, ("\n".join(lines) + "\n").encode("utf-8")

    def _number(self, lines: list[str], rng: random.Random) -> str:
        if len(lines) < 2:
            return "no rows"
        row = rng.randrange(1, len(lines))
        cells = lines[row].split(",")
        column = rng.randrange(len(cells))
        cells[column] = rng.choice(_NUMBERS)
        lines[row] = ",".join(cells)
        return f"line {row + 1} column {column} = {cells[column]!r}"

    def _header(self, lines: list[str], rng: random.Random) -> str:
        names = lines[0].split(",")
        choice = rng.randrange(4)
        if choice == 0:
            names.pop(rng.randrange(len(names)))
        elif choice == 1:
            rng.shuffle(names)
        elif choice == 2:
            names.append(rng.choice(("offset", "id", "", "extra")))
        else:
            names = [n.upper() for n in names]
        lines[0] = ",".join(names)
        return f"header {lines[0]!r}"

    def _rows(self, lines: list[str], rng: random.Random) -> str:
        choice = rng.randrange(5)
        if choice == 0 and len(lines) > 1:
            lines.append(lines[rng.randrange(1, len(lines))])
            return "duplicate row"
        if choice == 1:
            del lines[1:]
            return "header only"
        if choice == 2 and len(lines) > 1:
            row = rng.randrange(1, len(lines))
            lines[row] = lines[row].rsplit(",", 1)[0]
            return f"line {row + 1} short a column"
        if choice == 3:
            lines.insert(rng.randrange(1, len(lines) + 1), "")
            return "blank line"
        if len(lines) > 1:
            row = rng.randrange(1, len(lines))
            name, lower, _, size = (lines[row].split(",") + ["", "", "", ""])[:4]
            lines[row] = f"{name},{lower},{lower},{size}"
            return f"line {row + 1} with upper == lower"
        return "no rows"

    def _long_field(self, lines: list[str], rng: random.Random) -> str:
        lines.append(f"{'x' * 200_000},0,1,16")
        return "200,000-character id"


_UNIT_WORDS = ("", "B", "K", "KB", "KiB", "kib", "M", "MB", "MiB", "G", "GB", "k", "TB", "e9", "%", "\u212a")


def size_string(rng: random.Random) -> tuple[str, int | None]:
    """A size string and, when it is well formed, the bytes it must parse to (else None)."""
    multiplier = {"": 1, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1 << 20, "MB": 1 << 20, "MIB": 1 << 20}
    choice = rng.randrange(6)
    if choice == 0:  # well formed: the value is known
        number = rng.choice((0, 1, 7, 100, 1023, 2**31, 2**53 + 1, 2**62, rng.randrange(10**9)))
        unit = rng.choice(_UNIT_WORDS[:8])
        space = rng.choice(("", " ", "  "))
        expected = number * multiplier[unit.upper()]
        return f"{space}{number}{space}{unit}{space}", expected if expected < 2**63 else None
    if choice == 1:  # decimals
        whole, frac = rng.randrange(1000), rng.choice(("5", "25", "125", "3", "0", "9" * 30))
        return f"{whole}.{frac}{rng.choice(_UNIT_WORDS)}", None
    if choice == 2:
        return rng.choice(
            (
                "1e999",
                "-5KB",
                "",
                "NaN",
                "inf",
                "-0",
                "+5",
                "0x10",
                "1_000",
                "\u0661\u0660\u0660",
                "\uff11\uff10",
                "5 K B",
                "5\u00a0KB",
                "KB",
                ".",
                "1..2",
                "1.2.3",
                "1" * 5000,
                "9" * 40 + "MB",
                "\x00",
                "5\n6",
                "  ",
            )
        ), None
    if choice == 3:  # random printable junk
        alphabet = "0123456789.-+eEkKmMbBiI xX_\t"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))), None
    if choice == 4:  # random unicode
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randint(1, 6))), None
    number = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 45)))
    return number + rng.choice(_UNIT_WORDS), None


Mutation = Callable[[random.Random], tuple[str, str, bytes]]
