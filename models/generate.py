"""Build int8 TFLite models from the schema with the flatbuffers builder.

Why: the arena predictor needs small reproducible example models (and huge
synthetic ones for scale benchmarks) without TensorFlow. A model is a tiny
graph of tensors and ops, quantized as the TFLite converter would (per-channel
symmetric int8 weights, int32 biases at input_scale*weight_scale, asymmetric
int8 activations) and written with the `tflite` package's generated builders.
Weights are random (numpy default_rng(seed)): accuracy is meaningless.

    python models/generate.py        # -> models/kws_ds_cnn_int8.tflite
    python models/generate.py --synthetic 1000 --residual-every 4 -o x.tflite
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import flatbuffers
import numpy as np
import tflite
from tflite.ActivationFunctionType import ActivationFunctionType as Act
from tflite.BuiltinOperator import BuiltinOperator as Op
from tflite.BuiltinOptions import BuiltinOptions as Opt
from tflite.Padding import Padding
from tflite.TensorType import TensorType

# Op versions TFLM/LiteRT expect for int8 kernels (per-channel conv => 3, ...).
OP_VERSIONS = {
    Op.ADD: 2,
    Op.AVERAGE_POOL_2D: 2,
    Op.CONV_2D: 3,
    Op.DEPTHWISE_CONV_2D: 3,
    Op.FULLY_CONNECTED: 4,
    Op.RESHAPE: 1,
    Op.SOFTMAX: 2,
    # Used by benchmarks/single_op_models.py (int8 pooling; float32 <-> int8 conversion).
    Op.MAX_POOL_2D: 2,
    Op.QUANTIZE: 1,
    Op.DEQUANTIZE: 2,
}
# Fixed activation quantization for uncalibrated (synthetic) graphs: a float
# reference over 10k ops with residual adds would overflow, and the arena only
# depends on shapes anyway.
FIXED_RELU_QUANT = (0.02, -128)
FIXED_LINEAR_QUANT = (0.04, 0)
DEFAULT_KWS_PATH = Path(__file__).resolve().parent / "kws_ds_cnn_int8.tflite"


@dataclass
class Quant:
    """TFLite QuantizationParameters (per-tensor when len(scale) == 1)."""

    scale: np.ndarray
    zero_point: np.ndarray
    dim: int = 0

    @classmethod
    def single(cls, scale: float, zero_point: int) -> Quant:
        return cls(np.array([scale], np.float32), np.array([zero_point], np.int64))


@dataclass
class Tensor:
    """One subgraph tensor; `data` is None for activations (empty buffer)."""

    name: str
    shape: tuple[int, ...]
    dtype: int
    quant: Quant | None
    data: bytes | None = None


@dataclass
class Operator:
    """One operator: builtin code, tensor indices, options table name + fields."""

    code: int
    inputs: list[int]
    outputs: list[int]
    table: str
    fields: dict


def _activation_quant(value: np.ndarray) -> Quant:
    """Asymmetric int8 quant covering [min(v,0), max(v,0)], like the converter."""
    lo, hi = min(float(value.min()), 0.0), max(float(value.max()), 0.0)
    scale = max(hi - lo, 1e-6) / 255.0
    zero_point = int(np.clip(round(-128 - lo / scale), -128, 127))
    return Quant.single(scale, zero_point)


def _same_pad(size: int, k: int, stride: int) -> tuple[int, int, int]:
    """TF 'SAME' padding: (output size, pad before, pad after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return out, total // 2, total - total // 2


def _conv_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, depthwise: bool) -> np.ndarray:
    """Float NHWC conv/depthwise with SAME padding (calibration reference)."""
    kh, kw = w.shape[1:3]
    oh, ph0, ph1 = _same_pad(x.shape[1], kh, stride)
    ow, pw0, pw1 = _same_pad(x.shape[2], kw, stride)
    xp = np.pad(x, ((0, 0), (ph0, ph1), (pw0, pw1), (0, 0)))
    out = np.zeros((x.shape[0], oh, ow, w.shape[3 if depthwise else 0]), np.float32)
    for dy in range(kh):
        for dx in range(kw):
            patch = xp[:, dy : dy + stride * (oh - 1) + 1 : stride, dx : dx + stride * (ow - 1) + 1 : stride]
            out += patch * w[0, dy, dx] if depthwise else patch @ w[:, dy, dx, :].T
    return out + b


