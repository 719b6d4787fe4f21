"""Measure on emulated Cortex-M cores: real TFLM and CMSIS-NN built with arm-none-eabi-gcc, run in QEMU."""
