"""Reading .tflite files into arena's own records (the only package that touches flatbuffers)."""

from arena.model.offline_plan import (
    OFFLINE_PLAN_METADATA,
    OfflinePlan,
    decode_offline_plan,
    encode_offline_plan,
    read_offline_plan,
)
from arena.model.reader import buffer_bytes, read_model, read_model_bytes
from arena.model.records import Metadata, Model, Operator, Quantization, Subgraph, Tensor

__all__ = [
    "OFFLINE_PLAN_METADATA",
    "Metadata",
    "Model",
    "OfflinePlan",
    "Operator",
    "Quantization",
    "Subgraph",
    "Tensor",
    "buffer_bytes",
    "decode_offline_plan",
    "encode_offline_plan",
    "read_model",
    "read_model_bytes",
    "read_offline_plan",
]
