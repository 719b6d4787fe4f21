"""Instructions per operator of real TFLM on an emulated Cortex-M core, predicted from shapes.

``arena measure`` counts the instructions every op's Invoke executes: TFLM 90b983c2 with a kernel
library built for the core, run in ``qemu-system-arm -icount shift=0`` (docs/on-target.md). This
module predicts those counts without the emulator, per (core, kernel library) pair, from the
op's shape: a small linear model per op kind with non-negative coefficients over shape features,
fitted to measured ops by ``benchmarks/bench_instructions.py`` (:mod:`arena.cost.instructions_fit`)
and shipped in ``instructions.json``. They are instruction counts, not cycles: QEMU models no
pipeline, caches or wait states (docs/cost-model.md, section 8).

Features of one op (:data:`FEATURES`; MACs and elements are :mod:`arena.cost.macs`'s counts):

* ``one``: 1, the op's fixed cost (Invoke dispatch, parameter set-up);
* ``macs``, ``elements``: multiply-accumulates and element operations;
* ``outputs``, ``inputs``: elements of output 0 and input 0;
* ``rows``: output elements / output depth (a convolution's output pixels, a fully connected
  layer's batches, a softmax's rows): what per-position loops and requantization set-up scale with;
* ``taps``: rows x filter height x width for CONV_2D and DEPTHWISE_CONV_2D (the kernels gather
  the input window tap by tap, one call each);
* ``window``: taps x filter depth for CONV_2D (the im2col elements those calls copy).

Op kinds are keyed finest first, and an op uses the first key the fit has a model for:

1. ``CONV_2D/arm_convolve_s8``: the op and its code path. For int8 CONV_2D and
   DEPTHWISE_CONV_2D under CMSIS-NN that is the kernel the wrapper dispatches to on the core's
   ISA (:mod:`arena.kernels.cmsis_nn_buffers` restates the dispatch; ``arm_depthwise_conv_s8`` is
   split into its ``depthwise_conv_s8_mult_4`` and ``depthwise_conv_s8_generic`` loops); for
   every other op the type of its first input (``ADD/int8``, ``QUANTIZE/float32``), since the
   kernels branch on it;
2. ``CONV_2D``: the TFLM op;
3. ``kind:conv``: every op of the cost class (:class:`arena.cost.macs.OpKind`), pooled;
4. ``all``: every measured op, pooled (MACs, elements, constant).

A key has a model when its rows come from enough distinct models (``min_models`` in the file);
keys with fewer fall through to the pooled ones, and the prediction names the key it used.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from arena.cost.macs import OpKind, count_op
from arena.cost.package_data import read_versioned
from arena.errors import ArenaError
from arena.kernels.cmsis_nn import kernel_for_op, tflm_padding
from arena.kernels.cmsis_nn_buffers import Dims
from arena.model.records import Model, Operator, Subgraph, Tensor

#: ``instructions.json`` layout version this module reads.
INSTRUCTIONS_SCHEMA_VERSION = 1
#: The TFLM commit arena models and the emulator builds (docs/on-target.md).
TFLM_COMMIT = "90b983c2"
#: Shape features, in the order a fitted row stores them.
FEATURES = ("one", "macs", "elements", "outputs", "inputs", "rows", "taps", "window")
#: The pooled key every op falls back to last.
ALL_KEY = "all"
_WINDOW_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D")


@dataclass(frozen=True, slots=True, kw_only=True)
class OpShape:
    """One operator's shape features and the keys of its op kind, finest first."""

    subgraph_index: int
    op_index: int
    op_name: str
    kind: OpKind
    #: The code path (a CMSIS-NN kernel name, else the first input's type); "" for an op without inputs.
    path: str
    #: Values of :data:`FEATURES`, in order.
    values: tuple[float, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        """The op-kind keys this op can be predicted with, finest first (module docstring)."""
        own = (f"{self.op_name}/{self.path}",) if self.path else ()
        return (*own, self.op_name, f"kind:{self.kind}", ALL_KEY)

    def feature(self, name: str) -> float:
        """One feature's value by name."""
        return self.values[FEATURES.index(name)]


def _tensor(subgraph: Subgraph, indices: tuple[int, ...], slot: int) -> Tensor | None:
    if slot >= len(indices) or not 0 <= indices[slot] < len(subgraph.tensors):
        return None
    return subgraph.tensors[indices[slot]]


def _elements(tensor: Tensor | None) -> int:
    return 0 if tensor is None else math.prod(max(dim, 0) for dim in tensor.shape)


def _cmsis_nn_kernel(subgraph: Subgraph, op: Operator, isa: str) -> str:
    """The CMSIS-NN kernel an int8 CONV_2D / DEPTHWISE_CONV_2D runs on a core with ``isa``."""
    kernel = kernel_for_op(subgraph, op, isa)
    if kernel != "arm_depthwise_conv_s8":
        return kernel
    # arm_depthwise_conv_s8.c runs depth multipliers of 4, 8, ... four outputs at a time.
    data, weights, out = (subgraph.tensors[t] for t in (*op.inputs[:2], op.outputs[0]))
    i, o = Dims(*data.shape), Dims(*out.shape)
    geometry = tflm_padding(op, i, Dims(1, weights.shape[1], weights.shape[2], o.c))
    multiplier = o.c // i.c if i.c else 0
    mult_4 = multiplier % 4 == 0 and i.n == 1 and (geometry.dilation_h, geometry.dilation_w) == (1, 1)
    return "depthwise_conv_s8_mult_4" if mult_4 else "depthwise_conv_s8_generic"


def op_shape(model: Model, subgraph: Subgraph, op: Operator, *, kernels: str, isa: str) -> OpShape:
    """The features and op-kind keys of one operator for a kernel library on a core's ISA.

    Parameters
    ----------
    model, subgraph, op
        The operator and where it sits (for :func:`arena.cost.macs.count_op`'s messages).
    kernels
        The kernel family (``cmsis-nn`` or ``reference``): CMSIS-NN convolutions are keyed by the
        kernel they dispatch to.
    isa
        The core's CMSIS-NN ISA (``dsp``, ``mve``, ``none``), which decides that kernel.

    Raises
    ------
    ArenaError
        When the op's shapes do not fit its MAC counting rule.

    Examples
    --------
    A 1x1 convolution from 8 to 16 channels over 4x4 pixels runs CMSIS-NN's fast 1x1 kernel:

    >>> from arena.model.records import Model, Operator, Subgraph, Tensor
    >>> def t(i, shape):
    ...     return Tensor(index=i, name=f"t{i}", shape=shape, type_code=9, buffer=0,
    ...                   has_data=False, is_variable=False)
    >>> conv = Operator(index=0, opcode_index=0, builtin_code=3, op_name="CONV_2D", custom_code=None,
    ...                 version=1, inputs=(0, 1, 2), outputs=(3,), options={"padding": 1})
    >>> graph = Subgraph(index=0, name="", operators=(conv,), inputs=(0,), outputs=(3,),
    ...     tensors=(t(0, (1, 4, 4, 8)), t(1, (16, 1, 1, 8)), t(2, (16,)), t(3, (1, 4, 4, 16))))
    >>> model = Model(path="m.tflite", sha256="", size_bytes=0, version=3, description="",
    ...               subgraphs=(graph,), metadata=(), buffer_count=0, data=b"")
    >>> shape = op_shape(model, graph, conv, kernels="cmsis-nn", isa="dsp")
    >>> shape.keys
    ('CONV_2D/arm_convolve_1x1_s8_fast', 'CONV_2D', 'kind:conv', 'all')
    >>> shape.feature("macs"), shape.feature("rows"), shape.feature("taps"), shape.feature("window")
    (2048.0, 16.0, 16.0, 128.0)
    """
    count = count_op(model, subgraph, op)
    output = _tensor(subgraph, op.outputs, 0)
    first = _tensor(subgraph, op.inputs, 0)
    outputs = _elements(output)
    depth = output.shape[-1] if output is not None and output.shape and output.shape[-1] > 0 else 1
    rows = outputs // depth
    taps = window = 0
    weights = _tensor(subgraph, op.inputs, 1)
    if op.op_name in _WINDOW_OPS and weights is not None and len(weights.shape) == 4:
        taps = rows * max(weights.shape[1], 0) * max(weights.shape[2], 0)
        window = taps * max(weights.shape[3], 0) if op.op_name == "CONV_2D" else 0
    path = "" if first is None else first.type_name
    if kernels == "cmsis-nn" and op.op_name in _WINDOW_OPS:
        path = _cmsis_nn_kernel(subgraph, op, isa) or path
    values = (1, count.macs, count.elements, outputs, _elements(first), rows, taps, window)
    return OpShape(
        subgraph_index=subgraph.index,
        op_index=op.index,
        op_name=op.op_name,
        kind=count.kind,
        path=path,
        values=tuple(float(v) for v in values),
    )


def model_shapes(model: Model, *, kernels: str, isa: str) -> tuple[OpShape, ...]:
    """:func:`op_shape` for every op of every subgraph, in execution order."""
    return tuple(
        op_shape(model, subgraph, op, kernels=kernels, isa=isa)
        for subgraph in model.subgraphs
        for op in subgraph.operators
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class KindModel:
    """The fitted linear model of one op-kind key: instructions = sum of coefficient x feature."""

    key: str
    #: Feature name -> instructions per unit (all >= 0; features the fit dropped are absent).
    coefficients: dict[str, float]
    rows: int
    models: int

    def predict(self, shape: OpShape) -> float:
        """Instructions for one op (non-negative: features and coefficients are)."""
        return sum(value * shape.feature(name) for name, value in self.coefficients.items())


@dataclass(frozen=True, slots=True, kw_only=True)
class InstructionModel:
    """Fitted per-kind models for one core and kernel library, and what they were fitted on."""

    core: str
    kernels: str
    isa: str
    machine: str
    kinds: dict[str, KindModel]
    min_models: int
    #: Leave-one-model-out median and worst |predicted / measured - 1| per op and per model total.
    lomo_op_median: float
    lomo_op_worst: float
    lomo_total_median: float
    lomo_total_worst: float
    measured_models: int
    measured_ops: int

    def kind_for(self, shape: OpShape) -> KindModel:
        """The finest fitted key of ``shape`` (``all`` always exists)."""
        for key in shape.keys:
            if key in self.kinds:
                return self.kinds[key]
        raise ArenaError(f"instruction model {self.core}/{self.kernels} has no pooled '{ALL_KEY}' model")

    @property
    def basis(self) -> str:
        """One line naming what the numbers are."""
        library = "CMSIS-NN" if self.kernels == "cmsis-nn" else "reference kernels"
        return (
            f"instruction counts of TFLM {TFLM_COMMIT} + {library} on an emulated {self.core}"
            f" (QEMU {self.machine}, -icount shift=0), not cycles; per-kind fit to {self.measured_ops} measured ops"
            f" of {self.measured_models} models, leave-one-model-out median error {self.lomo_op_median:.1%} per op,"
            f" {self.lomo_total_median:.1%} per model"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OpInstructions:
    """One op's predicted instructions and the op-kind key that predicted it."""

    subgraph_index: int
    op_index: int
    op_name: str
    key: str
    pooled: bool
    instructions: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InstructionEstimate:
    """Predicted instructions per op and in total for one model on one core and kernel library."""

    core: str
    kernels: str
    basis: str
    ops: tuple[OpInstructions, ...]

    @property
    def instructions(self) -> int:
        """Sum over the ops (TFLM's Invoke adds its own loop, a few hundred instructions)."""
        return sum(op.instructions for op in self.ops)

    @property
    def pooled_ops(self) -> tuple[OpInstructions, ...]:
        """Ops predicted by a pooled model (their op kind had too few measured rows)."""
        return tuple(op for op in self.ops if op.pooled)


@functools.cache
def _document() -> dict[str, Any]:
    return read_versioned("instructions.json", INSTRUCTIONS_SCHEMA_VERSION)


def instruction_document() -> dict[str, Any]:
    """The shipped ``instructions.json`` (read once): fits, their measurements and provenance."""
    return _document()


def model_from_fit(fit: dict[str, Any]) -> InstructionModel:
    """An :class:`InstructionModel` from one entry of the document's ``fits`` list."""
    kinds = {
        key: KindModel(key=key, coefficients=dict(entry["coefficients"]), rows=entry["rows"], models=entry["models"])
        for key, entry in fit["kinds"].items()
    }
    lomo = fit["lomo"]
    return InstructionModel(
        core=fit["core"],
        kernels=fit["kernels"],
        isa=fit["isa"],
        machine=fit["machine"],
        kinds=kinds,
        min_models=fit["min_models"],
        lomo_op_median=lomo["op_median"],
        lomo_op_worst=lomo["op_worst"],
        lomo_total_median=lomo["total_median"],
        lomo_total_worst=lomo["total_worst"],
        measured_models=fit["measured_models"],
        measured_ops=len(fit["rows"]),
    )


def fitted_pairs() -> tuple[tuple[str, str], ...]:
    """Every (core, kernel family) with a shipped fit."""
    return tuple((fit["core"], fit["kernels"]) for fit in _document()["fits"])


def load_instruction_model(core: str, kernels: str) -> InstructionModel | None:
    """The shipped fit for ``core`` with ``kernels`` (``cmsis-nn`` / ``reference``), or None.

    Examples
    --------
    >>> load_instruction_model("cortex-m0plus", "reference") is None
    True
    """
    for fit in _document()["fits"]:
        if (fit["core"], fit["kernels"]) == (core, kernels):
            return model_from_fit(fit)
    return None


def load_fit_for_isa(kernels: str, isa: str) -> InstructionModel | None:
    """A shipped fit of ``kernels`` built for ``isa`` on any core, or None.

    A core QEMU cannot emulate runs the same CMSIS-NN code as an emulated core of its ISA (the
    Cortex-M85 the Helium code of the M55), so that core's counts stand in for it.

    Examples
    --------
    >>> load_fit_for_isa("cmsis-nn", "none") is None
    True
    """
    for fit in _document()["fits"]:
        if (fit["kernels"], fit["isa"]) == (kernels, isa):
            return model_from_fit(fit)
    return None


def no_fit_reason(core: str, kernels: str) -> str:
    """One line saying why a (core, kernels) pair has no instruction prediction.

    Examples
    --------
    >>> no_fit_reason("cortex-m0plus", "reference").startswith("no instruction fit for cortex-m0plus")
    True
    """
    fitted = ", ".join(f"{c} {k}" for c, k in fitted_pairs()) or "none"
    return (
        f"no instruction fit for {core} with {kernels} kernels (fitted: {fitted});"
        " arena cost --measure counts them on an emulated core where QEMU has one"
    )


def predict_instructions(model: Model, fitted: InstructionModel) -> InstructionEstimate:
    """Predicted instructions of every op of ``model`` under ``fitted`` (rounded per op).

    Raises
    ------
    ArenaError
        When an op's shapes do not fit its MAC counting rule.
    """
    ops = []
    for shape in model_shapes(model, kernels=fitted.kernels, isa=fitted.isa):
        kind = fitted.kind_for(shape)
        ops.append(
            OpInstructions(
                subgraph_index=shape.subgraph_index,
                op_index=shape.op_index,
                op_name=shape.op_name,
                key=kind.key,
                pooled=kind.key.startswith("kind:") or kind.key == ALL_KEY,
                instructions=round(kind.predict(shape)),
            )
        )
    return InstructionEstimate(core=fitted.core, kernels=fitted.kernels, basis=fitted.basis, ops=tuple(ops))
