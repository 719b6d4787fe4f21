"""Struct sizes and alignments of the TFLM objects that live in the arena's tail, per ABI.

TFLM sizes every tail allocation with ``sizeof``/``alignof`` of a C or C++ struct, so the tail
depends on the ABI (pointer width, alignment rules, enum size) and on two build options:
``USE_TFLM_COMPRESSION`` (adds a pointer to ``SubgraphAllocations`` and scratch indices to several
kernels' OpData) and the allocator class (``RecordingMicroAllocator`` in the Python package, plain
``MicroAllocator`` in a firmware that calls ``MicroInterpreter(model, resolver, arena, size)``).

How the numbers were derived
----------------------------
Every row of :data:`_LAYOUTS` was laid out by a compiler from the structs' own declarations in
tensorflow/tflite-micro at 90b983c2 (tensorflow/lite/core/c/common.h, builtin_op_data.h,
micro_allocator.h, micro_allocation_info.h, the arena allocator and memory planner headers, the
kernels' ``OpData`` structs in kernels/*.cc and signal/micro/kernels/*.cc): a translation unit
that evaluates ``sizeof(T)`` and ``alignof(T)`` for each struct, compiled with
``TF_LITE_STATIC_MEMORY`` (what TFLM builds use) for four columns:

* x86-64, LP64 (8-byte pointers, 8-byte ``size_t``/``int64``/``double`` alignment, 4-byte
  enums): g++ 12, with and without ``USE_TFLM_COMPRESSION``;
* 32-bit Arm EABI (AAPCS: 4-byte pointers and ``size_t``, 8-byte-aligned ``int64``/``double``,
  enums as small as their value range, i.e. ``-fshort-enums``, the arm-none-eabi toolchain
  default): arm-none-eabi-g++ 12.2 with ``-mcpu=cortex-m4 -mthumb``, with and without
  ``USE_TFLM_COMPRESSION``.

The x86-64 column with compression is what the ``tflite-micro`` wheel uses; every size in it
that a shared model exercises was checked against the wheel (``print_allocations()`` per-kind
totals and the allocation immediates in its ``_runtime.so``). The wheel
(``0.dev20261023182759-g8f6596d``) is newer than 90b983c2 and differs in one struct:
``TfLiteFullyConnectedParams`` gained a vector field (a data pointer and an ``int`` length after
``quantized_bias_type``), 32 bytes aligned 8 in the wheel's own parser ``ParseFullyConnected``
instead of 16/4. The x86-64 columns use the wheel's layout (the wheel is their oracle); the 32-bit
columns use 90b983c2's (five 1-byte fields: 5 bytes aligned 1), which is what a Cortex-M firmware
built from the pinned sources allocates. The 32-bit figure was measured: real TFLM 90b983c2 built
for Cortex-M4 and Cortex-M55 and run under QEMU (``arena measure``, tests/emulator/) reports tails
that match only with 5/1 (the wheel's 16/4 over-counted 8 to 16 bytes per FULLY_CONNECTED op).
``MicroBuiltinDataAllocator`` is private to micro_allocator.cc: a vtable pointer and one
pointer. ``OpDataAssignVariable`` exists only with compression (assign_variable.cc).

CMSIS-NN kernels
----------------
The ``CmsisNn*`` rows, ``CMSISNNSoftmaxParams`` and ``QuantizationOpDataBatchMatmul`` were laid
out the same way, from the wrappers in tensorflow/lite/micro/kernels/cmsis_nn/ at 90b983c2 with
ARM-software/CMSIS-NN 4ab83cc3 on the include path (its ``Include/``, for ``cmsis_nn_dims`` and
``cmsis_nn_lstm_params``): one translation unit per wrapper that ``#include``s the wrapper's .cc
(its ``OpData`` sits in an anonymous namespace) with ``-DCMSIS_NN -DKERNELS_OPTIMIZED_FOR_SPEED``
(TFLM's default ``OPTIMIZE_KERNELS_FOR``; ``CmsisNnOpDataSvdfForSize`` with
``-DKERNELS_OPTIMIZED_FOR_SIZE``, which adds an ``int``). The 32-bit columns were compiled for
``-mcpu=cortex-m4`` and again for ``cortex-m55`` (MVE) and ``cortex-m0plus``: every layout is
the same on the three cores (the structs hold no ISA-dependent member), so one 32-bit column
serves all CMSIS-NN ISAs. The reference structs compiled in the same units (``OpDataConv``,
``OpDataFullyConnected``, ``OpDataLSTM``, ...) reproduce their rows above.

Examples
--------
>>> HOST_X86_64.layout("TfLiteEvalTensor"), CORTEX_M.layout("TfLiteEvalTensor")
(StructLayout(size=24, alignment=8), StructLayout(size=12, alignment=4))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from arena.errors import ArenaError

#: Bytes of planner scratch per planned buffer: ``GreedyMemoryPlanner::per_buffer_size()``
#: (memory_planner/greedy_memory_planner.h) = BufferRequirements (4 ints) + 2 ints (sorted
#: sizes and ids) + ListEntry (3 ints) + 1 int (offsets); all ``int``, so 40 on every ABI.
GREEDY_PLANNER_BYTES_PER_BUFFER = 40
#: ``MicroArenaBufferAlignment()`` (micro_arena_constants.h): alignment of kernels' persistent
#: buffers, variable tensors and the head.
ARENA_ALIGNMENT = 16
#: ``kMaxScratchBuffersPerOp`` (micro_allocator.cc): the scratch-request array always keeps room
#: for this many more requests.
MAX_SCRATCH_BUFFERS_PER_OP = 12


@dataclass(frozen=True, slots=True)
class StructLayout:
    """``sizeof`` and ``alignof`` of one struct."""

    size: int
    alignment: int


# Column order of _LAYOUTS: x86-64 with compression, x86-64, arm32 with compression, arm32.
_COLUMNS = {(8, True): 0, (8, False): 1, (4, True): 2, (4, False): 3}
_Row = tuple[tuple[int, int] | None, tuple[int, int] | None, tuple[int, int] | None, tuple[int, int] | None]

#: Struct name -> (size, alignment) in the four columns above (None: absent in that build).
_LAYOUTS: dict[str, _Row] = {
    # Allocator, planner and per-model bookkeeping objects (micro_allocator.h and friends).
    "SingleArenaBufferAllocator": ((72, 8), (72, 8), (36, 4), (36, 4)),
    "RecordingSingleArenaBufferAllocator": ((104, 8), (104, 8), (52, 4), (52, 4)),
    "GreedyMemoryPlanner": ((72, 8), (72, 8), (44, 4), (44, 4)),
    "MicroAllocator": ((72, 8), (72, 8), (36, 4), (36, 4)),
    "RecordingMicroAllocator": ((272, 8), (248, 8), (136, 4), (124, 4)),
    "MicroBuiltinDataAllocator": ((16, 8), (16, 8), (8, 4), (8, 4)),
    "SubgraphAllocations": ((24, 8), (16, 8), (12, 4), (8, 4)),
    "TfLiteEvalTensor": ((24, 8), (24, 8), (12, 4), (12, 4)),
    "TfLiteTensor": ((64, 8), (64, 8), (32, 4), (32, 4)),
    "TfLiteAffineQuantization": ((24, 8), (24, 8), (12, 4), (12, 4)),
    "NodeAndRegistration": ((64, 8), (64, 8), (32, 4), (32, 4)),
    "ScratchBufferHandle": ((8, 8), (8, 8), (4, 4), (4, 4)),
    "ScratchBufferRequest": ((16, 8), (16, 8), (12, 4), (12, 4)),
    "AllocationInfo": ((32, 8), (32, 8), (24, 4), (24, 4)),
    "MicroResourceVariables": ((16, 8), (16, 8), (12, 4), (12, 4)),
    "MicroResourceVariable": ((40, 8), (40, 8), (20, 4), (20, 4)),
    "size_t": ((8, 8), (8, 8), (4, 4), (4, 4)),
    "TfLiteTensorPtr": ((8, 8), (8, 8), (4, 4), (4, 4)),
    # Builtin op parameters (tensorflow/lite/core/c/builtin_op_data.h), allocated by the
    # parser (core/api/flatbuffer_conversions.cc) through MicroBuiltinDataAllocator.
    "TfLiteAddParams": ((8, 4), (8, 4), (2, 1), (2, 1)),
    "TfLiteArgMaxParams": ((4, 4), (4, 4), (1, 1), (1, 1)),
    "TfLiteArgMinParams": ((4, 4), (4, 4), (1, 1), (1, 1)),
    "TfLiteBatchMatMulParams": ((3, 1), (3, 1), (3, 1), (3, 1)),
    "TfLiteCallOnceParams": ((4, 4), (4, 4), (4, 4), (4, 4)),
    "TfLiteCastParams": ((8, 4), (8, 4), (2, 1), (2, 1)),
    "TfLiteConcatenationParams": ((8, 4), (8, 4), (8, 4), (8, 4)),
    "TfLiteConvParams": ((28, 4), (28, 4), (28, 4), (28, 4)),
    "TfLiteCumsumParams": ((2, 1), (2, 1), (2, 1), (2, 1)),
    "TfLiteDepthToSpaceParams": ((4, 4), (4, 4), (4, 4), (4, 4)),
    "TfLiteDepthwiseConvParams": ((28, 4), (28, 4), (28, 4), (28, 4)),
    "TfLiteDivParams": ((4, 4), (4, 4), (1, 1), (1, 1)),
    "TfLiteFullyConnectedParams": ((32, 8), (32, 8), (5, 1), (5, 1)),  # x86-64: wheel; arm32: 90b983c2
    "TfLiteGatherParams": ((8, 4), (8, 4), (8, 4), (8, 4)),
    "TfLiteIfParams": ((8, 4), (8, 4), (8, 4), (8, 4)),
    "TfLiteL2NormParams": ((4, 4), (4, 4), (1, 1), (1, 1)),
    "TfLiteLeakyReluParams": ((4, 4), (4, 4), (4, 4), (4, 4)),
    "TfLiteMirrorPaddingParams": ((4, 4), (4, 4), (1, 1), (1, 1)),
    "TfLiteMulParams": ((4, 4), (4, 4), (1, 1), (1, 1)),
    "TfLitePackParams": ((8, 4), (8, 4), (8, 4), (8, 4)),
    "TfLitePoolParams": ((40, 4), (40, 4), (40, 4), (40, 4)),
    "TfLiteReducerParams": ((1, 1), (1, 1), (1, 1), (1, 1)),
    "TfLiteReshapeParams": ((36, 4), (36, 4), (36, 4), (36, 4)),
    "TfLiteResizeBilinearParams": ((2, 1), (2, 1), (2, 1), (2, 1)),
    "TfLiteResizeNearestNeighborParams": ((2, 1), (2, 1), (2, 1), (2, 1)),
    "TfLiteSVDFParams": ((12, 4), (12, 4), (8, 4), (8, 4)),
    "TfLiteShapeParams": ((4, 4), (4, 4), (1, 1), (1, 1)),
    "TfLiteSoftmaxParams": ((4, 4), (4, 4), (4, 4), (4, 4)),
    "TfLiteSpaceToDepthParams": ((4, 4), (4, 4), (4, 4), (4, 4)),
    "TfLiteSplitParams": ((4, 4), (4, 4), (4, 4), (4, 4)),
    "TfLiteSplitVParams": ((4, 4), (4, 4), (4, 4), (4, 4)),
    "TfLiteSqueezeParams": ((36, 4), (36, 4), (36, 4), (36, 4)),
    "TfLiteStridedSliceParams": ((24, 4), (24, 4), (24, 4), (24, 4)),
    "TfLiteSubParams": ((8, 4), (8, 4), (2, 1), (2, 1)),
    "TfLiteTransposeConvParams": ((20, 4), (20, 4), (16, 4), (16, 4)),
    "TfLiteUnidirectionalSequenceLSTMParams": ((16, 4), (16, 4), (16, 4), (16, 4)),
    "TfLiteUnpackParams": ((8, 4), (8, 4), (8, 4), (8, 4)),
    "TfLiteVarHandleParams": ((16, 8), (16, 8), (8, 4), (8, 4)),
    "TfLiteWhileParams": ((8, 4), (8, 4), (8, 4), (8, 4)),
    # Kernels' Init/Prepare state (kernels/*.cc, signal/micro/kernels/*.cc).
    "ReluOpData": ((28, 4), (28, 4), (28, 4), (28, 4)),
    "Relu6OpData": ((8, 4), (8, 4), (8, 4), (8, 4)),
    "OpDataAdd": ((60, 4), (60, 4), (60, 4), (60, 4)),
    "OpDataConv": ((80, 8), (72, 8), (64, 4), (56, 4)),
    "OpDataFullyConnected": ((72, 8), (64, 8), (56, 4), (48, 4)),
    "OpDataPooling": ((32, 4), (32, 4), (32, 4), (32, 4)),
    "SoftmaxParams": ((80, 8), (80, 8), (56, 8), (56, 8)),
    "OpDataQuantizeReference": ((32, 8), (32, 8), (32, 8), (32, 8)),
    "DequantizeOpData": ((32, 8), (32, 8), (32, 8), (32, 8)),
    "OpDataSvdf": ((36, 4), (36, 4), (36, 4), (36, 4)),
    "OpDataLSTM": ((688, 8), (688, 8), (688, 8), (688, 8)),
    "StridedSliceParams": ((84, 4), (84, 4), (84, 4), (84, 4)),
    "OpDataConcatenation": ((80, 8), (40, 8), (64, 4), (24, 4)),
    "OpDataMul": ((36, 4), (36, 4), (36, 4), (36, 4)),
    "OpDataDiv": ((28, 4), (28, 4), (28, 4), (28, 4)),
    "OpDataSub": ((52, 4), (52, 4), (52, 4), (52, 4)),
    "OpDataLogistic": ((16, 4), (16, 4), (16, 4), (16, 4)),
    "OpDataTanh": ((16, 4), (16, 4), (16, 4), (16, 4)),
    "OpDataTransposeConv": ((88, 8), (80, 8), (80, 4), (72, 4)),
    "OpDataReduce": ((44, 4), (44, 4), (44, 4), (44, 4)),
    "OpDataPad": ((56, 4), (56, 4), (56, 4), (56, 4)),
    "PreluParams": ((28, 4), (28, 4), (28, 4), (28, 4)),
    "LeakyReluOpData": ((24, 4), (24, 4), (24, 4), (24, 4)),
    "HardSwishParams": ((20, 4), (20, 4), (20, 4), (20, 4)),
    "OpDataElu": ((256, 1), (256, 1), (256, 1), (256, 1)),
    "OpDataSquaredDifference": ((112, 8), (112, 8), (112, 8), (112, 8)),
    "OpDataMirrorPad": ((20, 4), (20, 4), (20, 4), (20, 4)),
    "OpDataAbsRsqrt": ((28, 4), (28, 4), (28, 4), (28, 4)),
    "OpDataDetectionPostProcess": ((112, 4), (112, 4), (112, 4), (112, 4)),
    "LogSoftmaxOpData": ((40, 8), (40, 8), (28, 4), (28, 4)),
    "OpDataComparison": ((32, 4), (32, 4), (32, 4), (32, 4)),
    "OpDataSelect": ((1, 1), (1, 1), (1, 1), (1, 1)),
    "SpaceToBatchParams": ((4, 4), (4, 4), (4, 4), (4, 4)),
    "L2NormalizationParams": ((4, 4), (4, 4), (4, 4), (4, 4)),
    "OpDataIf": ((8, 4), (8, 4), (8, 4), (8, 4)),
    "OpDataWhile": ((8, 4), (8, 4), (8, 4), (8, 4)),
    "OpDataCallOnce": ((8, 4), (8, 4), (8, 4), (8, 4)),
    "OpDataVarHandle": ((4, 4), (4, 4), (4, 4), (4, 4)),
    "OpDataAssignVariable": ((4, 4), None, (4, 4), None),
    "OpDataBatchMatmul": ((32, 8), (32, 8), (16, 4), (16, 4)),
    "OpDataCumsum": ((36, 4), (36, 4), (36, 4), (36, 4)),
    "OpDataEmbeddingLookup": ((16, 8), (16, 8), (8, 4), (8, 4)),
    "OpDataAddN": ((40, 4), (40, 4), (40, 4), (40, 4)),
    "OpDataCircularBuffer": ((8, 4), (8, 4), (8, 4), (8, 4)),
    "TFLMSignalWindowParams": ((8, 4), (8, 4), (8, 4), (8, 4)),
    "TFLMSignalEnergyParams": ((8, 4), (8, 4), (8, 4), (8, 4)),
    "TFLMSignalFilterBankParams": ((64, 8), (64, 8), (36, 4), (36, 4)),
    "TFLMSignalLogParams": ((8, 4), (8, 4), (8, 4), (8, 4)),
    "TFLMSignalSpectralSubtractionParams": ((56, 8), (56, 8), (44, 4), (44, 4)),
    "TfLitePcanParams": ((4, 4), (4, 4), (4, 4), (4, 4)),
    "TfLiteAudioFrontendRfftParams": ((48, 8), (48, 8), (32, 4), (32, 4)),
    "TFLMSignalFramerParams": ((40, 8), (40, 8), (28, 4), (28, 4)),
    "TFLMSignalFrontendDelayParams": ((32, 8), (32, 8), (20, 4), (20, 4)),
    "TFLMSignalStackerParams": ((56, 8), (56, 8), (36, 4), (36, 4)),
    "TFLMSignalOverlapAddParams": ((32, 8), (32, 8), (24, 4), (24, 4)),
    "TfLiteAudioFrontendIrfftParams": ((32, 8), (32, 8), (24, 4), (24, 4)),
    # CMSIS-NN builds: the wrappers' OpData (kernels/cmsis_nn/*.cc, see "CMSIS-NN kernels" above).
    "CmsisNnOpDataConv": ((88, 8), (80, 8), (68, 4), (60, 4)),
    "CmsisNnOpDataDepthwiseConv": ((88, 8), (80, 8), (68, 4), (60, 4)),
    "CmsisNnOpDataFullyConnected": ((104, 8), (96, 8), (80, 4), (72, 4)),
    "CmsisNnOpDataPooling": ((36, 4), (36, 4), (36, 4), (36, 4)),
    "CMSISNNSoftmaxParams": ((88, 8), (88, 8), (64, 8), (64, 8)),
    "CmsisNnOpDataSvdf": ((48, 8), (48, 8), (40, 4), (40, 4)),
    "CmsisNnOpDataSvdfForSize": ((48, 8), (48, 8), (44, 4), (44, 4)),
    "CmsisNnOpDataAdd": ((60, 4), (60, 4), (60, 4), (60, 4)),
    "CmsisNnOpDataLSTM": ((1008, 8), (1008, 8), (912, 8), (912, 8)),
    "CmsisNnOpDataTransposeConv": ((88, 8), (88, 8), (76, 4), (76, 4)),
    "CmsisNnOpDataBatchMatmul": ((56, 8), (56, 8), (36, 4), (36, 4)),
    "QuantizationOpDataBatchMatmul": ((28, 4), (28, 4), (28, 4), (28, 4)),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Abi:
    """One TFLM build's view of the tail: pointer width, struct layouts and two build options.

    Parameters
    ----------
    name
        Short label used in reports.
    pointer_bytes
        ``sizeof(void*)`` (and ``sizeof(size_t)``): 8 on the x86-64 host, 4 on Cortex-M.
    compression
        Built with ``USE_TFLM_COMPRESSION`` (the wheel is).
    recording_allocator
        The arena is managed by ``RecordingMicroAllocator`` (the wheel's interpreter) rather than
        ``MicroAllocator`` (firmware).
    layouts
        Struct name -> layout for this build.
    """

    name: str
    pointer_bytes: int
    compression: bool
    recording_allocator: bool
    layouts: Mapping[str, StructLayout] = field(repr=False, compare=False)

    def layout(self, struct: str) -> StructLayout:
        """The layout of ``struct``; ArenaError if this build has no such struct."""
        try:
            return self.layouts[struct]
        except KeyError:
            raise ArenaError(f"ABI {self.name}: no layout for struct {struct}") from None

    def size(self, struct: str) -> int:
        """``sizeof(struct)`` in this build."""
        return self.layout(struct).size


def make_abi(pointer_bytes: int, *, compression: bool, recording_allocator: bool, name: str | None = None) -> Abi:
    """An :class:`Abi` for a 64-bit (x86-64) or 32-bit (Arm EABI) TFLM build.

    Examples
    --------
    >>> make_abi(4, compression=True, recording_allocator=True).size("SubgraphAllocations")
    12
    """
    if (pointer_bytes, compression) not in _COLUMNS:
        raise ArenaError(f"no struct layouts for {pointer_bytes}-byte pointers; choose 4 or 8")
    column = _COLUMNS[(pointer_bytes, compression)]
    layouts = {
        struct: StructLayout(*row[column])  # type: ignore[misc]
        for struct, row in _LAYOUTS.items()
        if row[column] is not None
    }
    label = name or "{}{}{}".format(
        "x86-64" if pointer_bytes == 8 else "arm32",
        "+compression" if compression else "",
        "+recording" if recording_allocator else "",
    )
    return Abi(
        name=label,
        pointer_bytes=pointer_bytes,
        compression=compression,
        recording_allocator=recording_allocator,
        layouts=MappingProxyType(layouts),
    )


#: The ``tflite-micro`` Python package on an x86-64 host: what ``probe_tflm`` measures.
HOST_X86_64 = make_abi(8, compression=True, recording_allocator=True, name="x86-64 (tflite-micro wheel)")
#: A 32-bit Cortex-M firmware built with arm-none-eabi-gcc defaults, plain ``MicroAllocator``
#: and no ``USE_TFLM_COMPRESSION`` (TFLM's Makefile default).
CORTEX_M = make_abi(4, compression=False, recording_allocator=False, name="Cortex-M (arm-none-eabi)")
