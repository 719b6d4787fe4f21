"""The target catalog: boards and generic cores read from a TOML data file into frozen records.

The bundled catalog is ``arena/targets/targets.toml``; each ``[[target]]`` table becomes one
:class:`Target`, and every number in it cites a datasheet or product page in ``source``. Adding a
board means adding a table, never code. Loading uses only the standard library (``tomllib``), so
the CLI can list targets in ``--help`` without importing numpy.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Literal

from arena.errors import ArenaError

#: The catalog shipped inside the package.
BUNDLED_CATALOG = "targets.toml"

#: Cores that can carry the DSP extension (Armv7E-M, Armv8-M Mainline, Armv8.1-M).
DSP_CORES = frozenset({"cortex-m4", "cortex-m7", "cortex-m33", "cortex-m35p", "cortex-m55", "cortex-m85"})
#: Cores with the M-profile Vector Extension (Helium, Armv8.1-M).
MVE_CORES = frozenset({"cortex-m55", "cortex-m85"})

#: CMSIS-NN's build flavour for a core: ARM_MATH_MVEI, ARM_MATH_DSP only, or neither.
KernelIsa = Literal["mve", "dsp", "none"]


class Fpu(StrEnum):
    """Scalar floating-point unit: none, single precision, double precision."""

    NONE = "none"
    SP = "sp"
    DP = "dp"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A board or generic core: its ISA, clock, memories and the data sources behind them.

    ``clock_hz``, ``sram_bytes`` and ``flash_bytes`` are None where the catalog has no figure
    (a generic core has no memory of its own; the host has no limits). ``uncertain`` names the
    fields whose value is representative or not checked against the cited document, and
    ``overridden`` the fields :func:`with_overrides` replaced.

    Examples
    --------
    >>> t = Target(name="m4", description="", core="cortex-m4", dsp=True, mve=False, fpu=Fpu.SP,
    ...            clock_hz=80_000_000, sram_bytes=None, flash_bytes=None, pointer_bits=32,
    ...            default_kernels="cmsis-nn", source="example")
    >>> t.kernel_isa, t.pointer_bytes
    ('dsp', 4)
    """

    name: str
    description: str
    core: str
    dsp: bool
    mve: bool
    fpu: Fpu
    clock_hz: int | None
    sram_bytes: int | None
    flash_bytes: int | None
    pointer_bits: int
    default_kernels: str
    source: str
    largest_sram_region_bytes: int | None = None
    active_power_mw: float | None = None
    sleep_power_uw: float | None = None
    power_source: str = ""
    notes: str = ""
    uncertain: tuple[str, ...] = ()
    overridden: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        where = f"target {self.name!r}"
        if not self.name or not self.source.strip():
            raise ArenaError(f"{where}: a target needs a name and a source")
        if self.pointer_bits not in (32, 64):
            raise ArenaError(f"{where}: pointer_bits must be 32 or 64, got {self.pointer_bits}")
        for field in ("clock_hz", "sram_bytes", "flash_bytes", "largest_sram_region_bytes"):
            value = getattr(self, field)
            if value is not None and value <= 0:
                raise ArenaError(f"{where}: {field} must be positive, got {value}")
        for field in ("active_power_mw", "sleep_power_uw"):
            value = getattr(self, field)
            if value is not None and value <= 0:
                raise ArenaError(f"{where}: {field} must be positive, got {value}")
        if (self.active_power_mw or self.sleep_power_uw) and not self.power_source.strip():
            raise ArenaError(f"{where}: power figures need a power_source")
        region, sram = self.largest_sram_region_bytes, self.sram_bytes
        if region is not None and (sram is None or region > sram):
            raise ArenaError(f"{where}: largest_sram_region_bytes ({region}) exceeds sram_bytes ({sram})")
        if self.dsp and self.core not in DSP_CORES:
            raise ArenaError(f"{where}: core {self.core} has no DSP extension")
        if self.mve and (self.core not in MVE_CORES or not self.dsp):
            raise ArenaError(f"{where}: only cortex-m55/m85 with DSP have MVE (Helium), not {self.core}")
        unknown = set(self.uncertain) - {f.name for f in dataclasses.fields(Target)}
        if unknown:
            raise ArenaError(f"{where}: 'uncertain' names unknown fields {sorted(unknown)}")

    @property
    def kernel_isa(self) -> KernelIsa:
        """Which CMSIS-NN code paths a build for this core compiles: ``mve``, ``dsp`` or ``none``."""
        return "mve" if self.mve else "dsp" if self.dsp else "none"

    @property
    def pointer_bytes(self) -> int:
        """``sizeof(void*)`` in the TFLM build (kernels that store pointers in scratch use it)."""
        return self.pointer_bits // 8


