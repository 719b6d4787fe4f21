"""The Arm boards QEMU emulates that arena measures on, one per Cortex-M core.

Each board names the QEMU machine and CPU, TFLM's ``TARGET_ARCH`` for the core (which fixes
the compiler's ``-mcpu``/``-mfpu``/``-mfloat-abi`` in TFLM's
``tools/make/targets/cortex_m_generic_makefile.inc``), the linker script of the firmware in
``firmware/boards/`` (memory map from QEMU 7.2 ``hw/arm/mps2.c`` and ``hw/arm/mps2-tz.c``) and
the board's core clock, which SysTick counts. The clocks were measured here rather than taken
from documentation: a firmware loop of 2,000,000 instructions run with ``-icount shift=0`` (one
virtual nanosecond per instruction) read 50,000 SysTick ticks on mps2-an386 and mps2-an500
(25 MHz), 40,000 on mps2-an505 (20 MHz) and 64,000 on mps3-an547 (32 MHz). Every firmware run
repeats that calibration and the driver checks it.

QEMU has no Cortex-M0+ board with enough memory for these models (``microbit`` has 16 KiB of
RAM), and no Cortex-M85; those cores are not measured.
"""

from __future__ import annotations

from dataclasses import dataclass

from arena.errors import ArenaError


@dataclass(frozen=True, slots=True, kw_only=True)
class Board:
    """An emulated board: QEMU machine, the core, TFLM's build name for it, its clock."""

    machine: str
    cpu: str
    core: str
    target_arch: str
    linker_script: str
    core_clock_hz: int
    description: str

    @property
    def instructions_per_tick(self) -> float:
        """SysTick ticks to instructions under ``-icount shift=0`` (1 ns per instruction)."""
        return 1e9 / self.core_clock_hz


BOARDS: dict[str, Board] = {
    board.core: board
    for board in (
        Board(
            machine="mps2-an386",
            cpu="cortex-m4",
            core="cortex-m4",
            target_arch="cortex-m4",
            linker_script="mps2-an386.ld",
            core_clock_hz=25_000_000,
            description="Arm MPS2 AN386 (Cortex-M4), emulated by QEMU",
        ),
        Board(
            machine="mps2-an500",
            cpu="cortex-m7",
            core="cortex-m7",
            target_arch="cortex-m7",
            linker_script="mps2-an500.ld",
            core_clock_hz=25_000_000,
            description="Arm MPS2 AN500 (Cortex-M7), emulated by QEMU",
        ),
        Board(
            machine="mps2-an505",
            cpu="cortex-m33",
            core="cortex-m33",
            target_arch="cortex-m33",
            linker_script="mps2-an505.ld",
            core_clock_hz=20_000_000,
            description="Arm MPS2 AN505 (Cortex-M33, SSE-200), emulated by QEMU",
        ),
        Board(
            machine="mps3-an547",
            cpu="cortex-m55",
            core="cortex-m55",
            # Helium integer (MVEI) without the FPU: Debian's arm-none-eabi-gcc 12.2 emits
            # "vcvtne.f32.s32" inside an IT block for resize_nearest_neighbor.cc with
            # -mcpu=cortex-m55 (FP + MVE), which its assembler rejects. int8 CMSIS-NN kernels use
            # only ARM_MATH_MVEI, so the arena and the int8 code paths are those of cortex-m55.
            target_arch="cortex-m55+nofp",
            linker_script="mps3-an547.ld",
            core_clock_hz=32_000_000,
            description="Arm MPS3 AN547 (Cortex-M55 with Helium, SSE-300), emulated by QEMU",
        ),
    )
}


def board_for_core(core: str) -> Board:
    """The emulated board for a Cortex-M core.

    Examples
    --------
    >>> board_for_core("cortex-m55").machine
    'mps3-an547'
    >>> board_for_core("cortex-m0plus")
    Traceback (most recent call last):
    ...
    arena.errors.ArenaError: no emulated board for core cortex-m0plus; measured cores: ...
    """
    if core not in BOARDS:
        raise ArenaError(f"no emulated board for core {core}; measured cores: {', '.join(BOARDS)}")
    return BOARDS[core]
