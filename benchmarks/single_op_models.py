"""Generated single-op int8 models that widen the shapes bench_instructions.py measures.

Why: the shared models hold few shapes per kernel path (two depthwise convolutions with a depth
multiplier, no max pooling, one ADD shape per model), so a fit over them alone extrapolates. Each
model here is one operator on a shape chosen to reach one CMSIS-NN code path (im2col convolution,
1x1 fast and strided, 1xN, depthwise 3x3 / opt / generic) or one size of a simple op, built with
``models/generate.py``'s writer (random weights, fixed activation quantization: instruction counts
do not depend on accuracy). Deterministic: the same bytes every run, so the emulator's firmware
cache hits on re-runs.

    from single_op_models import single_op_models
    for name, data in single_op_models(): ...
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from tflite.ActivationFunctionType import ActivationFunctionType as Act
from tflite.BuiltinOperator import BuiltinOperator as Op
from tflite.Padding import Padding
from tflite.TensorType import TensorType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.generate import Graph, Quant, Tensor, serialize  # noqa: E402

#: One seed for every model's weights (the counts do not depend on them; the bytes must not vary).
SEED = 14


def _out(size: int, kernel: int, stride: int, same: bool) -> int:
    """TFLite output size for SAME / VALID padding."""
    return -(-size // stride) if same else -(-(size - kernel + 1) // stride)


def _graph(shape: tuple[int, ...], dtype: int = TensorType.INT8) -> tuple[Graph, int]:
    graph = Graph(np.random.default_rng(SEED), calibrate=False)
    if dtype == TensorType.INT8:
        return graph, graph.add_input("input", shape, None)
    index = graph._add(Tensor("input", shape, dtype, None))
    graph.inputs.append(index)
    return graph, index


def conv(h: int, w: int, cin: int, cout: int, kh: int, kw: int, stride: int, same: bool) -> bytes:
    """CONV_2D with per-channel weights and a fused ReLU."""
    graph, x = _graph((1, h, w, cin))
    weights, bias = graph._init((cout, kh, kw, cin), kh * kw * cin, 0)
    wt, bt = graph._weights(x, "conv", weights, bias, 0)
    shape = (1, _out(h, kh, stride, same), _out(w, kw, stride, same), cout)
    y = graph._activation("output", shape, lambda: np.zeros(1), relu=True)
    padding = Padding.SAME if same else Padding.VALID
    options = {"Padding": padding, "StrideW": stride, "StrideH": stride, "FusedActivationFunction": Act.RELU}
    graph._op(Op.CONV_2D, [x, wt, bt], [y], "Conv2DOptions", **options)
    graph.outputs.append(y)
    return serialize(graph)


def depthwise(h: int, w: int, cin: int, multiplier: int, kh: int, kw: int, stride: int, same: bool) -> bytes:
    """DEPTHWISE_CONV_2D with per-channel weights and a fused ReLU."""
    graph, x = _graph((1, h, w, cin))
    cout = cin * multiplier
    weights, bias = graph._init((1, kh, kw, cout), kh * kw, 3)
    wt, bt = graph._weights(x, "depthwise", weights, bias, 3)
    shape = (1, _out(h, kh, stride, same), _out(w, kw, stride, same), cout)
    y = graph._activation("output", shape, lambda: np.zeros(1), relu=True)
    options = {
        "Padding": Padding.SAME if same else Padding.VALID,
        "StrideW": stride,
        "StrideH": stride,
        "DepthMultiplier": multiplier,
        "FusedActivationFunction": Act.RELU,
    }
    graph._op(Op.DEPTHWISE_CONV_2D, [x, wt, bt], [y], "DepthwiseConv2DOptions", **options)
    graph.outputs.append(y)
    return serialize(graph)


def fully_connected(batch: int, cin: int, cout: int) -> bytes:
    """FULLY_CONNECTED with per-tensor weights (the converter's default)."""
    graph, x = _graph((batch, cin))
    y = graph.fully_connected(x, cout, "fc")
    graph.outputs.append(y)
    return serialize(graph)


def add(shape: tuple[int, ...]) -> bytes:
    """ADD of two int8 inputs of one shape (no broadcast), with different scales."""
    graph, a = _graph(shape)
    b = graph._add(Tensor("input_b", shape, TensorType.INT8, Quant.single(0.03, 5)))
    graph.inputs.append(b)
    graph.outputs.append(graph.add(a, b, "add"))
    return serialize(graph)


def add_int32_scalar(elements: int) -> bytes:
    """ADD of an int32 vector and an int32 scalar constant (broadcast), as audio front ends do."""
    graph, a = _graph((elements,), TensorType.INT32)
    b = graph._add(Tensor("scalar", (), TensorType.INT32, None, np.array([7], np.int32).tobytes()))
    y = graph._add(Tensor("output", (elements,), TensorType.INT32, None))
    graph._op(Op.ADD, [a, b], [y], "AddOptions")
    graph.outputs.append(y)
    return serialize(graph)


def pool(op: int, h: int, w: int, c: int, window: int, stride: int) -> bytes:
    """AVERAGE_POOL_2D or MAX_POOL_2D, VALID padding; int8 pooling keeps the input's quantization."""
    graph, x = _graph((1, h, w, c))
    shape = (1, _out(h, window, stride, False), _out(w, window, stride, False), c)
    y = graph._activation("output", shape, lambda: np.zeros(1), relu=False, quant=graph.tensors[x].quant)
    options = {"Padding": Padding.VALID, "StrideW": stride, "StrideH": stride}
    graph._op(op, [x], [y], "Pool2DOptions", FilterWidth=window, FilterHeight=window, **options)
    graph.outputs.append(y)
    return serialize(graph)


def softmax(rows: int, depth: int) -> bytes:
    """SOFTMAX over the last axis of a [rows, depth] tensor."""
    graph, x = _graph((rows, depth))
    graph.outputs.append(graph.softmax(x, "softmax"))
    return serialize(graph)


def reshape(shape: tuple[int, ...], new_shape: tuple[int, ...]) -> bytes:
    """RESHAPE between two distinct tensors (TFLM copies the bytes)."""
    graph, x = _graph(shape)
    graph.outputs.append(graph.reshape(x, new_shape, "reshape"))
    return serialize(graph)


def quantize(elements: int) -> bytes:
    """QUANTIZE float32 -> int8 (what a float-input model starts with)."""
    graph, x = _graph((1, elements), TensorType.FLOAT32)
    y = graph._add(Tensor("output", (1, elements), TensorType.INT8, Quant.single(0.05, -3)))
    graph._op(Op.QUANTIZE, [x], [y], "QuantizeOptions")
    graph.outputs.append(y)
    return serialize(graph)


def requantize_int16(elements: int) -> bytes:
    """QUANTIZE int16 -> int8 (a rescale, as after an int16 feature front end)."""
    graph, x = _graph((1, elements), TensorType.INT16)
    graph.tensors[x].quant = Quant.single(0.001, 0)
    y = graph._add(Tensor("output", (1, elements), TensorType.INT8, Quant.single(0.05, -3)))
    graph._op(Op.QUANTIZE, [x], [y], "QuantizeOptions")
    graph.outputs.append(y)
    return serialize(graph)


def dequantize(elements: int) -> bytes:
    """DEQUANTIZE int8 -> float32 (what a float-output model ends with)."""
    graph, x = _graph((1, elements))
    y = graph._add(Tensor("output", (1, elements), TensorType.FLOAT32, None))
    graph._op(Op.DEQUANTIZE, [x], [y], "DequantizeOptions")
    graph.outputs.append(y)
    return serialize(graph)


def single_op_models() -> Iterator[tuple[str, bytes]]:
    """(name, model bytes) for every generated shape, in a fixed order."""
    # Im2col convolutions (arm_convolve_s8): kernel, stride, padding, depths.
    for h, cin, cout, k, stride, same in (
        (16, 1, 8, 3, 1, True),
        (16, 3, 16, 3, 2, True),
        (12, 8, 8, 3, 1, True),
        (12, 8, 32, 3, 1, False),
        (10, 16, 16, 3, 1, True),
        (10, 16, 24, 5, 1, True),
        (8, 32, 32, 3, 2, True),
        (8, 24, 48, 3, 1, True),
        (20, 4, 12, 5, 2, False),
        (6, 64, 16, 3, 1, True),
        (24, 2, 8, 7, 2, True),
        (9, 12, 20, 3, 1, False),
    ):
        yield (
            f"conv_{h}x{h}x{cin}_k{k}_s{stride}_{'same' if same else 'valid'}_o{cout}",
            conv(h, h, cin, cout, k, k, stride, same),
        )
    # Tall windows over one input channel, as keyword spotters start (per-tap gathers dominate).
    for h, w, cout, kh, kw, stride, same in (
        (49, 10, 32, 10, 4, 2, False),
        (40, 8, 16, 8, 3, 1, True),
        (30, 12, 24, 5, 5, 2, True),
        (25, 5, 8, 3, 2, 1, False),
    ):
        yield (
            f"conv_{h}x{w}x1_k{kh}x{kw}_s{stride}_{'same' if same else 'valid'}_o{cout}",
            conv(h, w, 1, cout, kh, kw, stride, same),
        )
    # 1x1 convolutions: unit stride (arm_convolve_1x1_s8_fast) and strided (arm_convolve_1x1_s8).
    for h, cin, cout, stride in (
        (16, 4, 8, 1),
        (12, 8, 24, 1),
        (8, 16, 16, 1),
        (8, 48, 96, 1),
        (6, 96, 32, 1),
        (4, 160, 160, 1),
        (2, 256, 64, 1),
        (16, 12, 8, 1),
        (10, 16, 32, 2),
        (8, 40, 24, 2),
        (12, 8, 16, 2),
        (16, 8, 16, 2),
        (6, 32, 64, 2),
        (20, 4, 8, 2),
    ):
        yield f"conv1x1_{h}x{h}x{cin}_s{stride}_o{cout}", conv(h, h, cin, cout, 1, 1, stride, False)
    # 1x1 convolutions over one or an odd number of pixels (the kernels pair pixels up).
    for h, cin, cout in ((1, 64, 16), (1, 128, 32), (1, 256, 8), (3, 32, 16), (5, 16, 24)):
        yield f"conv1x1_{h}x{h}x{cin}_s1_o{cout}", conv(h, h, cin, cout, 1, 1, 1, False)
    # 1xN convolutions on a one-row input (arm_convolve_1_x_n_s8).
    for w, cin, cout, k in ((32, 8, 16, 3), (40, 16, 16, 5), (24, 32, 8, 3), (64, 4, 12, 7)):
        yield f"conv1xn_1x{w}x{cin}_k{k}_o{cout}", conv(1, w, cin, cout, 1, k, 1, False)
    # Depthwise: 3x3 (arm_depthwise_conv_3x3_s8 on DSP), other windows (opt), multipliers (generic).
    for h, c, mult, kh, kw, stride, same in (
        (16, 8, 1, 3, 3, 1, True),
        (12, 24, 1, 3, 3, 2, True),
        (8, 48, 1, 3, 3, 1, True),
        (6, 96, 1, 3, 3, 1, False),
        (10, 16, 1, 5, 5, 1, True),
        (12, 32, 1, 5, 5, 2, True),
        (16, 12, 1, 7, 1, 1, False),
        (8, 64, 1, 1, 3, 1, True),
        (20, 1, 4, 3, 3, 1, True),
        (24, 1, 8, 5, 5, 2, True),
        (12, 4, 2, 3, 3, 1, True),
        (8, 16, 3, 3, 3, 2, False),
        (16, 2, 6, 4, 4, 2, True),
        (16, 2, 4, 3, 3, 1, True),
        (10, 8, 4, 3, 3, 2, True),
        (12, 3, 8, 3, 3, 1, False),
        (10, 8, 2, 5, 5, 1, True),
        (14, 6, 3, 3, 3, 1, True),
    ):
        yield (
            f"depthwise_{h}x{h}x{c}_m{mult}_k{kh}x{kw}_s{stride}_{'same' if same else 'valid'}",
            depthwise(h, h, c, mult, kh, kw, stride, same),
        )
    # One input channel and a depth multiplier (image and spectrogram front ends; Helium runs them as
    # a convolution, DSP cores four outputs at a time when the multiplier is a multiple of 4).
    for h, w, mult, kh, kw, stride in (
        (49, 40, 8, 10, 8, 2),
        (32, 32, 8, 3, 3, 2),
        (20, 20, 16, 5, 5, 1),
        (28, 28, 2, 3, 3, 1),
        (40, 10, 4, 8, 4, 2),
    ):
        yield f"depthwise_{h}x{w}x1_m{mult}_k{kh}x{kw}_s{stride}_same", depthwise(h, w, 1, mult, kh, kw, stride, True)
    # Time-series depthwise (H x 1 inputs, K x 1 windows), down to a single output position.
    for h, c, kh in ((30, 40, 3), (28, 64, 5), (24, 32, 10), (15, 128, 15), (9, 16, 9)):
        yield f"depthwise_{h}x1x{c}_m1_k{kh}x1_s1_valid", depthwise(h, 1, c, 1, kh, 1, 1, False)
    for batch, cin, cout in ((1, 32, 8), (1, 200, 64), (1, 512, 16), (1, 64, 256), (1, 1000, 4), (4, 96, 24)):
        yield f"fc_{batch}x{cin}_o{cout}", fully_connected(batch, cin, cout)
    for shape in ((1, 8, 8, 4), (1, 16, 16, 8), (1, 20, 20, 16), (1, 1000)):
        yield f"add_{'x'.join(map(str, shape))}", add(shape)
    for op, name in ((Op.AVERAGE_POOL_2D, "avgpool"), (Op.MAX_POOL_2D, "maxpool")):
        for h, c, window, stride in ((16, 8, 2, 2), (12, 16, 3, 3), (9, 32, 3, 1), (8, 8, 8, 8)):
            yield f"{name}_{h}x{h}x{c}_w{window}_s{stride}", pool(op, h, h, c, window, stride)
    for rows, depth in ((1, 10), (1, 100), (1, 1000), (16, 8), (4, 64)):
        yield f"softmax_{rows}x{depth}", softmax(rows, depth)
    for shape, new_shape in (((1, 4, 4, 8), (1, 128)), ((1, 40, 40, 2), (1, 3200)), ((1, 16), (1, 4, 4))):
        yield f"reshape_{'x'.join(map(str, shape))}", reshape(shape, new_shape)
    for elements in (64, 256, 2000):
        yield f"quantize_{elements}", quantize(elements)
        yield f"dequantize_{elements}", dequantize(elements)
    for elements in (96, 500, 2000):
        yield f"requantize_int16_{elements}", requantize_int16(elements)
    for elements in (40, 400):
        yield f"add_int32_scalar_{elements}", add_int32_scalar(elements)
