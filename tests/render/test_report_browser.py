"""The HTML report, opened in real headless Chromium: it renders, and its numbers are plan --json's.

Chromium is Debian's (``apt-get install -y chromium``); the test skips without it on a user's
machine and fails under CI=true, where .ci/run installs it. Flags keep the browser off the
network and out of any profile: the report must render with nothing fetched.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena.cli import cli
from conftest import BUNDLED_MODELS

KWS = BUNDLED_MODELS / "kws_ds_cnn_int8.tflite"
TARGET = ("--target", "nucleo-l4r5zi")
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "headless chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _browse(tmp_path: Path, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run(
        [_chromium(), *_FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


class _Collect(HTMLParser):
    """Elements with an id (their text) and the SVG rectangles with their data attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, str] = {}
        self.panels: list[dict[str, str]] = []
        self.rects: list[list[dict[str, str]]] = []
        self._open_id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self._open_id = values["id"]
            self.ids[self._open_id] = ""
        if tag == "g" and values.get("class") == "panel":
            self.panels.append(values)
            self.rects.append([])
        if tag == "rect" and values.get("class") == "buffer":
            self.rects[-1].append(values)

    def handle_data(self, data: str) -> None:
        if self._open_id is not None:
            self.ids[self._open_id] += data

    def handle_endtag(self, tag: str) -> None:
        self._open_id = None


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_report_renders_in_chromium_with_plan_json_numbers(tmp_path: Path) -> None:
    _chromium()
    page = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", str(KWS), *TARGET, "-o", str(page)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    plan = json.loads(CliRunner().invoke(cli, ["plan", str(KWS), *TARGET, "--json"]).stdout)

    # Nothing outside the file: no URL the browser could fetch.
    html = page.read_text()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html

    dom = _Collect()
    dom.feed(_browse(tmp_path, page, "--dump-dom").stdout)  # the DOM as Chromium parsed it
    arena = plan["arena"]
    for key, field in [
        ("head-bytes", "head_bytes"),
        ("lower-bound-bytes", "lower_bound_bytes"),
        ("tflm-head-bytes", "tflm_head_bytes"),
        ("tail-bytes", "tail_bytes"),
        ("total-bytes", "total_bytes"),
    ]:
        assert int(dom.ids[key]) == arena[field], key
    # Two panels: arena's plan and TFLM's, each peaking at the JSON's figure.
    assert [int(p["data-peak-bytes"]) for p in dom.panels] == [arena["head_bytes"], arena["tflm_head_bytes"]]
    # arena's panel: one rectangle per non-empty buffer, at the JSON's offset with its aligned size.
    drawn = {int(r["data-buffer"]): (int(r["data-offset"]), int(r["data-bytes"])) for r in dom.rects[0]}
    expected = {i: (b["offset"], b["aligned_bytes"]) for i, b in enumerate(plan["buffers"]) if b["aligned_bytes"]}
    assert drawn == expected

    # A screenshot at the window size, far richer than a blank page's (the drawing is there).
    shot, blank_shot = tmp_path / "report.png", tmp_path / "blank.png"
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    _browse(tmp_path, page, "--window-size=1000,1400", f"--screenshot={shot}")
    _browse(tmp_path, blank, "--window-size=1000,1400", f"--screenshot={blank_shot}")
    assert _png_size(shot) == (1000, 1400)
    assert shot.stat().st_size > 10 * blank_shot.stat().st_size


def test_map_writes_the_same_layout_as_svg(tmp_path: Path) -> None:
    svg = tmp_path / "map.svg"
    result = CliRunner().invoke(cli, ["plan", str(KWS), "--map", str(svg), "--json"], catch_exceptions=False)
    plan = json.loads(result.stdout)
    dom = _Collect()
    dom.feed(svg.read_text())
    assert [int(p["data-peak-bytes"]) for p in dom.panels] == [
        plan["arena"]["head_bytes"],
        plan["arena"]["tflm_head_bytes"],
    ]
    assert len(dom.rects[0]) == sum(1 for b in plan["buffers"] if b["aligned_bytes"])


def test_map_refuses_other_picture_formats(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", str(KWS), "--map", str(tmp_path / "map.png")])
    assert result.exit_code == 2 and "only SVG" in result.stderr and result.stderr.count("\n") == 1


def test_check_report_draws_its_budgets(tmp_path: Path) -> None:
    page = tmp_path / "check.html"
    result = CliRunner().invoke(
        cli, ["check", str(KWS), *TARGET, "--budget", "64KB", "--report", str(page)], catch_exceptions=False
    )
    assert result.exit_code == 0 and page.exists()
    # 64KB = 65,536 B (KB = KiB, README): drawn as a line carrying exactly that figure.
    assert 'class="budget" data-bytes="65536"' in page.read_text()