#: TOML key -> accepted Python types; keys absent here are refused, so typos fail loudly.
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "description": (str,),
    "core": (str,),
    "dsp": (bool,),
    "mve": (bool,),
    "fpu": (str,),
    "clock_hz": (int,),
    "sram_bytes": (int,),
    "flash_bytes": (int,),
    "largest_sram_region_bytes": (int,),
    "pointer_bits": (int,),
    "default_kernels": (str,),
    "source": (str,),
    "active_power_mw": (int, float),
    "sleep_power_uw": (int, float),
    "power_source": (str,),
    "notes": (str,),
    "uncertain": (list,),
}
_REQUIRED = ("name", "description", "core", "dsp", "mve", "fpu", "pointer_bits", "default_kernels", "source")
_OPTIONAL_NONE = ("clock_hz", "sram_bytes", "flash_bytes")


def _target_from_table(table: Mapping[str, object], where: str) -> Target:
    """One ``[[target]]`` table as a Target, or ArenaError naming the file, entry and key."""
    label = f"{where}: target {table.get('name', '?')!r}"
    unknown = sorted(set(table) - set(_FIELD_TYPES))
    if unknown:
        raise ArenaError(f"{label}: unknown keys {unknown}; known keys: {', '.join(_FIELD_TYPES)}")
    missing = [key for key in _REQUIRED if key not in table]
    if missing:
        raise ArenaError(f"{label}: missing keys {missing}")
    for key, value in table.items():
        types = _FIELD_TYPES[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ArenaError(f"{label}: {key} must be {' or '.join(t.__name__ for t in types)}, got {value!r}")
    values = dict(table)
    try:
        values["fpu"] = Fpu(str(values["fpu"]))
    except ValueError:
        raise ArenaError(f"{label}: fpu must be one of {[f.value for f in Fpu]}, got {values['fpu']!r}") from None
    uncertain = values.get("uncertain", [])
    assert isinstance(uncertain, list)
    values["uncertain"] = tuple(str(item) for item in uncertain)
    for key in _OPTIONAL_NONE:
        values.setdefault(key, None)
    for key in ("active_power_mw", "sleep_power_uw"):
        if key in values:
            values[key] = float(values[key])  # type: ignore[arg-type]
    try:
        return Target(**values)  # type: ignore[arg-type]
    except ArenaError as error:
        raise ArenaError(f"{where}: {error}") from None


def parse_targets(text: str, where: str = "<catalog>") -> tuple[Target, ...]:
    """Targets from the text of a catalog file, in file order.

    Raises
    ------
    ArenaError
        The text is not TOML, has no ``[[target]]`` list, or an entry is malformed or repeated.

    Examples
    --------
    >>> text = '''[[target]]
    ... name = "m0"
    ... description = "a core"
    ... core = "cortex-m0plus"
    ... dsp = false
    ... mve = false
    ... fpu = "none"
    ... pointer_bits = 32
    ... default_kernels = "reference"
    ... source = "Arm DDI 0484"
    ... '''
    >>> [t.name for t in parse_targets(text)]
    ['m0']
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ArenaError(f"{where}: not a valid TOML catalog ({error})") from error
    tables = document.get("target")
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ArenaError(f"{where}: expected a list of [[target]] tables")
    targets = tuple(_target_from_table(table, where) for table in tables)
    seen: set[str] = set()
    for target in targets:
        if target.name in seen:
            raise ArenaError(f"{where}: target {target.name!r} appears twice")
        seen.add(target.name)
    return targets


@functools.cache
def _bundled_targets() -> tuple[Target, ...]:
    text = resources.files(__package__).joinpath(BUNDLED_CATALOG).read_text(encoding="utf-8")
    return parse_targets(text, BUNDLED_CATALOG)


def load_targets(path: str | PathLike[str] | None = None) -> dict[str, Target]:
    """Name -> target, from the bundled catalog or from the TOML file at ``path``.

    The bundled file is parsed once per process; each call returns a new dict.

    Raises
    ------
    ArenaError
        ``path`` cannot be read, or the catalog is malformed.

    Examples
    --------
    >>> targets = load_targets()
    >>> targets["nucleo-l4r5zi"].core, targets["nucleo-l4r5zi"].kernel_isa
    ('cortex-m4', 'dsp')
    """
    if path is None:
        targets = _bundled_targets()
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ArenaError(f"{path}: cannot read target catalog ({error})") from error
        targets = parse_targets(text, str(path))
    return {target.name: target for target in targets}


def get_target(name: str, targets: Mapping[str, Target] | None = None) -> Target:
    """The target called ``name`` (from ``targets``, default the bundled catalog).

    Examples
    --------
    >>> get_target("rp2040").clock_hz
    133000000
    >>> get_target("rp2041")
    Traceback (most recent call last):
    ...
    arena.errors.ArenaError: unknown target 'rp2041'; choose one of: cortex-m0plus, ...
    """
    catalog = load_targets() if targets is None else targets
    try:
        return catalog[name]
    except KeyError:
        raise ArenaError(f"unknown target {name!r}; choose one of: {', '.join(catalog)}") from None


def with_overrides(
    target: Target,
    *,
    sram_bytes: int | None = None,
    flash_bytes: int | None = None,
    clock_hz: int | None = None,
) -> Target:
    """A copy of ``target`` with the given SRAM, flash or clock (None keeps the catalog value).

    Overridden fields are listed in ``overridden``. A smaller SRAM also caps
    ``largest_sram_region_bytes``; a larger one leaves it, since more memory need not be contiguous.

    Raises
    ------
    ArenaError
        An override is not a positive integer.

    Examples
    --------
    >>> board = with_overrides(get_target("nucleo-h7a3zi"), sram_bytes=512 * 1024)
    >>> board.sram_bytes, board.largest_sram_region_bytes, board.overridden
    (524288, 524288, ('sram_bytes',))
    """
    changes: dict[str, int | None] = {}
    for field, value in (("sram_bytes", sram_bytes), ("flash_bytes", flash_bytes), ("clock_hz", clock_hz)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ArenaError(f"target {target.name!r}: {field} override must be a positive integer, got {value!r}")
        changes[field] = value
    if not changes:
        return target
    region = target.largest_sram_region_bytes
    if sram_bytes is not None and region is not None:
        changes["largest_sram_region_bytes"] = min(region, sram_bytes)
    replaced = [field for field in changes if field != "largest_sram_region_bytes"]
    overridden = tuple(dict.fromkeys((*target.overridden, *replaced)))
    return dataclasses.replace(target, overridden=overridden, **changes)  # type: ignore[arg-type]


def choose_target(
    name: str,
    *,
    sram: str | None = None,
    flash: str | None = None,
    clock_mhz: float | None = None,
) -> Target:
    """The catalog target ``name`` with the command line's overrides applied.

    ``sram`` and ``flash`` are size strings (``256KB``); ``clock_mhz`` is in MHz.

    Examples
    --------
    >>> board = choose_target("cortex-m4", sram="256KB", clock_mhz=120)
    >>> board.sram_bytes, board.clock_hz
    (262144, 120000000)
    """
    from arena.units import parse_size

    return with_overrides(
        get_target(name),
        sram_bytes=None if sram is None else parse_size(sram, "--sram"),
        flash_bytes=None if flash is None else parse_size(flash, "--flash"),
        clock_hz=None if clock_mhz is None else round(clock_mhz * 1e6),
    )
