"""TFLM built with CMSIS-NN kernels (``OPTIMIZED_KERNEL_DIR=cmsis_nn``): support and scratch.

A Cortex-M build of tensorflow/tflite-micro 90b983c2 swaps the reference kernels of these ops for
the fourteen wrappers in ``tensorflow/lite/micro/kernels/cmsis_nn/``: ADD, BATCH_MATMUL, CONV_2D,
DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAXIMUM/MINIMUM, MUL, PAD/PADV2, AVERAGE_POOL_2D/MAX_POOL_2D,
SOFTMAX, SVDF, TRANSPOSE, TRANSPOSE_CONV and UNIDIRECTIONAL_SEQUENCE_LSTM. Every other op keeps
its reference kernel, so for those this library applies :mod:`arena.kernels.reference_scratch`
(except ADD_N, whose scratch holds pointers, 4 bytes each on Cortex-M).

The wrappers size their scratch with CMSIS-NN's ``arm_*_get_buffer_size`` functions, and those
return different sizes for the three code paths CMSIS-NN compiles (Include/arm_nn_math_types.h):

* ``"mve"``: ``ARM_MATH_MVEI`` (Helium, Cortex-M55/M85; these also define ``ARM_MATH_DSP``, but
  every buffer-size function tests MVEI first);
* ``"dsp"``: ``ARM_MATH_DSP`` only (Cortex-M4, M7, M33 with the DSP extension);
* ``"none"``: neither (Cortex-M0+, M3, M33+nodsp).

Two more build facts change sizes. The compiler: two CMSIS-NN constants test ``__ARMCC_VERSION``
(Arm Compiler 6) and differ from GCC, TFLM's default ``TOOLCHAIN``. And TFLM's
``OPTIMIZE_KERNELS_FOR`` (``KERNELS_OPTIMIZED_FOR_SPEED`` by default in tools/make/Makefile),
under which FULLY_CONNECTED and SVDF keep MVE kernel sums in persistent memory instead of scratch.

CMSIS-NN is the revision TFLM pins in tools/make/ext_libs/cmsis_nn_download.sh:
ARM-software/CMSIS-NN 4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae ("Fixed LSTM (#219)", v7.0.0+33).
Each private function below names the CMSIS-NN or TFLM function whose rule it restates.

Persistent buffers (per-channel multipliers and shifts, LSTM kernel sums, the MVE kernel sums
FULLY_CONNECTED and SVDF keep under ``KERNELS_OPTIMIZED_FOR_SPEED``) belong to the arena's tail
and are modelled in :mod:`arena.tail.cmsis_nn_kernels`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import cast

from arena.kernels.cmsis_nn_buffers import (
    CMSIS_NN_COMMIT,
    CMSIS_NN_OPS,
    CMSIS_NN_VERSION,
    INT16_BYTES,
    INT32_BYTES,
    INT64_BYTES,
    POINTER_BYTES,
    CmsisNnBuild,
    Compiler,
    ConvGeometry,
    Dims,
    Isa,
    OptimizeFor,
    c_div,
    conv_s8_buffer,
    conv_s16_buffer,
    depthwise_s4_buffer,
    depthwise_s8_buffer,
    transpose_conv_s8_buffers,
)
from arena.kernels.library import KernelLibrary, ScratchRequest
from arena.kernels.operands import op_input as _input
from arena.kernels.operands import op_output as _output
from arena.kernels.reference import (
    ETHOS_U_CUSTOM,
    SUPPORTED_BUILTINS,
    SUPPORTED_CUSTOM,
    reference_unsupported_reason,
)
from arena.kernels.reference_scratch import reference_scratch
from arena.model.records import TENSOR_TYPES, Model, Operator, Subgraph, Tensor

# ------------------------------------------------------------ TFLM shapes and options


def _type(tensor: Tensor | None) -> str | None:
    return None if tensor is None else tensor.type_name


def _nhwc(tensor: Tensor | None) -> Dims | None:
    """A 4-D tensor's shape as Dims; None otherwise (the CMSIS-NN Prepares insist on 4-D)."""
    return Dims(*tensor.shape) if tensor is not None and len(tensor.shape) == 4 else None


def _conv_shapes(subgraph: Subgraph, op: Operator, data_slot: int) -> tuple[Dims | None, Dims | None, Dims | None]:
    """Data (input ``data_slot``), filter (input 1) and output shapes, each None unless 4-D."""
    return (
        _nhwc(_input(subgraph, op, data_slot)),
        _nhwc(_input(subgraph, op, 1)),
        _nhwc(_output(subgraph, op)),
    )


