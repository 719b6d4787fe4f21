"""Inputs for a real run: the user's arrays checked against the model, or seeded random data.

Both the wheel run and any other runtime must be fed identical arrays, so they are made once
here, with the dtype and shape the model's graph inputs declare.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from arena.errors import ArenaError
from arena.model.records import Model

#: Tensor types arena can feed and compare, by their schema names (also numpy dtype names).
_FEEDABLE = frozenset("bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64".split())

Array = npt.NDArray[Any]


def input_dtype(model: Model, tensor_index: int) -> np.dtype[Any]:
    tensor = model.subgraphs[0].tensors[tensor_index]
    if tensor.type_name not in _FEEDABLE:
        raise ArenaError(
            f"{model.display_name}: graph tensor {tensor_index} has type {tensor.type_name}, which arena cannot feed"
        )
    return np.dtype(tensor.type_name)


def _random_input(rng: np.random.Generator, dtype: np.dtype[Any], shape: tuple[int, ...]) -> Array:
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    info = np.iinfo(dtype)
    low, high = (info.min, info.max) if dtype.itemsize <= 2 else (max(info.min, -128), 127)
    return rng.integers(low, high, shape, endpoint=True).astype(dtype)


def _input_position(key: str, names: list[str], label: str) -> int:
    if key in names:
        return names.index(key)
    digits = key.removeprefix("arr_").removeprefix("input_")
    if digits.isdigit() and int(digits) < len(names):
        return int(digits)
    raise ArenaError(
        f"{label}: array {key!r} names no graph input"
        f" (use 0..{len(names) - 1}, input_<k>, arr_<k> or a name in {names})"
    )


def make_inputs(
    model: Model, source: str | Path | Mapping[str, Array] | None = None, seed: int = 0
) -> tuple[Array, ...]:
    """One array per graph input of subgraph 0: from ``source`` (an .npz path or mapping keyed by
    input index, ``input_<index>``, ``arr_<index>`` or tensor name), else seeded random of the
    right dtype and shape.

    Random data: 8- and 16-bit integers over their whole range, wider integers in [-128, 127],
    floats standard normal.

    Raises
    ------
    ArenaError
        When the file cannot be read, or an array is missing, unknown, or of the wrong dtype or shape.

    Examples
    --------
    >>> from arena.model.records import Model, Subgraph, Tensor
    >>> x = Tensor(index=0, name="x", shape=(1, 3), type_code=9, buffer=0, has_data=False, is_variable=False)
    >>> m = Model(path="m.tflite", sha256="", size_bytes=0, version=3, description="", metadata=(),
    ...           buffer_count=0, data=b"", subgraphs=(Subgraph(index=0, name="", tensors=(x,),
    ...                                                  operators=(), inputs=(0,), outputs=(0,)),))
    >>> make_inputs(m, seed=1)[0].dtype, make_inputs(m, {"x": np.zeros((1, 3), np.int8)})[0].tolist()
    (dtype('int8'), [[0, 0, 0]])
    """
    graph = model.subgraphs[0]
    dtypes = [input_dtype(model, t) for t in graph.inputs]
    shapes = [graph.tensors[t].shape for t in graph.inputs]
    if source is None:
        rng = np.random.default_rng(seed)
        return tuple(_random_input(rng, d, s) for d, s in zip(dtypes, shapes, strict=True))
    label = Path(source).name if isinstance(source, str | Path) else "inputs"
    arrays = _load_npz(source, label) if isinstance(source, str | Path) else dict(source)
    names = [graph.tensors[t].name for t in graph.inputs]
    given = {_input_position(str(key), names, label): np.asarray(value) for key, value in arrays.items()}
    result = []
    for position, (dtype, shape) in enumerate(zip(dtypes, shapes, strict=True)):
        if position not in given:
            raise ArenaError(f"{label}: no array for graph input {position} '{names[position]}'")
        array = given[position]
        if array.dtype != dtype or tuple(array.shape) != shape:
            raise ArenaError(
                f"{label}: input {position} '{names[position]}' is {array.dtype}{list(array.shape)},"
                f" the model wants {dtype}{list(shape)}"
            )
        result.append(array)
    return tuple(result)


def _load_npz(path: str | Path, label: str) -> dict[str, Array]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as error:
        raise ArenaError(f"{label}: cannot read input arrays ({error})") from error
