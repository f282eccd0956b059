"""The benchmark matrix (pytest wiring only; the measuring logic lives in mnist_core)."""