class Graph:
    """A single-subgraph int8 model under construction.

    With `calibrate=True` every activation carries a float reference value
    (a small calibration batch) and takes its quantization from that value's
    range, so the int8 model behaves like a post-training-quantized one.
    Without it activations get fixed scales and no float math is done.
    """

    def __init__(self, rng: np.random.Generator, calibrate: bool) -> None:
        self.rng, self.calibrate = rng, calibrate
        self.tensors: list[Tensor] = []
        self.ops: list[Operator] = []
        self.refs: dict[int, np.ndarray] = {}
        self.inputs: list[int] = []
        self.outputs: list[int] = []

    def _add(self, tensor: Tensor, ref: np.ndarray | None = None) -> int:
        self.tensors.append(tensor)
        if ref is not None and self.calibrate:
            self.refs[len(self.tensors) - 1] = ref
        return len(self.tensors) - 1

    def add_input(self, name: str, shape: tuple[int, ...], calib: np.ndarray | None) -> int:
        """Graph input; `calib` is a float calibration batch [N, *shape[1:]]."""
        self.inputs.append(self._activation(name, shape, lambda: calib, relu=False))
        return self.inputs[-1]

    def _activation(
        self, name: str, shape: tuple[int, ...], ref: Callable[[], np.ndarray], relu: bool, quant: Quant | None = None
    ) -> int:
        """Op output; quant from `quant`, else the float reference, else fixed defaults."""
        if not self.calibrate:
            quant = quant or Quant.single(*(FIXED_RELU_QUANT if relu else FIXED_LINEAR_QUANT))
            return self._add(Tensor(name, shape, TensorType.INT8, quant))
        value = np.maximum(ref(), 0.0) if relu else ref()
        quant = quant or _activation_quant(value)
        return self._add(Tensor(name, shape, TensorType.INT8, quant), value)

    def _weights(self, x: int, name: str, w: np.ndarray, b: np.ndarray, axis: int | None) -> tuple[int, int]:
        """Symmetric int8 weights, per-channel along `axis` (None: per-tensor),
        and int32 bias at input_scale * weight_scale (what the kernels assume)."""
        other = tuple(i for i in range(w.ndim) if i != axis)
        scale = (np.maximum(np.abs(w).max(axis=other), 1e-6) / 127.0).astype(np.float32).reshape(-1)
        bshape = [-1 if i == axis else 1 for i in range(w.ndim)]
        q = np.clip(np.round(w / scale.reshape(bshape)), -127, 127).astype(np.int8)
        zeros = np.zeros(scale.size, np.int64)
        wt = self._add(Tensor(f"{name}/weights", w.shape, TensorType.INT8, Quant(scale, zeros, axis or 0), q.tobytes()))
        bscale = (self.tensors[x].quant.scale[0] * scale).astype(np.float32)
        qb = np.round(b / bscale).astype(np.int32)
        bt = self._add(Tensor(f"{name}/bias", b.shape, TensorType.INT32, Quant(bscale, zeros), qb.tobytes()))
        return wt, bt

    def _init(self, shape: tuple[int, ...], fan_in: int, out_axis: int) -> tuple[np.ndarray, ...]:
        """Random float weights (He init, so activations neither vanish nor
        explode along the ReLU chain) and small biases, one per output channel."""
        w = self.rng.normal(0.0, np.sqrt(2.0 / fan_in), shape).astype(np.float32)
        return w, self.rng.normal(0.0, 0.1, shape[out_axis]).astype(np.float32)

    def _op(self, code: int, inputs: list[int], outputs: list[int], table: str, **fields) -> None:
        self.ops.append(Operator(code, inputs, outputs, table, fields))

    def conv2d(self, x: int, out_c: int, k: tuple[int, int], stride: int, name: str) -> int:
        """CONV_2D, SAME padding, fused RELU, per-channel weights (dim 0)."""
        n, h, w_, c = self.tensors[x].shape
        w, b = self._init((out_c, *k, c), k[0] * k[1] * c, 0)
        wt, bt = self._weights(x, name, w, b, 0)
        shape = (n, _same_pad(h, k[0], stride)[0], _same_pad(w_, k[1], stride)[0], out_c)
        y = self._activation(name, shape, lambda: _conv_ref(self.refs[x], w, b, stride, False), True)
        self._op(
            Op.CONV_2D,
            [x, wt, bt],
            [y],
            "Conv2DOptions",
            Padding=Padding.SAME,
            StrideW=stride,
            StrideH=stride,
            FusedActivationFunction=Act.RELU,
        )
        return y

    def depthwise(self, x: int, name: str) -> int:
        """DEPTHWISE_CONV_2D 3x3, stride 1, SAME, multiplier 1, fused RELU (dim 3)."""
        shape = self.tensors[x].shape
        w, b = self._init((1, 3, 3, shape[3]), 9, 3)
        wt, bt = self._weights(x, name, w, b, 3)
        y = self._activation(name, shape, lambda: _conv_ref(self.refs[x], w, b, 1, True), True)
        self._op(
            Op.DEPTHWISE_CONV_2D,
            [x, wt, bt],
            [y],
            "DepthwiseConv2DOptions",
            Padding=Padding.SAME,
            StrideW=1,
            StrideH=1,
            DepthMultiplier=1,
            FusedActivationFunction=Act.RELU,
        )
        return y

    def add(self, a: int, b: int, name: str) -> int:
        """ADD (b may broadcast), no fused activation; kernels rescale both sides."""
        y = self._activation(name, self.tensors[a].shape, lambda: self.refs[a] + self.refs[b], False)
        self._op(Op.ADD, [a, b], [y], "AddOptions")
        return y

    def const_int8(self, name: str, shape: tuple[int, ...], scale: float) -> int:
        """A random int8 constant (e.g. the second operand of a bias-like ADD)."""
        q = self.rng.integers(-127, 128, shape, dtype=np.int8)
        return self._add(
            Tensor(name, shape, TensorType.INT8, Quant.single(scale, 0), q.tobytes()), q.astype(np.float32) * scale
        )

    def global_avg_pool(self, x: int, name: str) -> int:
        """AVERAGE_POOL_2D over the whole map; int8 pooling needs in/out quant equal."""
        n, h, w, c = self.tensors[x].shape
        y = self._activation(
            name, (n, 1, 1, c), lambda: self.refs[x].mean((1, 2), keepdims=True), False, self.tensors[x].quant
        )
        self._op(
            Op.AVERAGE_POOL_2D,
            [x],
            [y],
            "Pool2DOptions",
            Padding=Padding.VALID,
            StrideW=1,
            StrideH=1,
            FilterWidth=w,
            FilterHeight=h,
        )
        return y

    def reshape(self, x: int, shape: tuple[int, ...], name: str) -> int:
        """RESHAPE with an int32 shape tensor input, as the converter emits it."""
        st = self._add(
            Tensor(f"{name}/shape", (len(shape),), TensorType.INT32, None, np.array(shape, np.int32).tobytes())
        )
        y = self._activation(name, shape, lambda: self.refs[x].reshape(-1, *shape[1:]), False, self.tensors[x].quant)
        self._op(Op.RESHAPE, [x, st], [y], "ReshapeOptions", NewShape=tuple(shape))
        return y

    def fully_connected(self, x: int, units: int, name: str) -> int:
        """FULLY_CONNECTED, per-tensor weights (the converter's default), no activation."""
        n, c = self.tensors[x].shape
        w, b = self._init((units, c), c, 0)
        if self.calibrate:  # standardize logits over the calibration batch so
            z = self.refs[x] @ w.T  # softmax is not one-hot for every input
            w, b = w / z.std(0)[:, None], (b - z.mean(0)) / z.std(0)
        wt, bt = self._weights(x, name, w, b, None)
        y = self._activation(name, (n, units), lambda: self.refs[x] @ w.T + b, False)
        self._op(Op.FULLY_CONNECTED, [x, wt, bt], [y], "FullyConnectedOptions")
        return y

    def softmax(self, x: int, name: str) -> int:
        """SOFTMAX; TFLM requires int8 output scale 1/256, zero_point -128."""
        y = self._activation(name, self.tensors[x].shape, lambda: self.refs[x], False, Quant.single(1.0 / 256.0, -128))
        self._op(Op.SOFTMAX, [x], [y], "SoftmaxOptions", Beta=1.0)
        return y


