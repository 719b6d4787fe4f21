"""Exports of a plan: the model with the plan embedded as TFLM offline-plan metadata."""

from arena.export.offline_model import EmbedError, embed_offline_plan, embed_plan, plan_tensor_offsets

__all__ = ["EmbedError", "embed_offline_plan", "embed_plan", "plan_tensor_offsets"]
