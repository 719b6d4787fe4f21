"""Row-band splitting of a small DAG region: residual blocks, where a chain cannot reach.

:mod:`arena.shrink.patches` splits linear chains. A ResNet's memory peak sits in a residual
block: the block input is read twice (by the first convolution and by the ADD), so no chain
covers the block and the input stays whole while both convolution outputs exist. This rule
computes a contiguous run of CONV_2D / DEPTHWISE_CONV_2D / ADD ops with one output tensor in row
bands: per band, the rows each tensor must supply are found backwards from the band's output rows
(the hull over the tensor's readers), every region input is sliced to those rows once, a reader
that needs fewer rows than its input band holds gets its own ``STRIDED_SLICE`` of them, the
convolutions run as in :mod:`arena.shrink.patches` (PAD where SAME padding reaches in, VALID
convolution), the ADD runs on equal-shape bands, and one ``CONCATENATION`` on the height axis
writes the region's output tensor.

Why the outputs are bit-identical: each band convolution is the patch rule's (same sums over the
same inputs, padded taps on the zero point, docstring of :mod:`arena.shrink.patches`), and int8
ADD computes each output element from the two input elements at the same index only (reference
integer_ops/add.h; CMSIS-NN ``arm_elementwise_add_s8``), with the same quantization parameters;
slices and concatenations copy bytes. The rule is pure: model records in,
:class:`arena.model.rewrite.GraphRewrite` out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from arena.model.records import Model, Operator, Subgraph
from arena.model.rewrite import GraphRewrite, NewOp, NewTensor, int32_bytes
from arena.shrink.patches import SPLITTABLE, PatchSplit, _Layer, _layer

#: schema.fbs ``Padding`` VALID; TensorType INT32 and INT8.
_VALID, _INT32, _INT8 = 1, 2, 9
#: The elementwise ops a region may hold (same-shape int8 inputs: no broadcast).
ELEMENTWISE = {"ADD": "AddOptions"}

Rows = tuple[int, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Node:
    op: Operator
    layer: _Layer | None  # None for an elementwise op
    inputs: tuple[int, ...]  # activation inputs (convolutions: the first only)


def _elementwise(graph: Subgraph, op: Operator) -> bool:
    if op.op_name not in ELEMENTWISE or len(op.inputs) != 2 or len(op.outputs) != 1:
        return False
    shapes = {graph.tensors[t].shape for t in (*op.inputs, *op.outputs)}
    types = {graph.tensors[t].type_code for t in (*op.inputs, *op.outputs)}
    (shape,) = shapes if len(shapes) == 1 else ((),)
    return types == {_INT8} and len(shape) == 4 and shape[0] == 1 and op.inputs[0] != op.inputs[1]


def _nodes(model: Model, first_op: int, last_op: int) -> list[_Node] | None:
    graph = model.subgraphs[0]
    nodes = []
    for index in range(first_op, last_op + 1):
        op = graph.operators[index]
        if op.op_name in SPLITTABLE and len(op.inputs) >= 2:
            layer = _layer(graph, op, graph.tensors[op.inputs[1]].shape)
            if layer is None:
                return None
            nodes.append(_Node(op=op, layer=layer, inputs=(op.inputs[0],)))
        elif _elementwise(graph, op):
            nodes.append(_Node(op=op, layer=None, inputs=op.inputs))
        else:
            return None
    return nodes


def region_output(model: Model, first_op: int, last_op: int, *, residual: bool = True) -> int | None:
    """The one tensor ops ``first_op..last_op`` hand on (None when there is not exactly one).

    Every other tensor they write must be read only inside the span. With ``residual`` the span
    must hold at least one elementwise op (a plain chain is :func:`arena.shrink.patches.split_chain`'s).
    """
    graph = model.subgraphs[0]
    nodes = _nodes(model, first_op, last_op)
    if nodes is None or (residual and not any(node.layer is None for node in nodes)):
        return None
    written = {node.op.outputs[0] for node in nodes}
    outside = set(graph.outputs)
    for op in graph.operators:
        if not first_op <= op.index <= last_op:
            outside.update(op.inputs)
    handed_on = written & outside
    if len(handed_on) != 1 or nodes[-1].op.outputs[0] not in handed_on:
        return None
    return nodes[-1].op.outputs[0]


def _input_rows(node: _Node, rows: Rows) -> tuple[Rows, int, int]:
    """Input rows a node needs for output ``rows`` (clipped), and the top/bottom pad rows."""
    if node.layer is None:
        return rows, 0, 0
    layer = node.layer
    (kh, _), (sh, _), height = layer.kernel, layer.stride, layer.in_shape[1]
    first = rows[0] * sh - layer.pad_top
    last = (rows[1] - 1) * sh - layer.pad_top + kh - 1
    return (max(first, 0), min(last, height - 1) + 1), max(0, -first), max(0, last - (height - 1))


def _needs(nodes: list[_Node], output: int, rows: Rows) -> dict[int, Rows]:
    """Rows of every region tensor a band of ``rows`` of ``output`` needs (hull over readers)."""
    need: dict[int, Rows] = {output: rows}
    for node in reversed(nodes):
        out = node.op.outputs[0]
        if out not in need:
            continue
        wanted, _, _ = _input_rows(node, need[out])
        for t in node.inputs:
            lo, hi = need.get(t, wanted)
            need[t] = (min(lo, wanted[0]), max(hi, wanted[1]))
    return need


def split_region(
    model: Model, first_op: int, last_op: int, bands: int, *, residual: bool = True, carry: bool = False
) -> PatchSplit | None:
    """The rewrite computing ops ``first_op..last_op`` (a region, see :func:`region_output`) in
    ``bands`` row bands of its output, or None if it cannot. Bands split the output's rows as
    evenly as possible (sizes differ by at most one).

    ``carry``: compute every row of every region tensor once, carrying the halo rows a later band
    needs over as a slice (:func:`_carried_bands`), instead of recomputing them in each band."""
    output = region_output(model, first_op, last_op, residual=residual)
    nodes = _nodes(model, first_op, last_op)
    if output is None or nodes is None or bands < 2:
        return None
    graph = model.subgraphs[0]
    out_rows = graph.tensors[output].shape[1]
    if bands > out_rows:
        return None
    written = {node.op.outputs[0] for node in nodes}
    tensors: list[NewTensor] = []
    base = len(graph.tensors)

    def add(tensor: NewTensor) -> int:
        tensors.append(tensor)
        return base + len(tensors) - 1

    ops: list[NewOp] = []
    band_outputs = []
    band_rows = [(band * out_rows // bands, (band + 1) * out_rows // bands) for band in range(bands)]
    if carry:
        band_outputs = _carried_bands(graph, nodes, output, band_rows, add, ops)
    else:
        for band, rows in enumerate(band_rows):
            need = _needs(nodes, output, rows)
            band_outputs.append(_band(graph, nodes, need, band, add, ops))
    ops.append(NewOp(op_name="CONCATENATION", inputs=tuple(band_outputs), outputs=(output,),
                     options_type="ConcatenationOptions", options={"axis": 1}))  # fmt: skip
    kept = tuple(range(first_op))
    after = tuple(range(last_op + 1, len(graph.operators)))
    retired = tuple(sorted(written - {output}))
    rewrite = GraphRewrite(operators=(*kept, *ops, *after), tensors=tuple(tensors), retired=retired)
    return PatchSplit(first_op=first_op, last_op=last_op, bands=bands, rewrite=rewrite, carried=carry)


def _slice(
    graph: Subgraph, source: int, like: int, rows: Rows, name: str, add: Callable[[NewTensor], int], ops: list[NewOp]
) -> int:
    """A STRIDED_SLICE of whole rows ``rows`` of ``source`` (shaped like tensor ``like`` otherwise)."""
    _, _, width, channels = graph.tensors[like].shape
    lo, hi = rows
    begin = add(NewTensor(name=f"{name}/begin", shape=(4,), type_code=_INT32, data=int32_bytes([0, lo, 0, 0])))
    end = add(NewTensor(name=f"{name}/end", shape=(4,), type_code=_INT32, data=int32_bytes([1, hi, width, channels])))
    strides = add(NewTensor(name=f"{name}/strides", shape=(4,), type_code=_INT32, data=int32_bytes([1, 1, 1, 1])))
    out = add(NewTensor(name=f"{name}/rows", shape=(1, hi - lo, width, channels), type_code=_INT8,
                        quantization_of=like))  # fmt: skip
    ops.append(NewOp(op_name="STRIDED_SLICE", inputs=(source, begin, end, strides), outputs=(out,),
                     options_type="StridedSliceOptions", version=2))  # fmt: skip
    return out


def _band(
    graph: Subgraph,
    nodes: list[_Node],
    need: dict[int, Rows],
    band: int,
    add: Callable[[NewTensor], int],
    ops: list[NewOp],
) -> int:
    """Append one band's ops; returns the band's output tensor."""
    prefix = f"arena_band/b{band}"
    # Region tensor -> (band tensor, its rows). A region input is sliced once per band, where it is
    # first read, to the hull of its readers' rows.
    held: dict[int, tuple[int, Rows]] = {}
    for index, node in enumerate(nodes):
        out = node.op.outputs[0]
        if out not in need:
            continue
        for t in node.inputs:
            if t not in held:
                held[t] = (_slice(graph, t, t, need[t], f"{prefix}/in{t}", add, ops), need[t])
        y = _band_op(graph, node, need[out], held, set(), f"{prefix}/l{index}", add, ops)
        held[out] = (y, need[out])
    return held[nodes[-1].op.outputs[0]][0]


def _carried_bands(
    graph: Subgraph,
    nodes: list[_Node],
    output: int,
    band_rows: list[Rows],
    add: Callable[[NewTensor], int],
    ops: list[NewOp],
) -> list[int]:
    """Append the ops of every band, each row of each region tensor computed once; returns the
    band pieces of ``output``.

    Why: recomputing a halo in every band costs MACs that grow with depth (a band of a block's
    output reaches back several rows through every convolution before it), so a deep region in
    many bands soon exceeds any MAC budget. Here band k computes only the rows of a tensor that no
    earlier band computed. The rows below them that a reader still needs (its halo) were kept from
    the band before as a small ``STRIDED_SLICE`` (the carry) and are joined to the new rows by a
    ``CONCATENATION`` on the height axis, the new rows in place in its output
    (:mod:`arena.shrink.alias`), so the join copies the carried rows only (the search keeps the
    carry itself out of place: :func:`arena.shrink.search.relation_sets`). Bit-identical for
    the same reasons as the recomputing bands: every output row is the same convolution or ADD
    over the same input values.
    """
    bands = len(band_rows)
    region = {node.op.outputs[0] for node in nodes}
    whole = {t for node in nodes for t in node.inputs} - region  # the region's inputs
    # Rows [0, top) of each region tensor exist after band k.
    tops = [{t: hi for t, (_, hi) in _needs(nodes, output, (0, rows[1])).items()} for rows in band_rows]

    def new_rows(band: int, tensor: int) -> Rows:
        return (tops[band - 1].get(tensor, 0) if band else 0, tops[band].get(tensor, 0))

    # The lowest row of each region tensor a reader wants from band k on: what band k-1 carries.
    lows: list[dict[int, int]] = [{} for _ in range(bands + 1)]
    for band in reversed(range(bands)):
        lows[band] = dict(lows[band + 1])
        for node in nodes:
            rows = new_rows(band, node.op.outputs[0])
            if rows[0] < rows[1]:
                (lo, _), _, _ = _input_rows(node, rows)
                lows[band].update({t: min(lo, lows[band].get(t, lo)) for t in node.inputs if t in region})
    carried: dict[int, tuple[int, Rows]] = {}  # region tensor -> (tensor holding its carried rows, rows)
    pieces = []
    for band in range(bands):
        prefix = f"arena_band/b{band}"
        window: dict[int, tuple[int, Rows]] = {}  # region tensor -> what band readers slice from
        for index, node in enumerate(nodes):
            out = node.op.outputs[0]
            rows = new_rows(band, out)
            name = f"{prefix}/l{index}"
            if rows[0] < rows[1]:
                y = _band_op(graph, node, rows, window, whole, name, add, ops)
                if out == output:
                    pieces.append(y)
                    continue
                window[out] = (y, rows)
                if out in carried:  # the carried rows, then the new ones
                    held, (lo, _) = carried[out]
                    shape = (1, rows[1] - lo, *graph.tensors[out].shape[2:])
                    joined = add(NewTensor(name=f"{name}/window", shape=shape, type_code=_INT8, quantization_of=out))
                    ops.append(NewOp(op_name="CONCATENATION", inputs=(held, y), outputs=(joined,),
                                     options_type="ConcatenationOptions", options={"axis": 1}))  # fmt: skip
                    window[out] = (joined, (lo, rows[1]))
            elif out in carried:
                window[out] = carried[out]
            else:
                continue
            # What later bands want is sliced off now, before this band's readers: the window then
            # dies at its last reader here, whose output may overlap it (arena.shrink.overlap).
            tensor, (lo, hi) = window[out]
            start = lows[band + 1].get(out, hi)
            carried.pop(out, None)
            if start < hi:
                if start > lo:
                    tensor = _slice(graph, tensor, out, (start - lo, hi - lo), f"{name}/carry", add, ops)
                carried[out] = (tensor, (start, hi))
    return pieces


def _band_op(
    graph: Subgraph,
    node: _Node,
    rows: Rows,
    window: dict[int, tuple[int, Rows]],
    whole: set[int],
    name: str,
    add: Callable[[NewTensor], int],
    ops: list[NewOp],
) -> int:
    """Append the ops computing rows ``rows`` of ``node``'s output from the ``window`` rows of its
    inputs (an input in ``whole``: sliced straight from that whole tensor); returns the new rows'
    tensor."""
    out = node.op.outputs[0]
    wanted, top, bottom = _input_rows(node, rows)
    sources = []
    for position, t in enumerate(node.inputs):
        if t in whole:  # a region input, whole: slice the rows straight from it
            sources.append(_slice(graph, t, t, wanted, f"{name}/x{position}", add, ops))
            continue
        tensor, have = window[t]
        assert have[0] <= wanted[0] and wanted[1] <= have[1], "a band reads rows no band kept"
        if have != wanted:
            relative = (wanted[0] - have[0], wanted[1] - have[0])
            tensor = _slice(graph, tensor, t, relative, f"{name}/x{position}", add, ops)
        sources.append(tensor)
    y = add(NewTensor(name=f"{name}/out", shape=(1, rows[1] - rows[0], *graph.tensors[out].shape[2:]),
                      type_code=_INT8, quantization_of=out))  # fmt: skip
    if node.layer is None:
        ops.append(NewOp(op_name=node.op.op_name, inputs=tuple(sources), outputs=(y,),
                         options_type=ELEMENTWISE[node.op.op_name],
                         options={k: int(v) for k, v in node.op.options.items() if isinstance(v, (int, bool))},
                         version=node.op.version))  # fmt: skip
    else:
        ops.append(_conv(graph, node.layer, sources[0], wanted, top, bottom, y, name, add, ops))
    return y


def _conv(
    graph: Subgraph,
    layer: _Layer,
    source: int,
    rows: Rows,
    top: int,
    bottom: int,
    y: int,
    name: str,
    add: Callable[[NewTensor], int],
    ops: list[NewOp],
) -> NewOp:
    """The band convolution (after its PAD, appended to ``ops``, when SAME padding reaches in)."""
    x = layer.op.inputs[0]
    current = source
    if top or bottom or layer.pad_left or layer.pad_right:
        pads = [0, 0, top, bottom, layer.pad_left, layer.pad_right, 0, 0]
        paddings = add(NewTensor(name=f"{name}/paddings", shape=(4, 2), type_code=_INT32, data=int32_bytes(pads)))
        padded = add(NewTensor(
            name=f"{name}/padded",
            shape=(1, rows[1] - rows[0] + top + bottom, layer.in_shape[2] + layer.pad_left + layer.pad_right,
                   layer.in_shape[3]),
            type_code=_INT8, quantization_of=x))  # fmt: skip
        ops.append(NewOp(op_name="PAD", inputs=(current, paddings), outputs=(padded,),
                         options_type="PadOptions", version=2))  # fmt: skip
        current = padded
    options = {k: int(str(v)) for k, v in layer.op.options.items() if isinstance(v, int)}
    options["padding"] = _VALID
    return NewOp(op_name=layer.op.op_name, inputs=(current, *layer.op.inputs[1:]), outputs=(y,),
                 options_type=SPLITTABLE[layer.op.op_name], options=options, version=layer.op.version)  # fmt: skip


__all__ = ["ELEMENTWISE", "region_output", "split_region"]