# -- serialization -----------------------------------------------------------
def _table(b: flatbuffers.Builder, name: str, **fields) -> int:
    """Write table `name` through the generated tflite.<name>Start /
    <name>Add<Field> / <name>End functions; None fields are left out.
    Data-driven so every table (and each op's options) is one call."""
    getattr(tflite, f"{name}Start")(b)
    for field, value in fields.items():
        if value is not None:
            getattr(tflite, f"{name}Add{field}")(b, value)
    return getattr(tflite, f"{name}End")(b)


def _byte_vector(b: flatbuffers.Builder, data: bytes, align: int = 16) -> int:
    """uint8 vector with a 16-byte-aligned payload, as the converter writes
    buffers (kernels read int32 biases / SIMD loads straight from flash)."""
    b.StartVector(1, len(data), align)
    b.head -= len(data)
    b.Bytes[b.head : b.head + len(data)] = data
    return b.EndVector()


def _offset_vector(b: flatbuffers.Builder, start: Callable, offsets: list[int]) -> int:
    start(b, len(offsets))
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()


def _int_vector(b: flatbuffers.Builder, values) -> int:
    return b.CreateNumpyVector(np.asarray(values, np.int32))


def _write_buffers(b: flatbuffers.Builder, tensors: list[Tensor]) -> int:
    """Buffer 0 empty (converter convention), then one buffer per tensor
    (empty for activations), so tensor i uses buffer i + 1."""
    offsets = [
        _table(b, "Buffer", Data=_byte_vector(b, data) if data else None) for data in [None] + [t.data for t in tensors]
    ]
    return _offset_vector(b, tflite.ModelStartBuffersVector, offsets)


