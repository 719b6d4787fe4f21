"""TFLM's persistent tail and the minimum arena: what the head-only plan leaves out.

* :func:`tail_bytes` -> :class:`TailEstimate`: allocator and planner objects, eval tensors, node
  structs, builtin params, kernels' OpData and per-channel arrays, scratch handles, variable
  tensors and the I/O tensors, by component, for an :class:`Abi` (64-bit host package or 32-bit
  Cortex-M).
* :func:`minimum_arena_bytes` -> :class:`MinimumArena`: the smallest ``arena_size`` TFLM accepts,
  which can exceed head + tail because of the transient temp allocations of memory planning.
"""

from arena.tail.abi import CORTEX_M, HOST_X86_64, Abi, StructLayout, make_abi
from arena.tail.estimate import MinimumArena, TailComponent, TailEstimate, minimum_arena_bytes, tail_bytes
from arena.tail.kernels import TAIL_KERNELS, TailKernels, get_tail_kernels

__all__ = [
    "CORTEX_M",
    "HOST_X86_64",
    "TAIL_KERNELS",
    "Abi",
    "MinimumArena",
    "StructLayout",
    "TailComponent",
    "TailEstimate",
    "TailKernels",
    "get_tail_kernels",
    "make_abi",
    "minimum_arena_bytes",
    "tail_bytes",
]
