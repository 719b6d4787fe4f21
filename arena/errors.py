"""The one exception family that the CLI turns into a one-line message and exit code 2.

Every failure a user can cause (a file that is not a model, an op TFLM cannot plan, a malformed
plan or budget) is raised as an ``ArenaError`` whose message names the thing and the place, so
the user can act on it without reading a traceback. Anything else escaping is a bug.
"""

from __future__ import annotations


class ArenaError(Exception):
    """A problem with the user's input, explained in one line.

    Examples
    --------
    >>> str(ArenaError("kws.tflite: subgraph 0, op 3 (FILL): dims input is not constant"))
    'kws.tflite: subgraph 0, op 3 (FILL): dims input is not constant'
    """


class ModelFormatError(ArenaError):
    """The file is not a readable TFLite flatbuffer (truncated, wrong identifier, bad offsets)."""


class UnsupportedModelError(ArenaError):
    """The model is readable but TFLM could not plan or run it (unknown op, bad tensor type)."""


class ProblemError(ArenaError):
    """A buffer or problem definition is impossible (negative size, first after last)."""


class EmbedError(ArenaError):
    """Offsets that do not fit the model (count, value), or a model the writer cannot re-root."""


class BadPlanError(ArenaError):
    """A plan file that is unreadable or does not belong to the model (buffers, hash, offsets)."""


class BadSizeError(ArenaError):
    """A size string that does not parse."""


class ProblemFileError(ArenaError):
    """A problem CSV that does not parse or describes impossible buffers."""