def _write_tensors(b: flatbuffers.Builder, tensors: list[Tensor]) -> int:
    """Tensor tables; identical shape vectors and quant tables are shared
    (legal in flatbuffers) to keep 10k-op models small and fast to build."""
    shapes: dict[tuple, int] = {}
    quants: dict[tuple | None, int | None] = {None: None}
    offsets = []
    for i, t in enumerate(tensors):
        name = b.CreateString(t.name)
        if t.shape not in shapes:
            shapes[t.shape] = _int_vector(b, t.shape)
        q = t.quant
        key = q and (q.scale.tobytes(), q.zero_point.tobytes(), q.dim)
        if key not in quants:
            scale, zp = b.CreateNumpyVector(q.scale), b.CreateNumpyVector(q.zero_point)
            quants[key] = _table(b, "QuantizationParameters", Scale=scale, ZeroPoint=zp, QuantizedDimension=q.dim)
        offsets.append(
            _table(b, "Tensor", Shape=shapes[t.shape], Type=t.dtype, Buffer=i + 1, Name=name, Quantization=quants[key])
        )
    return _offset_vector(b, tflite.SubGraphStartTensorsVector, offsets)


def _write_operators(b: flatbuffers.Builder, ops: list[Operator], index: dict[int, int]) -> int:
    offsets = []
    for op in ops:
        inputs, outputs = _int_vector(b, op.inputs), _int_vector(b, op.outputs)
        fields = {k: _int_vector(b, v) if isinstance(v, tuple) else v for k, v in op.fields.items()}
        options = _table(b, op.table, **fields)
        offsets.append(
            _table(
                b,
                "Operator",
                OpcodeIndex=index[op.code],
                Inputs=inputs,
                Outputs=outputs,
                BuiltinOptionsType=getattr(Opt, op.table),
                BuiltinOptions=options,
            )
        )
    return _offset_vector(b, tflite.SubGraphStartOperatorsVector, offsets)


def serialize(graph: Graph) -> bytes:
    """Graph -> .tflite bytes (schema version 3, one subgraph, no metadata).

    Operator codes set both fields: old readers use deprecated_builtin_code
    (int8, capped at 127), new ones take max() of the two.
    """
    b = flatbuffers.Builder(1 << 16)
    codes = list(dict.fromkeys(op.code for op in graph.ops))
    buffers = _write_buffers(b, graph.tensors)
    tensors = _write_tensors(b, graph.tensors)
    operators = _write_operators(b, graph.ops, {c: i for i, c in enumerate(codes)})
    inputs, outputs = _int_vector(b, graph.inputs), _int_vector(b, graph.outputs)
    subgraph = _table(
        b, "SubGraph", Tensors=tensors, Inputs=inputs, Outputs=outputs, Operators=operators, Name=b.CreateString("main")
    )
    opcodes = [
        _table(b, "OperatorCode", DeprecatedBuiltinCode=min(c, 127), Version=OP_VERSIONS[c], BuiltinCode=c)
        for c in codes
    ]
    model = _table(
        b,
        "Model",
        Version=3,
        OperatorCodes=_offset_vector(b, tflite.ModelStartOperatorCodesVector, opcodes),
        Subgraphs=_offset_vector(b, tflite.ModelStartSubgraphsVector, [subgraph]),
        Description=b.CreateString("arena models/generate.py"),
        Buffers=buffers,
    )
    b.Finish(model, file_identifier=b"TFL3")
    return bytes(b.Output())


