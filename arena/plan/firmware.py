"""What the firmware files state, as one record: sizes for the target, the plan, its origin.

Built by ``arena export`` and rendered to C by :mod:`arena.plan.c_source`; kept apart from both
so the command never renders and the renderer never plans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class ArenaExport:
    """Everything the C files state: sizes for the target, the plan and where it came from."""

    prefix: str
    model_name: str
    model_sha256: str
    model_bytes: int
    target: str
    kernels: str
    allocator: str
    head_bytes: int
    tail_bytes: int
    total_bytes: int
    budget_bytes: int | None
    tensor_offsets: tuple[int, ...]
    tensor_names: tuple[str, ...]


def c_identifier(text: str) -> str:
    """A valid C identifier from ``text`` (model file names make the default prefix).

    >>> c_identifier("kws-ds-cnn.int8"), c_identifier("3x3 model")
    ('kws_ds_cnn_int8', 'm_3x3_model')
    """
    name = re.sub(r"\W", "_", text).strip("_") or "model"
    return f"m_{name}" if name[0].isdigit() else name
