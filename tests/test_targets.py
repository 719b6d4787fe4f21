"""The target catalog (arena.targets): parsing, invariants that hold for real hardware, overrides.

Only real invariants are tested (positive sizes, pointer width, which cores can have DSP or MVE,
one source per entry); relations such as "SRAM < flash" are not rules and are not checked.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from arena.errors import ArenaError
from arena.targets import (
    DSP_CORES,
    MVE_CORES,
    Fpu,
    Target,
    get_target,
    load_targets,
    parse_targets,
    with_overrides,
)

TARGETS = load_targets()
BOARDS = [
    "nucleo-l4r5zi", "nucleo-h7a3zi", "nucleo-u575zi", "nucleo-g0b1re", "disco-f746ng", "ek-ra6m4",
    "ek-ra8d1", "nrf5340dk", "numaker-m467hj", "nano33ble", "rp2040",
]  # fmt: skip
GENERIC_CORES = ["cortex-m0plus", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55", "cortex-m85"]

MINIMAL = """
[[target]]
name = "m0"
description = "a core"
core = "cortex-m0plus"
dsp = false
mve = false
fpu = "none"
pointer_bits = 32
default_kernels = "reference"
source = "Arm DDI 0484"
"""


def test_catalog_has_the_required_entries() -> None:
    assert set(BOARDS + GENERIC_CORES + ["x86-64-host"]) <= set(TARGETS)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_entry_is_sane(name: str) -> None:
    target = TARGETS[name]
    assert target.name == name
    assert target.source.strip() and target.description.strip()
    assert target.pointer_bits in (32, 64)
    assert target.pointer_bits == (32 if target.core.startswith("cortex-m") else 64)
    for value in (target.clock_hz, target.sram_bytes, target.flash_bytes, target.largest_sram_region_bytes):
        assert value is None or value > 0
    if target.largest_sram_region_bytes is not None:
        assert target.sram_bytes is not None and target.largest_sram_region_bytes <= target.sram_bytes
    assert isinstance(target.fpu, Fpu)
    # ISA features follow the architecture: DSP only on Armv7E-M/Armv8-M Mainline/Armv8.1-M cores,
    # MVE (Helium) only on Cortex-M55/M85, and MVE implies DSP.
    assert not target.dsp or target.core in DSP_CORES
    assert not target.mve or (target.core in MVE_CORES and target.dsp)
    # Default kernels: CMSIS-NN where it has DSP or MVE code paths, reference otherwise.
    assert target.default_kernels == ("cmsis-nn" if target.dsp or target.mve else "reference")
    assert set(target.uncertain) <= {f for f in Target.__dataclass_fields__}
    if target.active_power_mw is not None or target.sleep_power_uw is not None:
        assert target.power_source.strip()


@pytest.mark.parametrize("name", BOARDS)
def test_real_boards_have_clock_and_memories(name: str) -> None:
    target = TARGETS[name]
    assert target.clock_hz and target.sram_bytes and target.flash_bytes


@pytest.mark.parametrize(
    ("name", "core", "isa"),
    [
        ("cortex-m0plus", "cortex-m0plus", "none"),
        ("cortex-m4", "cortex-m4", "dsp"),
        ("cortex-m7", "cortex-m7", "dsp"),
        ("cortex-m33", "cortex-m33", "dsp"),
        ("cortex-m55", "cortex-m55", "mve"),
        ("cortex-m85", "cortex-m85", "mve"),
        ("nucleo-g0b1re", "cortex-m0plus", "none"),
        ("rp2040", "cortex-m0plus", "none"),
        ("nano33ble", "cortex-m4", "dsp"),
        ("nrf5340dk", "cortex-m33", "dsp"),
        ("ek-ra8d1", "cortex-m85", "mve"),
        ("x86-64-host", "x86-64", "none"),
    ],
)
def test_cores_and_kernel_isa(name: str, core: str, isa: str) -> None:
    assert (TARGETS[name].core, TARGETS[name].kernel_isa) == (core, isa)


def test_generic_cores_have_no_board_memory() -> None:
    for name in GENERIC_CORES:
        assert TARGETS[name].sram_bytes is None and TARGETS[name].flash_bytes is None
        assert TARGETS[name].clock_hz is not None


def test_host_is_the_64_bit_reference_build() -> None:
    host = TARGETS["x86-64-host"]
    assert (host.pointer_bits, host.pointer_bytes, host.default_kernels) == (64, 8, "reference")


def test_unknown_target_lists_the_choices() -> None:
    expected = r"unknown target 'nucleo-f401'; choose one of: cortex-m0plus, .*rp2040"
    with pytest.raises(ArenaError, match=expected):
        get_target("nucleo-f401")


def test_get_target_from_a_given_catalog() -> None:
    targets = {t.name: t for t in parse_targets(MINIMAL)}
    assert get_target("m0", targets).core == "cortex-m0plus"
    with pytest.raises(ArenaError, match="choose one of: m0$"):
        get_target("m4", targets)


def test_overrides_replace_only_what_is_given() -> None:
    board = get_target("nucleo-h7a3zi")
    changed = with_overrides(board, sram_bytes=512 * 1024, clock_hz=200_000_000)
    assert (changed.sram_bytes, changed.clock_hz) == (524288, 200_000_000)
    assert changed.flash_bytes == board.flash_bytes
    # A smaller SRAM caps the contiguous region (1 MB AXI SRAM > 512 KB).
    assert changed.largest_sram_region_bytes == 524288
    assert changed.overridden == ("sram_bytes", "clock_hz")
    assert board.sram_bytes == 1_413_120  # the catalog record is unchanged
    assert with_overrides(board) is board


def test_overrides_give_a_generic_core_memory() -> None:
    core = with_overrides(get_target("cortex-m4"), sram_bytes=256 * 1024, flash_bytes=1 << 20)
    assert (core.sram_bytes, core.flash_bytes, core.largest_sram_region_bytes) == (262144, 1 << 20, None)


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_overrides_must_be_positive_integers(bad: object) -> None:
    with pytest.raises(ArenaError, match="sram_bytes override must be a positive integer"):
        with_overrides(get_target("rp2040"), sram_bytes=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('fpu = "none"', 'fpu = "half"'), "fpu must be one of"),
        (("pointer_bits = 32", "pointer_bits = 16"), "pointer_bits must be 32 or 64"),
        (("dsp = false", "dsp = true"), "has no DSP extension"),
        (("mve = false", "mve = true"), "only cortex-m55/m85"),
        (('source = "Arm DDI 0484"', 'source = " "'), "needs a name and a source"),
        (("pointer_bits = 32", "pointer_bits = 32\nclock_hz = 0"), "clock_hz must be positive"),
        (("pointer_bits = 32", "pointer_bits = 32\nsram = 1"), "unknown keys \\['sram'\\]"),
        (("pointer_bits = 32", 'pointer_bits = "32"'), "pointer_bits must be int"),
        (("pointer_bits = 32", "pointer_bits = 32\nsram_bytes = 4\nlargest_sram_region_bytes = 8"), "exceed"),
        (("pointer_bits = 32", "pointer_bits = 32\nsleep_power_uw = 3.0"), "need a power_source"),
        (("pointer_bits = 32", 'pointer_bits = 32\nuncertain = ["ram"]'), "unknown fields"),
        (('source = "Arm DDI 0484"\n', ""), "missing keys \\['source'\\]"),
    ],
)
def test_malformed_entries_are_refused(edit: tuple[str, str], message: str) -> None:
    with pytest.raises(ArenaError, match=message):
        parse_targets(MINIMAL.replace(*edit), "bad.toml")


def test_duplicate_names_and_bad_toml_are_refused() -> None:
    with pytest.raises(ArenaError, match="appears twice"):
        parse_targets(MINIMAL + MINIMAL)
    with pytest.raises(ArenaError, match="not a valid TOML"):
        parse_targets("[[target]\n")
    with pytest.raises(ArenaError, match=r"list of \[\[target\]\] tables"):
        parse_targets("target = 3\n")


def test_load_targets_from_a_user_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert list(load_targets(path)) == ["m0"]
    with pytest.raises(ArenaError, match="cannot read target catalog"):
        load_targets(tmp_path / "missing.toml")


def test_each_call_returns_a_fresh_dict() -> None:
    first = load_targets()
    first.pop("rp2040")
    assert "rp2040" in load_targets()


def test_loading_targets_does_not_import_heavy_modules() -> None:
    code = (
        "import sys; from arena.targets import load_targets; load_targets(); "
        "print(sorted(m for m in ('numpy', 'networkx', 'flatbuffers', 'tflite') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
