"""Commands that need the emulator, without it: one line, exit 2, nothing written (issues 13, 15).

``arena measure``, ``arena simulate --on-target`` and ``arena shrink`` for CMSIS-NN run real TFLM
on an emulated Cortex-M. With no toolchain on ``PATH`` each must name the Debian packages in one
line; a core QEMU has no board for must say so. Run as a child process, as a user runs them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import BUNDLED_MODELS

_MAIN = "from arena.cli import main; main()"
_PACKAGES = ("gcc-arm-none-eabi", "libnewlib-arm-none-eabi", "libstdc++-arm-none-eabi-newlib", "qemu-system-arm")
#: No arm-none-eabi-gcc, qemu-system-arm or make on PATH.
_NO_TOOLS = {"PATH": "/nonexistent"}


def _model() -> str:
    return str(sorted(BUNDLED_MODELS.glob("*.tflite"))[0])


def _arena(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _MAIN, *args], env=env, capture_output=True, text=True, check=False)


def _one_line_naming_the_packages(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert all(package in lines[0] for package in _PACKAGES), lines[0]
    assert "Traceback" not in proc.stderr


def test_missing_toolchain_is_one_line_naming_the_packages_exit_2() -> None:
    _one_line_naming_the_packages(
        _arena("measure", _model(), "--target", "cortex-m4", "--sources", "/nonexistent", env=_NO_TOOLS)
    )


def test_core_without_an_emulated_board_exits_2() -> None:
    proc = _arena("measure", _model(), "--target", "rp2040", "--sources", "/nonexistent")
    assert proc.returncode == 2
    assert "no emulated board for core cortex-m0plus" in proc.stderr


def test_simulate_on_target_without_the_toolchain_names_the_packages_exit_2() -> None:
    _one_line_naming_the_packages(
        _arena(
            "simulate", _model(), "--execute", "--on-target", "cortex-m4", "--sources", "/nonexistent", env=_NO_TOOLS
        )
    )


def test_shrink_for_cmsis_nn_without_the_toolchain_names_the_packages_exit_2(tmp_path: Path) -> None:
    """The CMSIS-NN proof runs on an emulated core; without the tools shrink stops before searching."""
    out = tmp_path / "small.tflite"
    proc = _arena(
        "shrink", _model(), "-o", str(out), "--kernels", "cmsis-nn", "--sources", "/nonexistent", env=_NO_TOOLS
    )
    _one_line_naming_the_packages(proc)
    assert not out.exists()


def test_shrink_for_plain_cmsis_nn_cannot_be_proven_exit_2(tmp_path: Path) -> None:
    """No QEMU board runs the plain (Cortex-M0+) CMSIS-NN build: one line, exit 2, nothing written."""
    out = tmp_path / "small.tflite"
    proc = _arena("shrink", _model(), "-o", str(out), "--target", "rp2040", "--kernels", "cmsis-nn")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and "cmsis-nn-plain" in proc.stderr and "--no-prove" in proc.stderr
    assert not out.exists()
