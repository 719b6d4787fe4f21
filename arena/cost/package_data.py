"""The JSON documents shipped inside ``arena.cost`` (fits and calibrations), read with a version check.

A document written by a newer or older fitting script than the code reading it would be read
wrongly rather than fail, so each carries a ``schema_version`` and is refused when it differs.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from arena.errors import ArenaError


def read_versioned(name: str, schema_version: int) -> dict[str, Any]:
    """The package's ``name`` (e.g. ``calibration.json``), checked to be ``schema_version``.

    Raises
    ------
    ArenaError
        When the document's ``schema_version`` is not ``schema_version``.
    """
    text = resources.files("arena.cost").joinpath(name).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    if document.get("schema_version") != schema_version:
        raise ArenaError(f"{name}: schema_version {document.get('schema_version')!r} is not supported")
    return document
