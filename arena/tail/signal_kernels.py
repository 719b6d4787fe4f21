"""Tail rules for TFLM's signal library kernels (signal/micro/kernels/*.cc), audio front ends.

Besides their params struct, several signal kernels keep state in the arena, sized from their
flexbuffer custom options or their input shape: FFT state from kissfft (third_party kissfft
v130, ``kiss_fftr_alloc``), filter-bank work areas, noise estimates, and circular buffers
(signal/src/circular_buffer.cc). The SignalRfft, SignalFilterBank and
SignalFilterBankSpectralSubtraction rules are checked against the wheel by the shared audio
front-end model; SignalIrfft, SignalStacker, SignalDelay, SignalFramer and SignalOverlapAdd are
written from their source alone.
"""

from __future__ import annotations

from arena.model.records import Model, Operator, Subgraph
from arena.tail.abi import Abi
from arena.tail.steps import INT32_BYTES, KernelRule, PersistentBuffer, Step, custom_int, opdata, temps, tensor_at

INT16_BYTES = 2
UINT64_BYTES = 8
#: kissfft v130 ``MAXFACTORS`` (kiss_fft.h): ``kiss_fft_state`` holds ``2 * MAXFACTORS`` ints.
KISSFFT_MAXFACTORS = 32
#: schema ``TensorType`` codes of the FFT kernels' ``T`` option.
_INT16 = 7
_FLOAT32 = 0


