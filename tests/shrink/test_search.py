"""The shrink search: what each step needs, where the peak is, and a peak at several places."""

from __future__ import annotations

import pytest

from arena.lifetimes import derive_lifetimes
from arena.model.reader import read_model
from arena.shrink.alias import Alias, AliasKind
from arena.shrink.grouped import step_needs
from arena.shrink.search import candidate_regions, candidate_spans, evaluated
from conftest import shared_models_dir

KWS = "mlperf_kws_ref_model.tflite"


def _live_sums(table) -> list[int]:  # type: ignore[no-untyped-def]
    buffers = table.problem.buffers
    steps = max(b.last for b in buffers) + 1
    return [sum(b.size for b in buffers if b.first <= s <= b.last) for s in range(steps)]


def test_needs_without_aliases_are_the_live_bytes() -> None:
    model = read_model(shared_models_dir() / KWS)
    table = derive_lifetimes(model, "cmsis-nn-dsp")
    assert step_needs(model, table, ()) == _live_sums(table)


def test_an_overlap_counts_the_shared_bytes_once() -> None:
    # KWS op 1 is a depthwise conv from an 8,000-byte tensor to another. With its input placed 640
    # bytes into its output the two occupy 8,640 bytes, not 16,000, at the step where both live.
    model = read_model(shared_models_dir() / KWS)
    graph = model.subgraphs[0]
    op = graph.operators[1]
    x, y = op.inputs[0], op.outputs[0]
    table = derive_lifetimes(model, "cmsis-nn-dsp")
    alias = Alias(op=1, kind=AliasKind.OVERLAP, source=x, target=y, byte_offset=640)
    plain, shared = _live_sums(table), step_needs(model, table, (alias,))
    step = next(s.step for s in table.steps if s.op == 1 and s.subgraph == 0)
    assert shared[step] == plain[step] - 16_000 + 8_640
    assert [a - b for a, b in zip(plain, shared, strict=True) if a != b] == [16_000 - 8_640]


def test_kws_peaks_at_its_four_pointwise_convolutions() -> None:
    # Each 1x1 convolution holds two 8,000-byte tensors that no overlap may share on CMSIS-NN; each
    # depthwise one may overlap its output on its input there, so only the four pointwise ops
    # (ops 2, 4, 6, 8) need 16,000 bytes.
    model = read_model(shared_models_dir() / KWS)
    found = evaluated(model.data, KWS, "cmsis-nn-dsp", None, model)
    assert found.head_bytes == 16_000
    assert found.peak_ops == frozenset({2, 4, 6, 8})
    assert found.profile[:5] == (16_000,) * 4 + (found.profile[4],) and found.profile[4] < 16_000
    spans = set(candidate_spans(model, found.peak_ops))
    assert (2, 2) in spans and (8, 8) in spans  # single pointwise ops are candidates
    assert (0, 8) in spans  # prefixes of the run, as before
    assert not list(candidate_regions(model, found.peak_ops))  # no ADD in KWS


def test_a_peak_at_several_places_is_levelled_for_free() -> None:
    # No single split lowers KWS's head on CMSIS-NN (four equal peaks); splitting each pointwise
    # convolution in row bands costs no MACs (no halo), and after all four the head drops.
    from arena.commands.shrink import shrink_model

    result = shrink_model(shared_models_dir() / KWS, kernels="cmsis-nn-dsp", prove=False)
    assert result.macs_after == result.macs_before
    assert result.head_after_bytes < 0.8 * result.head_before_bytes
    assert not result.simulation_problems
    levelled = [s for s in result.steps if s.name == "patches" and s.head_bytes == result.head_before_bytes]
    assert len(levelled) >= 3


@pytest.mark.oracle
def test_residual_region_split_is_found_and_proven_for_resnet() -> None:
    from arena.commands.shrink import shrink_model

    result = shrink_model(shared_models_dir() / "mlperf_ic_pretrainedResnet_quant.tflite", kernels="reference")
    assert result.proven and result.tflm is not None and result.tflm.outputs_identical
    # Issue 15's target for the image models: half the head or less. Block 2 alone floors at
    # exactly half (its input and one output), so this needs both blocks in bands, halos carried.
    assert result.head_after_bytes <= 0.5 * result.head_before_bytes
    assert result.macs_after <= 1.1 * result.macs_before


def test_grown_overlaps_are_chain_links_and_pack_no_worse() -> None:
    from arena.model.rewrite import rewrite_graph
    from arena.shrink.grouped import plan_shaped
    from arena.shrink.patches import split_chain
    from arena.shrink.search import grow_overlaps, relation_sets

    model = read_model(shared_models_dir() / "mlperf_vww_96_int8.tflite")
    split = split_chain(model, 0, 3, 8)
    assert split is not None
    found = evaluated(rewrite_graph(model.data, split.rewrite), "vww", "reference", None)
    table = derive_lifetimes(found.model, "reference")
    _, _, pairs, chains = relation_sets(found.model, table)
    grown = grow_overlaps(found.model, table, pairs, chains)
    assert set(pairs) <= set(grown) <= set(chains)
    pairs_head, grown_head = (plan_shaped(found.model, table, r, exact=False).peak_bytes for r in (pairs, grown))
    assert grown_head < pairs_head  # on VWW's banded stem some chain links do pay


def test_carried_rows_are_copied_into_their_window_not_placed_in_it() -> None:
    # A carry placed in place in its window would tie each band's group to the band before it;
    # the relation sets leave carries out, and the packing is smaller for it.
    from arena.model.rewrite import rewrite_graph
    from arena.shrink.alias import find_aliases
    from arena.shrink.grouped import plan_shaped
    from arena.shrink.regions import split_region
    from arena.shrink.search import grow_overlaps, relation_sets

    model = read_model(shared_models_dir() / "mlperf_ic_pretrainedResnet_quant.tflite")
    split = split_region(model, 0, 7, 10, carry=True)
    assert split is not None
    found = evaluated(rewrite_graph(model.data, split.rewrite), "resnet", "reference", None)
    graph = found.model.subgraphs[0]
    table = derive_lifetimes(found.model, "reference")
    sliced = {op.outputs[0] for op in graph.operators if op.op_name == "STRIDED_SLICE"}
    every = find_aliases(found.model, "reference")
    carries = [a for a in every if a.kind is AliasKind.CONCAT_PIECE and a.source in sliced]
    assert carries  # the alias rule itself allows them
    _, aliases, pairs, chains = relation_sets(found.model, table)
    assert not set(carries) & set(aliases + pairs + chains)
    with_carries = grow_overlaps(found.model, table, (*pairs, *carries), (*chains, *carries))
    without = grow_overlaps(found.model, table, pairs, chains)
    heads = [plan_shaped(found.model, table, r, exact=False).peak_bytes for r in (with_carries, without)]
    assert heads[1] < heads[0]
