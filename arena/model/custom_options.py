"""A custom op's flexbuffer options, read lazily: top-level scalars only.

TFLM's custom kernels (the signal library, detection post-processing) read a few integer keys
from their flexbuffer map. Decoding the whole blob is unsafe: vectors that share one vector
below them fan out, so a few hundred hostile bytes can expand to millions of values. Only the
top-level map's scalar entries are read here, each in O(1).
"""

from __future__ import annotations

import struct

#: Errors the flexbuffers runtime raises on malformed input.
_DECODE_ERRORS = (struct.error, IndexError, ValueError, TypeError, KeyError, UnicodeDecodeError, OverflowError)
#: Map entries read at most (TFLM's custom ops use a handful).
MAX_KEYS = 256


def custom_option_scalars(data: bytes) -> dict[str, int | float | bool]:
    """Top-level scalar entries of a flexbuffer map ({} when absent, not a map or malformed).

    Examples
    --------
    >>> from flatbuffers import flexbuffers
    >>> blob = flexbuffers.Dumps({"fft_length": 512, "T": 7, "name": [1, 2, 3]})
    >>> custom_option_scalars(blob)
    {'T': 7, 'fft_length': 512}
    >>> custom_option_scalars(b"\\x00junk")
    {}
    """
    if not data:
        return {}
    from flatbuffers import flexbuffers

    try:
        root = flexbuffers.GetRoot(data)
        if not root.IsMap:
            return {}
        options = root.AsMap
        keys, values = options.Keys, options.Values
        scalars: dict[str, int | float | bool] = {}
        for index in range(min(len(keys), MAX_KEYS)):
            value = values[index]
            key = keys[index].AsKey
            if value.IsBool:
                scalars[key] = value.AsBool
            elif value.IsInt:
                scalars[key] = value.AsInt
            elif value.IsFloat:
                scalars[key] = value.AsFloat
        return scalars
    except _DECODE_ERRORS:
        return {}
