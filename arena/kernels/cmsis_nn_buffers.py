"""CMSIS-NN's scratch-size rules (the ``arm_*_get_buffer_size`` functions), per ISA and compiler.

Pure arithmetic on shapes, separate from the TFLM wrappers in :mod:`arena.kernels.cmsis_nn` that
decide when each rule applies. CMSIS-NN is the revision TFLM pins in
tools/make/ext_libs/cmsis_nn_download.sh: ARM-software/CMSIS-NN
4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae ("Fixed LSTM (#219)", v7.0.0+33). Each function names
the CMSIS-NN function whose rule it restates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

from arena.errors import ArenaError

Isa = Literal["mve", "dsp", "none"]
Compiler = Literal["gcc", "armclang"]
OptimizeFor = Literal["speed", "size"]

#: The CMSIS-NN commit TFLM 90b983c2 downloads (tools/make/ext_libs/cmsis_nn_download.sh).
CMSIS_NN_COMMIT = "4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae"
#: ``git describe`` of that commit in ARM-software/CMSIS-NN.
CMSIS_NN_VERSION = "v7.0.0-33-g4ab83cc3"

#: Include/arm_nnsupportfunctions.h ``CH_IN_BLOCK_MVE``: channels per block in MVE depthwise.
CH_IN_BLOCK_MVE = 124
#: Include/arm_nnsupportfunctions.h ``REVERSE_TCOL_EFFICIENT_THRESHOLD``.
REVERSE_TCOL_EFFICIENT_THRESHOLD = 16
#: Include/arm_nnsupportfunctions.h ``CONVERT_DW_CONV_WITH_ONE_INPUT_CH_AND_OUTPUT_CH_ABOVE_THRESHOLD``.
ONE_INPUT_CHANNEL_THRESHOLD: dict[str, int] = {"armclang": 8, "gcc": 1}
#: ``sizeof(T*)`` on Cortex-M (ADD_N's scratch holds one pointer per input).
POINTER_BYTES = 4
INT16_BYTES, INT32_BYTES, INT64_BYTES = 2, 4, 8

#: Ops TFLM's cmsis_nn directory implements (the rest run reference kernels).
CMSIS_NN_OPS = frozenset(
    {
        "ADD", "AVERAGE_POOL_2D", "BATCH_MATMUL", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED",
        "MAXIMUM", "MAX_POOL_2D", "MINIMUM", "MUL", "PAD", "PADV2", "SOFTMAX", "SVDF", "TRANSPOSE",
        "TRANSPOSE_CONV", "UNIDIRECTIONAL_SEQUENCE_LSTM",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class CmsisNnBuild:
    """The build facts CMSIS-NN's buffer sizes depend on.

    Examples
    --------
    >>> CmsisNnBuild(isa="dsp").library_name
    'cmsis-nn-dsp'
    >>> CmsisNnBuild(isa="mve", compiler="armclang", optimize_for="size").library_name
    'cmsis-nn-mve-armclang-size'
    """

    isa: Isa
    compiler: Compiler = "gcc"
    optimize_for: OptimizeFor = "speed"

    def __post_init__(self) -> None:
        if self.isa not in ("mve", "dsp", "none"):
            raise ArenaError(f"unknown CMSIS-NN ISA {self.isa!r}; choose one of: mve, dsp, none")
        if self.compiler not in ONE_INPUT_CHANNEL_THRESHOLD:
            raise ArenaError(f"unknown compiler {self.compiler!r}; choose one of: gcc, armclang")
        if self.optimize_for not in ("speed", "size"):
            raise ArenaError(f"unknown OPTIMIZE_KERNELS_FOR {self.optimize_for!r}; choose one of: speed, size")

    @property
    def library_name(self) -> str:
        """Registry name: ``cmsis-nn-<mve|dsp|plain>``, plus ``-armclang`` / ``-size`` when not default."""
        parts = ["cmsis-nn", "plain" if self.isa == "none" else self.isa]
        parts += [self.compiler] if self.compiler != "gcc" else []
        parts += [self.optimize_for] if self.optimize_for != "speed" else []
        return "-".join(parts)


class Dims(NamedTuple):
    """CMSIS-NN's ``cmsis_nn_dims`` (n, h, w, c)."""

    n: int
    h: int
    w: int
    c: int


class ConvGeometry(NamedTuple):
    """The parts of ``cmsis_nn_conv_params`` / ``cmsis_nn_dw_conv_params`` that sizes read."""

    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    dilation_h: int = 1
    dilation_w: int = 1