def _int(op: Operator, key: str, default: int) -> int:
    value = op.options.get(key, default)
    return int(value) if isinstance(value, bool | int | float) else default


def tflm_padding(op: Operator, i: Dims, f: Dims) -> ConvGeometry:
    """Stride, dilation and the padding TFLM's ``ComputePaddingHeightWidth`` (kernels/padding.h)
    derives from the options, as conv_common.cc and depthwise_conv_common.cc call it.

    The output size comes from the padding type (schema: 0 SAME, 1 VALID), not from the output
    tensor; padding is half the clamped total; invalid arguments give zero padding.

    Examples
    --------
    >>> from arena.model.records import Operator
    >>> op = Operator(index=0, opcode_index=0, builtin_code=3, op_name="CONV_2D", custom_code=None,
    ...               version=1, inputs=(), outputs=(), options={"padding": 0, "stride_h": 2,
    ...               "stride_w": 2, "dilation_h_factor": 1, "dilation_w_factor": 1})
    >>> tflm_padding(op, Dims(1, 49, 10, 1), Dims(1, 10, 4, 1))
    ConvGeometry(stride_h=2, stride_w=2, pad_h=4, pad_w=1, dilation_h=1, dilation_w=1)
    """
    stride_h, stride_w = _int(op, "stride_h", 1), _int(op, "stride_w", 1)
    dilation_h, dilation_w = _int(op, "dilation_h_factor", 1), _int(op, "dilation_w_factor", 1)
    padding = _int(op, "padding", -1)

    def pad(stride: int, dilation: int, size: int, kernel: int) -> int | None:
        if padding not in (0, 1) or size < 0 or kernel <= 0 or stride <= 0 or dilation <= 0:
            return None
        effective = (kernel - 1) * dilation + 1
        out = c_div(size + stride - 1, stride) if padding == 0 else c_div(size + stride - effective, stride)
        if out < 0:
            return None
        return max((out - 1) * stride + effective - size, 0) // 2

    pad_h, pad_w = pad(stride_h, dilation_h, i.h, f.h), pad(stride_w, dilation_w, i.w, f.w)
    if pad_h is None or pad_w is None:
        pad_h = pad_w = 0
    return ConvGeometry(stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w)


def _request(size: int, purpose: str) -> tuple[ScratchRequest, ...]:
    """One request when ``size > 0`` (the wrappers' ``if (buf_size > 0)``), else none."""
    return (ScratchRequest(size_bytes=size, purpose=purpose),) if size > 0 else ()


# ------------------------------------------------------------------- TFLM wrapper rules


