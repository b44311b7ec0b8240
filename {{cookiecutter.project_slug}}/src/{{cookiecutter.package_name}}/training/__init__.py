"""Fitting models: the tensor-batched training loop and its guards."""
