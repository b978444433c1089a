"""Gradients derived by hand, in plain NumPy, mirroring the engine's compositions one to one."""

from .seeds import relu_mlp_backward, relu_mlp_forward, staged_f_backward

__all__ = ["staged_f_backward", "relu_mlp_forward", "relu_mlp_backward"]