def _conv(build: CmsisNnBuild, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """cmsis_nn/conv.cc ``Prepare``: int8 asks ``arm_convolve_wrapper_s8_get_buffer_size`` (also
    for int4 filters), int16 ``arm_convolve_wrapper_s16_get_buffer_size``; float32 none.

    The int16 branch is guarded by "bias is int64 or absent", but Prepare fetches the bias with
    ``AllocateTempOutputTensor(node, kConvBiasTensor)``, which is always null for a one-output
    op, so every int16 conv takes it.
    """
    data, weights, out = _conv_shapes(subgraph, op, 0)
    kind = _type(_input(subgraph, op, 0))
    if data is None or weights is None or out is None or kind not in ("int8", "int16"):
        return ()
    f = Dims(1, weights.h, weights.w, weights.c)
    if kind == "int16":
        return _request(conv_s16_buffer(build, data, f), "CMSIS-NN arm_convolve_wrapper_s16 buffer")
    size, kernel = conv_s8_buffer(build, tflm_padding(op, data, f), data, f, out)
    return _request(size, f"CMSIS-NN {kernel} buffer")


def _depthwise(build: CmsisNnBuild, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """cmsis_nn/depthwise_conv.cc ``Prepare``: int8 input only; int8 filters use the s8 wrapper
    size, int4 filters the s4 one. The filter dims' c is the output depth.

    TFLM leaves ``dw_conv_params.stride`` uninitialised here; only the MVE one-input-channel
    path reads it (and only for a 1xN input). This model uses the op's stride there.
    """
    data, weights, out = _conv_shapes(subgraph, op, 0)
    filter_type = _type(_input(subgraph, op, 1))
    if data is None or weights is None or out is None or _type(_input(subgraph, op, 0)) != "int8":
        return ()
    f = Dims(1, weights.h, weights.w, out.c)
    geometry = tflm_padding(op, data, f)
    if filter_type == "int4":
        return _request(depthwise_s4_buffer(build, geometry, data, f, out), "CMSIS-NN arm_depthwise_conv_s4_opt buffer")
    if filter_type != "int8":
        return ()
    size, kernel = depthwise_s8_buffer(build, geometry, data, f, out)
    return _request(size, f"CMSIS-NN {kernel} buffer")


def _is_constant(tensor: Tensor | None) -> bool:
    return tensor is not None and tensor.has_data


def _fully_connected(build: CmsisNnBuild, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """cmsis_nn/fully_connected.cc ``Prepare``.

    int16: ``arm_fully_connected_s16_get_buffer_size`` = 0. int8 with an int8 filter:

    * output rank > 2 and accumulation depth divisible by 4 runs as a 1x1 convolution: a
      per-tensor filter first asks for ``Cout`` int32 multipliers and shifts (``Cout*8``), then
      ``arm_convolve_1x1_s8_fast_get_buffer_size`` (nonzero only on DSP with Arm Compiler 6);
    * otherwise ``arm_fully_connected_s8_get_buffer_size`` (MVE ``Cout*4``, else 0); under
      ``KERNELS_OPTIMIZED_FOR_SPEED`` with a constant filter and a constant or absent bias those
      kernel sums go to persistent memory instead.

    int4 filters ask for nothing.
    """
    data, weights, bias, out = (
        _input(subgraph, op, 0),
        _input(subgraph, op, 1),
        _input(subgraph, op, 2),
        _output(subgraph, op),
    )
    if data is None or weights is None or out is None or not weights.shape or not out.shape:
        return ()
    if data.type_name != "int8" or weights.type_name != "int8":
        return ()
    accum_depth, out_depth = weights.shape[-1], out.shape[-1]
    if len(out.shape) > 2 and accum_depth % 4 == 0:
        per_channel = weights.quantization is not None and len(weights.quantization.scale) > 1
        emulated = (
            ()
            if per_channel
            else _request(out_depth * INT32_BYTES * 2, "CMSIS-NN per-channel quantization for per-tensor filter")
        )
        fast = 2 * accum_depth * INT16_BYTES if build.isa == "dsp" and build.compiler == "armclang" else 0
        return (*emulated, *_request(fast, "CMSIS-NN arm_convolve_1x1_s8_fast buffer"))
    size = out_depth * INT32_BYTES if build.isa == "mve" else 0
    if build.optimize_for == "speed" and _is_constant(weights) and (bias is None or _is_constant(bias)):
        size = 0
    return _request(size, "CMSIS-NN arm_fully_connected_s8 kernel sums")


def _average_pool(build: CmsisNnBuild, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """cmsis_nn/pooling.cc ``AveragePrepare``: int8/int16 ask ``arm_avgpool_s8/s16_get_buffer_size``
    = ``depth`` int32 on DSP-without-MVE, 0 on MVE and plain cores."""
    data, out = _nhwc(_input(subgraph, op, 0)), _nhwc(_output(subgraph, op))
    if data is None or out is None or _type(_input(subgraph, op, 0)) not in ("int8", "int16"):
        return ()
    return _request(data.c * INT32_BYTES if build.isa == "dsp" else 0, "CMSIS-NN arm_avgpool accumulators")


def _svdf(build: CmsisNnBuild, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """cmsis_nn/svdf.cc ``CmsisNnPrepareSvdf``: float32 ``batch*filters`` floats; int8
    ``batch*filters`` and ``batch*units`` int32, then ``arm_svdf_s8_get_buffer_size`` (MVE
    ``filters*4``, else 0) as scratch only under ``KERNELS_OPTIMIZED_FOR_SIZE``."""
    data, weights_feature = _input(subgraph, op, 0), _input(subgraph, op, 1)
    if data is None or weights_feature is None or len(data.shape) < 1 or not weights_feature.shape:
        return ()
    batch, filters = data.shape[0], weights_feature.shape[0]
    units = filters // max(_int(op, "rank", 1), 1)
    if data.type_name == "float32":
        return (ScratchRequest(size_bytes=batch * filters * 4, purpose="SVDF filter state"),)
    if data.type_name != "int8":
        return ()
    requests = [
        ScratchRequest(size_bytes=batch * filters * INT32_BYTES, purpose="SVDF filter state"),
        ScratchRequest(size_bytes=batch * units * INT32_BYTES, purpose="SVDF output accumulators"),
    ]
    if build.isa == "mve" and build.optimize_for == "size":
        requests.append(ScratchRequest(size_bytes=filters * INT32_BYTES, purpose="CMSIS-NN arm_svdf_s8 kernel sums"))
    return tuple(requests)


def _lstm(build: CmsisNnBuild, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """cmsis_nn/unidirectional_sequence_lstm.cc ``UnidirectionalSequenceLstmPrepare``: int8 or
    int16 activations with an int16 cell state ask for 3 buffers (CMSIS-NN path), anything else
    4, each ``batch * state_dim * sizeof(cell state)`` (lstm_eval_common.cc ``CreateLstmSizeInfo``)."""
    del build
    data, hidden, cell = _input(subgraph, op, 0), _input(subgraph, op, 18), _input(subgraph, op, 19)
    if data is None or hidden is None or cell is None or len(data.shape) < 2 or len(hidden.shape) < 2:
        return ()
    batch = data.shape[1] if op.options.get("time_major") else data.shape[0]
    cell_bytes = TENSOR_TYPES.get(cell.type_code, ("", None))[1] or 0
    count = 3 if data.type_name in ("int8", "int16") and cell.type_name == "int16" else 4
    size = batch * hidden.shape[1] * cell_bytes
    return tuple(ScratchRequest(size_bytes=size, purpose=f"LSTM gate buffer {k}") for k in range(count))


def _transpose_conv(build: CmsisNnBuild, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """cmsis_nn/transpose_conv.cc ``Prepare`` (inputs: 0 output shape, 1 filter, 2 input, 3 bias).

    int8: ``arm_transpose_conv_s8_get_buffer_size`` then the reverse-filter buffer, both requested
    even at 0 bytes (the calls sit inside ``TFLITE_DCHECK``, which still evaluates them). int16:
    ``output elements`` int64, then, from ``CalculateOpData``, an int16 bias widened to int64.
    """
    data, weights, out = _conv_shapes(subgraph, op, 2)
    kind, output = _type(_input(subgraph, op, 2)), _output(subgraph, op)
    if kind == "int16" and output is not None:
        accumulators = output.element_count * INT64_BYTES
        requests = [ScratchRequest(size_bytes=accumulators, purpose="TRANSPOSE_CONV int64 accumulators")]
        bias = _input(subgraph, op, 3)
        if bias is not None and bias.type_name == "int16":
            requests.append(
                ScratchRequest(size_bytes=bias.element_count * INT64_BYTES, purpose="TRANSPOSE_CONV int64 bias")
            )
        return tuple(requests)
    if kind != "int8" or data is None or weights is None or out is None:
        return ()
    f = Dims(n=out.c, h=weights.h, w=weights.w, c=data.c)
    stride_h, stride_w = _int(op, "stride_h", 1), _int(op, "stride_w", 1)
    work, reverse = transpose_conv_s8_buffers(build, stride_h, stride_w, data, f, out)
    return (
        ScratchRequest(size_bytes=work, purpose="CMSIS-NN arm_transpose_conv_s8 buffer"),
        ScratchRequest(size_bytes=reverse, purpose="CMSIS-NN arm_transpose_conv_s8 reversed filter"),
    )


def _batch_matmul(build: CmsisNnBuild, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """cmsis_nn/batch_matmul.cc ``Prepare``: int8 asks ``arm_fully_connected_s8_get_buffer_size``
    with the output shape, i.e. MVE ``columns*4`` where columns is the output's last dimension
    (batch_matmul_common.cc ``ReshapeOutputTensor``: rhs dim -2 with adj_y, else -1); 0 elsewhere."""
    lhs, rhs = _input(subgraph, op, 0), _input(subgraph, op, 1)
    if lhs is None or rhs is None or lhs.type_name != "int8" or rhs.type_name != "int8" or len(rhs.shape) < 2:
        return ()
    columns = rhs.shape[-2] if op.options.get("adj_y") else rhs.shape[-1]
    return _request(columns * INT32_BYTES if build.isa == "mve" else 0, "CMSIS-NN arm_fully_connected_s8 kernel sums")


def _add_n(build: CmsisNnBuild, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """kernels/add_n.cc ``CalculateOpData`` (reference kernel): ``sizeof(T*)`` per input, 4 bytes."""
    del build
    if _type(_output(subgraph, op)) not in ("float32", "int8"):
        return ()
    return (ScratchRequest(size_bytes=POINTER_BYTES * len(op.inputs), purpose="ADD_N input pointers"),)


_Rule = Callable[[CmsisNnBuild, Subgraph, Operator], tuple[ScratchRequest, ...]]

#: Op -> CMSIS-NN rule; CMSIS_NN_OPS not listed here request nothing, other ops follow reference.
SCRATCH_RULES: dict[str, _Rule] = {
    "CONV_2D": _conv,
    "DEPTHWISE_CONV_2D": _depthwise,
    "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": _average_pool,
    "SVDF": _svdf,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": _lstm,
    "TRANSPOSE_CONV": _transpose_conv,
    "BATCH_MATMUL": _batch_matmul,
    "ADD_N": _add_n,
}


def cmsis_nn_scratch(build: CmsisNnBuild, model: Model, subgraph: Subgraph, op: Operator) -> tuple[ScratchRequest, ...]:
    """The scratch buffers ``op``'s Prepare requests in a CMSIS-NN build, in request order."""
    rule = SCRATCH_RULES.get(op.op_name)
    if rule is not None:
        return rule(build, subgraph, op)
    if op.op_name in CMSIS_NN_OPS:
        return ()
    return reference_scratch(model, subgraph, op)


# ----------------------------------------------------------------------------- support


def _types(subgraph: Subgraph, op: Operator, data_slot: int) -> tuple[str | None, str | None, str | None]:
    return (
        _type(_input(subgraph, op, data_slot)),
        _type(_input(subgraph, op, 1)),
        _type(_output(subgraph, op)),
    )


def _cmsis_refusal(subgraph: Subgraph, op: Operator) -> str | None:
    """Type checks in the CMSIS-NN Prepares that are stricter than the reference kernels'."""
    name = op.op_name
    if name in ("DEPTHWISE_CONV_2D", "TRANSPOSE_CONV"):
        data, weights, out = _types(subgraph, op, 2 if name == "TRANSPOSE_CONV" else 0)
        pairs = {("float32", "float32"), ("int16", "int8"), ("int8", "int8")}
        pairs |= {("int8", "int4")} if name == "DEPTHWISE_CONV_2D" else set()
        if None not in (data, weights, out) and (data != out or (data, weights) not in pairs):
            return f"the CMSIS-NN {name} kernel has no {data} input / {weights} filter / {out} output variant"
    if name == "FULLY_CONNECTED":
        data_tensor, weights_tensor = _input(subgraph, op, 0), _input(subgraph, op, 1)
        if data_tensor is None or weights_tensor is None or data_tensor.type_name == "float32":
            return None
        quantization = weights_tensor.quantization
        per_channel = quantization is not None and len(quantization.scale) > 1
        pair = f"{data_tensor.type_name}/{weights_tensor.type_name}"
        if per_channel and pair != "int8/int8":
            return f"the CMSIS-NN FULLY_CONNECTED kernel has per-channel filters only for int8/int8, got {pair}"
    if name == "BATCH_MATMUL":
        lhs, rhs, out = _types(subgraph, op, 0)
        if None not in (lhs, rhs, out) and (lhs != rhs or lhs != out or lhs not in ("float32", "int16", "int8")):
            return f"the CMSIS-NN BATCH_MATMUL kernel needs float32, int16 or int8 throughout, got {lhs}/{rhs}"
    if name == "SVDF" and _type(_input(subgraph, op, 0)) == "int8" and _input(subgraph, op, 3) is None:
        return "the CMSIS-NN SVDF kernel reads the bias scale of an int8 SVDF, so it needs a bias input"
    return None


def cmsis_nn_unsupported_reason(model: Model, subgraph: Subgraph, op: Operator) -> str | None:
    """Why TFLM built with CMSIS-NN cannot run ``op`` (None when it can): the reference build's
    op list and refusals, plus the stricter type checks of the CMSIS-NN wrappers."""
    if op.custom_code == ETHOS_U_CUSTOM:
        return (
            f"custom op '{ETHOS_U_CUSTOM}' runs on an Arm Ethos-U NPU, which a CMSIS-NN build "
            "without CO_PROCESSOR=ethos_u does not drive"
        )
    if op.custom_code is not None and op.custom_code not in SUPPORTED_CUSTOM:
        return f"custom op '{op.custom_code}' has no kernel in TFLM"
    if op.custom_code is None and op.op_name not in SUPPORTED_BUILTINS:
        return f"builtin op {op.op_name} has no kernel in TFLM"
    return _cmsis_refusal(subgraph, op) or reference_unsupported_reason(model, subgraph, op)


def cmsis_nn_library(isa: Isa, *, compiler: Compiler = "gcc", optimize_for: OptimizeFor = "speed") -> KernelLibrary:
    """A kernel library for TFLM + CMSIS-NN compiled for ``isa`` (``mve``, ``dsp`` or ``none``).

    Raises
    ------
    ArenaError
        An unknown ISA, compiler or optimisation goal.

    Examples
    --------
    >>> cmsis_nn_library("mve").name
    'cmsis-nn-mve'
    >>> cmsis_nn_library("sse")
    Traceback (most recent call last):
    ...
    arena.errors.ArenaError: unknown CMSIS-NN ISA 'sse'; choose one of: mve, dsp, none
    """
    build = CmsisNnBuild(isa=isa, compiler=compiler, optimize_for=optimize_for)
    core = {
        "mve": "Cortex-M55/M85, Helium",
        "dsp": "Cortex-M4/M7/M33, DSP extension",
        "none": "Cortex-M0+/M3, no DSP",
    }[isa]
    return KernelLibrary(
        name=build.library_name,
        description=f"TFLM with CMSIS-NN {CMSIS_NN_VERSION} kernels ({core}; {compiler}, for {optimize_for})",
        unsupported_reason=cmsis_nn_unsupported_reason,
        scratch_requests=functools.partial(cmsis_nn_scratch, build),
    )


CMSIS_NN_DSP = cmsis_nn_library("dsp")
CMSIS_NN_MVE = cmsis_nn_library("mve")
CMSIS_NN_PLAIN = cmsis_nn_library("none")
#: A target's ``kernel_isa`` -> the default-build CMSIS-NN library.
CMSIS_NN_BY_ISA: dict[str, KernelLibrary] = {"dsp": CMSIS_NN_DSP, "mve": CMSIS_NN_MVE, "none": CMSIS_NN_PLAIN}


def kernel_for_op(subgraph: Subgraph, op: Operator, isa: str) -> str:
    """The CMSIS-NN function an int8 CONV_2D / DEPTHWISE_CONV_2D runs on a core with ``isa``.

    The wrappers' dispatch as restated by :func:`conv_s8_buffer` and :func:`depthwise_s8_buffer`
    (e.g. ``arm_convolve_1x1_s8_fast``, ``arm_depthwise_conv_3x3_s8``); "" for any other op, or
    when the shapes are not the 4-D int8 ones those wrappers take. The cost model keys its
    instruction counts by it and the shrink rules check each path's memory access order by it.
    """
    if op.op_name not in ("CONV_2D", "DEPTHWISE_CONV_2D") or len(op.inputs) < 2 or not op.outputs:
        return ""
    tensors = subgraph.tensors
    data, weights, out = (tensors[t] if 0 <= t < len(tensors) else None for t in (*op.inputs[:2], op.outputs[0]))
    if data is None or weights is None or out is None:
        return ""
    if any(len(t.shape) != 4 or min(t.shape) < 0 for t in (data, weights, out)):
        return ""
    if (data.type_name, weights.type_name) != ("int8", "int8"):
        return ""
    i, o = Dims(*data.shape), Dims(*out.shape)
    build = CmsisNnBuild(isa=cast(Isa, isa))  # CmsisNnBuild rejects an unknown ISA itself
    if op.op_name == "CONV_2D":
        f = Dims(1, weights.shape[1], weights.shape[2], weights.shape[3])
        return conv_s8_buffer(build, tflm_padding(op, i, f), i, f, o)[1]
    f = Dims(1, weights.shape[1], weights.shape[2], o.c)
    return depthwise_s8_buffer(build, tflm_padding(op, i, f), i, f, o)[1]


__all__ = [
    "kernel_for_op",
    "CMSIS_NN_BY_ISA",
    "CMSIS_NN_COMMIT",
    "CMSIS_NN_DSP",
    "CMSIS_NN_MVE",
    "CMSIS_NN_OPS",
    "CMSIS_NN_PLAIN",
    "CMSIS_NN_VERSION",
    "CmsisNnBuild",
    "ConvGeometry",
    "Dims",
    "cmsis_nn_library",
    "cmsis_nn_scratch",
    "cmsis_nn_unsupported_reason",
    "conv_s8_buffer",
    "conv_s16_buffer",
    "depthwise_s4_buffer",
    "depthwise_s8_buffer",
    "tflm_padding",
    "transpose_conv_s8_buffers",
]
