"""``arena measure`` without the toolchain: one line naming the Debian packages, exit 2 (issue 13)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_shrink_for_cmsis_nn_without_the_toolchain_names_the_packages_exit_2(tmp_path: Path) -> None:
    """The CMSIS-NN proof runs on an emulated core; without the tools shrink stops before searching."""
    model = sorted(BUNDLED_MODELS.glob("*.tflite"))[0]
    out = tmp_path / "small.tflite"
    command = [sys.executable, "-c", _MAIN, "shrink", str(model), "-o", str(out), "--kernels", "cmsis-nn"]
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
    assert not out.exists()


def test_shrink_for_plain_cmsis_nn_cannot_be_proven_exit_2(tmp_path: Path) -> None:
    """No QEMU board runs the plain (Cortex-M0+) CMSIS-NN build: one line, exit 2, nothing written."""
    model = sorted(BUNDLED_MODELS.glob("*.tflite"))[0]
    out = tmp_path / "small.tflite"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _MAIN,
            "shrink",
            str(model),
            "-o",
            str(out),
            "--target",
            "rp2040",
            "--kernels",
            "cmsis-nn",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and "cmsis-nn-plain" in proc.stderr and "--no-prove" in proc.stderr
    assert not out.exists()