def c_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero), as the CMSIS-NN sources compute."""
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b > 0) else -quotient


def c_mod(a: int, b: int) -> int:
    """C ``%``: the remainder takes the dividend's sign."""
    return a - b * c_div(a, b)


# ------------------------------------------------------------------ CMSIS-NN buffer sizes


def _is_1x1(g: ConvGeometry, i: Dims, f: Dims) -> bool:
    """arm_nnsupportfunctions.h ``arm_nn_is_convolve_1x1``."""
    return (g.pad_w, g.pad_h, f.w, f.h, g.dilation_w, g.dilation_h) == (0, 0, 1, 1, 1, 1) and i.c == f.c


def _is_1_x_n(g: ConvGeometry, i: Dims, f: Dims) -> bool:
    """arm_nnsupportfunctions.h ``arm_nn_is_convolve_1_x_n``."""
    return i.h == 1 and g.dilation_w == 1 and f.h == 1 and c_mod(g.stride_w * i.c, 4) == 0 and i.c == f.c


def _conv_s8_im2col(isa: Isa, i: Dims, f: Dims) -> int:
    """``arm_convolve_s8_get_buffer_size`` (DSP/plain: two im2col columns of int16, the column
    length rounded up to 4) and ``arm_convolve_s8_get_buffer_size_mve`` (four columns of int8,
    rounded up to 16)."""
    columns = f.w * f.h * i.c
    if isa == "mve":
        return 4 * c_div(columns + 15, 16) * 16
    remainder = c_mod(columns, 4)
    aligned = columns + 4 - remainder if remainder else columns
    return 2 * aligned * INT16_BYTES


def _conv_1_x_n_s8_mve(g: ConvGeometry, i: Dims, f: Dims, o: Dims) -> int:
    """``arm_convolve_1_x_n_s8_get_buffer_size_mve``: room for the widest padded row segment, or
    the generic MVE size when the left/unpadded/right output split does not cover the width."""
    asym_pad = c_mod((o.w - 1) * g.stride_w + f.w - i.w, 2)
    right = max(1, c_div(g.pad_w + asym_pad + g.stride_w - 1, g.stride_w)) if g.pad_w + asym_pad else 0
    left = max(1, c_div(g.pad_w + g.stride_w - 1, g.stride_w)) if g.pad_w else 0
    middle = max(o.w - (right + left), 0)
    if right + middle + left != o.w:
        return _conv_s8_im2col("mve", i, f)
    pad_left_size = g.pad_w * i.c
    pad_right_size = right * i.c if asym_pad else pad_left_size
    left_elements = f.w * i.c
    return max(left_elements + pad_left_size, left_elements - i.c + pad_right_size)


def conv_s8_buffer(build: CmsisNnBuild, g: ConvGeometry, i: Dims, f: Dims, o: Dims) -> tuple[int, str]:
    """``arm_convolve_wrapper_s8_get_buffer_size`` (its ``_dsp`` / ``_mve`` variants): bytes and
    the CMSIS-NN kernel the wrapper will run.

    1x1 with unit stride is ``arm_convolve_1x1_s8_fast``: 0 bytes, except on DSP cores built with
    Arm Compiler 6, where ``arm_convolve_1x1_s8_fast_get_buffer_size_dsp`` asks for ``2*Cin``
    int16. Other 1x1 convolutions need none; 1xN ones are sized by the MVE rule above or, without
    MVE, like the generic im2col convolution.

    Examples
    --------
    >>> conv_s8_buffer(CmsisNnBuild(isa="dsp"), ConvGeometry(1, 1, 1, 1), Dims(1, 8, 8, 3),
    ...                Dims(1, 3, 3, 3), Dims(1, 8, 8, 16))
    (112, 'arm_convolve_s8')
    """
    if _is_1x1(g, i, f):
        if (g.stride_w, g.stride_h) != (1, 1):
            return 0, "arm_convolve_1x1_s8"
        armclang_dsp = build.isa == "dsp" and build.compiler == "armclang"
        return (2 * i.c * INT16_BYTES if armclang_dsp else 0), "arm_convolve_1x1_s8_fast"
    if _is_1_x_n(g, i, f):
        size = _conv_1_x_n_s8_mve(g, i, f, o) if build.isa == "mve" else _conv_s8_im2col(build.isa, i, f)
        return size, "arm_convolve_1_x_n_s8"
    return _conv_s8_im2col(build.isa, i, f), "arm_convolve_s8"