def kissfft_real_bytes(fft_length: int, type_code: int, abi: Abi) -> int:
    """Memory ``kiss_fftr_alloc`` needs for a real FFT of ``fft_length`` points.

    ``kiss_fftr_state`` (three pointers) + the complex FFT state of ``n = fft_length / 2``
    points (``kiss_fft_state``: ``nfft``, ``inverse``, ``2 * MAXFACTORS`` ints and one complex
    twiddle, then ``n - 1`` more twiddles) + ``3n/2`` complex values (scratch and super
    twiddles). A complex is two int16 (4 bytes, int16 FFT) or two int32/float (8 bytes).
    signal/src/rfft_int16.cc (and int32, float, irfft_*) call it through ``*GetNeededMemory``.

    >>> from arena.tail.abi import CORTEX_M
    >>> kissfft_real_bytes(512, 7, CORTEX_M)  # 12 + (268 + 255 x 4) + 384 x 4
    2836
    """
    half = fft_length // 2
    scalar = INT16_BYTES if type_code == _INT16 else 4
    complex_bytes = 2 * scalar
    state = (2 + 2 * KISSFFT_MAXFACTORS) * INT32_BYTES + complex_bytes
    state += -state % max(scalar, INT32_BYTES)
    substate = state + complex_bytes * (half - 1)
    return 3 * abi.pointer_bytes + substate + complex_bytes * (half * 3 // 2)


def circular_buffer_bytes(capacity: int, abi: Abi) -> int:
    """signal/src/circular_buffer.cc ``CircularBufferGetNeededMemory``: the struct (three
    ``size_t``, two ``int32``, one pointer) plus ``2 * capacity`` int16 samples."""
    return 4 * abi.pointer_bytes + 2 * INT32_BYTES + INT16_BYTES * 2 * capacity


def _fft_init(struct: str) -> KernelRule:
    """rfft.cc ``RfftInit`` / irfft.cc ``IrfftInit``: params, then the kissfft state."""

    def rule(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
        state = kissfft_real_bytes(custom_int(op, "fft_length"), custom_int(op, "T"), abi)
        return (opdata(struct, abi), PersistentBuffer(component="signal FFT state", size=state))

    return rule


def _filter_bank_init(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """filter_bank.cc ``FilterBankInit``: params, then ``num_channels + 1`` uint64 work words."""
    work = (custom_int(op, "num_channels") + 1) * UINT64_BYTES
    return (opdata("TFLMSignalFilterBankParams", abi), PersistentBuffer(component="signal work area", size=work))


def _spectral_subtraction_init(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """filter_bank_spectral_subtraction.cc ``FilterBankSpectralSubtractionInit``: params, then a
    uint32 noise estimate per channel."""
    noise = custom_int(op, "num_channels") * INT32_BYTES
    return (
        opdata("TFLMSignalSpectralSubtractionParams", abi),
        PersistentBuffer(component="signal noise estimate", size=noise),
    )


def _stacker_init(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """stacker.cc ``StackerInit``: params, then one circular buffer of
    ``num_channels * (left context + right context + 1)`` samples."""
    frames = custom_int(op, "stacker_left_context") + custom_int(op, "stacker_right_context") + 1
    state = circular_buffer_bytes(custom_int(op, "num_channels") * frames, abi)
    return (opdata("TFLMSignalStackerParams", abi), PersistentBuffer(component="signal circular buffers", size=state))


def _rows_and_frame(graph: Subgraph, op: Operator) -> tuple[int, int]:
    """(outer rows, innermost dimension) of input 0."""
    data = tensor_at(graph, op, 0)
    if data is None or not data.shape or not data.shape[-1]:
        return 0, 0
    return data.element_count // data.shape[-1], data.shape[-1]


def _pointer_arrays(rows: int, count: int, abi: Abi) -> tuple[PersistentBuffer, ...]:
    return tuple(
        PersistentBuffer(component="signal state pointers", size=rows * abi.pointer_bytes) for _ in range(count)
    )


def _delay_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """delay.cc ``DelayPrepare``: per input row a state pointer and a circular-buffer pointer,
    then a circular buffer of ``frame + delay_length`` samples per row."""
    rows, frame = _rows_and_frame(graph, op)
    state = circular_buffer_bytes(frame + custom_int(op, "delay_length"), abi)
    buffers = tuple(PersistentBuffer(component="signal circular buffers", size=state) for _ in range(rows))
    return (*temps(op, 0, "o0"), *_pointer_arrays(rows, 2, abi), *buffers)


def _framer_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """framer.cc ``FramerPrepare``: two pointer arrays per input row, then per row a circular
    buffer of ``frame_size`` rounded up to a multiple of ``frame_step``."""
    rows, _ = _rows_and_frame(graph, op)
    size, step = custom_int(op, "frame_size"), custom_int(op, "frame_step")
    capacity = -(-size // step) * step if step else 0
    state = circular_buffer_bytes(capacity, abi)
    buffers = tuple(PersistentBuffer(component="signal circular buffers", size=state) for _ in range(rows))
    return (*temps(op, 0, "o0", "o1"), *_pointer_arrays(rows, 2, abi), *buffers)


def _overlap_add_prepare(model: Model, graph: Subgraph, op: Operator, abi: Abi) -> tuple[Step, ...]:
    """overlap_add.cc ``OverlapAddPrepare``: a pointer per outer row, then per row a state of
    ``frame_size`` samples of the op's type (float32 or int16)."""
    data = tensor_at(graph, op, 0)
    if data is None or len(data.shape) < 2 or not data.shape[-1] or not data.shape[-2]:
        return temps(op, 0, "o0")
    frame, frames = data.shape[-1], data.shape[-2]
    rows = data.element_count // (frame * frames)
    sample = INT16_BYTES if data.type_code == _INT16 else 4
    states = tuple(PersistentBuffer(component="signal overlap state", size=frame * sample) for _ in range(rows))
    return (*temps(op, 0, "o0"), *_pointer_arrays(rows, 1, abi), *states)


#: Signal kernels whose Init allocates just their params struct.
SIGNAL_INIT_STRUCTS: dict[str, str] = {
    "CUSTOM:SignalWindow": "TFLMSignalWindowParams",
    "CUSTOM:SignalEnergy": "TFLMSignalEnergyParams",
    "CUSTOM:SignalFilterBankLog": "TFLMSignalLogParams",
    "CUSTOM:SignalPCAN": "TfLitePcanParams",
    "CUSTOM:SignalFramer": "TFLMSignalFramerParams",
    "CUSTOM:SignalDelay": "TFLMSignalFrontendDelayParams",
    "CUSTOM:SignalOverlapAdd": "TFLMSignalOverlapAddParams",
}
SIGNAL_INIT_RULES: dict[str, KernelRule] = {
    "CUSTOM:SignalRfft": _fft_init("TfLiteAudioFrontendRfftParams"),
    "CUSTOM:SignalIrfft": _fft_init("TfLiteAudioFrontendIrfftParams"),
    "CUSTOM:SignalFilterBank": _filter_bank_init,
    "CUSTOM:SignalFilterBankSpectralSubtraction": _spectral_subtraction_init,
    "CUSTOM:SignalStacker": _stacker_init,
}
SIGNAL_PREPARE_RULES: dict[str, KernelRule] = {
    "CUSTOM:SignalDelay": _delay_prepare,
    "CUSTOM:SignalFramer": _framer_prepare,
    "CUSTOM:SignalOverlapAdd": _overlap_add_prepare,
}
