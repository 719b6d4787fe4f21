"""``arena measure`` without the toolchain: one line naming the Debian packages, exit 2 (issue 13)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import BUNDLED_MODELS

_MAIN = "from arena.cli import main; main()"


def test_missing_toolchain_is_one_line_naming_the_packages_exit_2() -> None:
    model = sorted(BUNDLED_MODELS.glob("*.tflite"))[0]
    proc = subprocess.run(
        [sys.executable, "-c", _MAIN, "measure", str(model), "--target", "cortex-m4", "--sources", "/nonexistent"],
        env={"PATH": "/nonexistent"},  # no arm-none-eabi-gcc, qemu-system-arm or make on PATH
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for package in (
        "gcc-arm-none-eabi",
        "libnewlib-arm-none-eabi",
        "libstdc++-arm-none-eabi-newlib",
        "qemu-system-arm",
    ):
        assert package in lines[0]
    assert "Traceback" not in proc.stderr


def test_core_without_an_emulated_board_exits_2() -> None:
    model = sorted(BUNDLED_MODELS.glob("*.tflite"))[0]
    proc = subprocess.run(
        [sys.executable, "-c", _MAIN, "measure", str(model), "--target", "rp2040", "--sources", "/nonexistent"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "no emulated board for core cortex-m0plus" in proc.stderr


def test_simulate_on_target_without_the_toolchain_names_the_packages_exit_2() -> None:
    model = sorted(BUNDLED_MODELS.glob("*.tflite"))[0]
    command = [sys.executable, "-c", _MAIN, "simulate", str(model), "--execute", "--on-target", "cortex-m4"]
    proc = subprocess.run(
        [*command, "--sources", "/nonexistent"],
        env={"PATH": "/nonexistent"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "gcc-arm-none-eabi" in lines[0] and "qemu-system-arm" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
