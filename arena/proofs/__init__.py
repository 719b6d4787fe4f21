"""Proofs that a plan is safe: the byte-buffer simulator and runs of real TFLM on the planned model."""