# -- models ------------------------------------------------------------------
def build_ds_cnn_kws(seed: int = 0) -> bytes:
    """DS-CNN-S keyword spotter (MLPerf Tiny / Arm Hello-Edge layout), int8 I/O.

    Activation scales come from a float reference run on a calibration batch
    that is uniform over the input range (so random int8 test inputs are
    in-distribution and the softmax is not saturated).
    """
    g = Graph(rng := np.random.default_rng(seed), calibrate=True)
    calib = rng.uniform(-32.0, 32.0, (16, 49, 10, 1)).astype(np.float32)
    x = g.add_input("input", (1, 49, 10, 1), calib)
    x = g.conv2d(x, 64, (10, 4), 2, "conv0")
    for i in range(1, 5):
        x = g.depthwise(x, f"block{i}/depthwise")
        x = g.conv2d(x, 64, (1, 1), 1, f"block{i}/pointwise")
    x = g.global_avg_pool(x, "avg_pool")
    x = g.reshape(x, (1, 64), "flatten")
    x = g.fully_connected(x, 12, "logits")
    g.outputs.append(g.softmax(x, "probs"))
    return serialize(g)


def build_synthetic(
    num_ops: int, seed: int = 0, residual_every: int = 0, shape: tuple[int, int, int, int] = (1, 8, 8, 16)
) -> bytes:
    """A `num_ops`-operator int8 model for scale benchmarks.

    Ops cycle DEPTHWISE_CONV_2D 3x3 / CONV_2D 1x1 / ADD(x, const [1,1,1,C]) on
    `shape`. With residual_every=K > 0, op i (i >= K, (i+1) % K == 0) is
    instead an ADD of the current tensor and the tensor from K ops earlier,
    which keeps that tensor alive across K ops (a branched graph).
    """
    if num_ops < 1 or residual_every < 0:
        raise ValueError("need num_ops >= 1 and residual_every >= 0")
    g = Graph(np.random.default_rng(seed), calibrate=False)
    acts = [g.add_input("input", shape, None)]
    for i in range(num_ops):
        x, name = acts[-1], f"op{i}"
        if residual_every and i >= residual_every and (i + 1) % residual_every == 0:
            y = g.add(x, acts[i - residual_every], f"{name}/residual_add")
        elif i % 3 == 0:
            y = g.depthwise(x, f"{name}/depthwise")
        elif i % 3 == 1:
            y = g.conv2d(x, shape[3], (1, 1), 1, f"{name}/pointwise")
        else:
            c = g.const_int8(f"{name}/const", (1, 1, 1, shape[3]), FIXED_LINEAR_QUANT[0])
            y = g.add(x, c, f"{name}/add")
        acts.append(y)
    g.outputs.append(acts[-1])
    return serialize(g)


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temp file in the same directory + os.replace, so readers
    (tests running concurrently) never see a half-written model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synthetic", type=int, metavar="N", help="N-op synthetic model")
    parser.add_argument(
        "--residual-every",
        type=int,
        default=0,
        metavar="K",
        help="synthetic: ADD joining the tensor from K ops earlier",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", type=Path, help=f"default: {DEFAULT_KWS_PATH}")
    args = parser.parse_args(argv)
    if args.synthetic is None and args.residual_every:
        parser.error("--residual-every needs --synthetic")
    if args.synthetic is not None and args.output is None:
        parser.error("--synthetic needs -o PATH")
    if args.synthetic is None:
        data, out = build_ds_cnn_kws(args.seed), args.output or DEFAULT_KWS_PATH
    elif args.synthetic < 1 or args.residual_every < 0:
        parser.error("need --synthetic N >= 1 and --residual-every K >= 0")
    else:
        data, out = build_synthetic(args.synthetic, args.seed, args.residual_every), args.output
    write_atomic(out, data)
    print(f"wrote {out} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