def conv_s16_buffer(build: CmsisNnBuild, i: Dims, f: Dims) -> int:
    """``arm_convolve_wrapper_s16_get_buffer_size``: DSP/plain ``2*Cin*kw*kh`` int16 (no
    rounding); MVE four columns of int16 rounded up to 8 elements."""
    columns = i.c * f.w * f.h
    if build.isa == "mve":
        return 4 * c_div(columns + 7, 8) * 8 * INT16_BYTES
    return 2 * columns * INT16_BYTES


def depthwise_s8_buffer(build: CmsisNnBuild, g: ConvGeometry, i: Dims, f: Dims, o: Dims) -> tuple[int, str]:
    """``arm_depthwise_conv_wrapper_s8_get_buffer_size``: bytes and the kernel it implies.

    MVE with one input channel and more output channels than the threshold runs as a convolution
    (``arm_depthwise_conv_to_conv_s8``): the MVE conv buffer plus a reordered copy of the filter.
    Otherwise, depth multiplier 1, batch 1 and no dilation take the optimised path: without MVE a
    3x3 filter with padding <= 1 is ``arm_depthwise_conv_3x3_s8`` (0 bytes); else
    ``arm_depthwise_conv_s8_opt_get_buffer_size`` gives MVE ``4*124*kw*kh``, DSP ``Cin*kw*kh``
    int16, plain 0. Everything else is ``arm_depthwise_conv_s8`` (0 bytes).
    """
    if build.isa == "mve" and i.c == 1 and o.c > ONE_INPUT_CHANNEL_THRESHOLD[build.compiler]:
        as_conv_filter = Dims(n=f.c, h=f.h, w=f.w, c=f.n)
        conv, _ = conv_s8_buffer(build, g, i, as_conv_filter, o)
        return conv + f.c * f.h * f.w * f.n, "arm_depthwise_conv_to_conv_s8"
    if not (i.c == o.c and i.n == 1 and g.dilation_w == 1 and g.dilation_h == 1):
        return 0, "arm_depthwise_conv_s8"
    if build.isa != "mve" and f.w == 3 and f.h == 3 and g.pad_h <= 1 and g.pad_w <= 1:
        return 0, "arm_depthwise_conv_3x3_s8"
    sizes = {"mve": 4 * CH_IN_BLOCK_MVE * f.w * f.h, "dsp": i.c * f.w * f.h * INT16_BYTES, "none": 0}
    return sizes[build.isa], "arm_depthwise_conv_s8_opt"


def depthwise_s4_buffer(build: CmsisNnBuild, g: ConvGeometry, i: Dims, f: Dims, o: Dims) -> int:
    """``arm_depthwise_conv_wrapper_s4_get_buffer_size``: for depth multiplier 1, batch 1, no
    dilation, ``arm_depthwise_conv_s4_opt_get_buffer_size`` (MVE ``4*124*kw*kh``, otherwise,
    plain cores included, ``Cin*kw*kh`` int16); no 3x3 exception; else 0."""
    if not (i.c == o.c and i.n == 1 and g.dilation_w == 1 and g.dilation_h == 1):
        return 0
    return 4 * CH_IN_BLOCK_MVE * f.w * f.h if build.isa == "mve" else i.c * f.w * f.h * INT16_BYTES


def transpose_conv_s8_buffers(
    build: CmsisNnBuild, stride_h: int, stride_w: int, i: Dims, f: Dims, o: Dims
) -> tuple[int, int]:
    """``arm_transpose_conv_s8_get_buffer_size`` and ``..._get_reverse_conv_buffer_size``.

    With both strides <= 2 and more than 16 input channels the kernel reverses the filter and
    runs a convolution over the stride-upsampled input: the im2col size of that convolution, and
    a filter copy of ``Cin*kw*kh*Cout`` bytes. Otherwise int32 column sums
    ``((W_in-1)*stride_w + max(kw, stride_h)) * Cout * max(kh, stride_h)`` (CMSIS-NN uses
    ``stride_h`` in the width term) and no copy.
    """
    if stride_w <= 2 and stride_h <= 2 and i.c > REVERSE_TCOL_EFFICIENT_THRESHOLD:
        upsampled = Dims(i.n, i.h * stride_h, i.w * stride_w, i.c)
        return _conv_s8_im2col(build.isa, upsampled, f), i.c * f.w * f.h * f.n
    columns = ((i.w - 1) * stride_w + max(f.w, stride_h)) * o.c
    return columns * max(f.h, stride_h) * INT32_BYTES, 0
