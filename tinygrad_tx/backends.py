"""``torch.backends``, answered for NumPy on the CPU: ``mps`` and ``cudnn`` are not available; the flags PyTorch
code sets (``cudnn.deterministic = True``, ``cuda.matmul.allow_tf32 = True``) are accepted and change nothing."""

from __future__ import annotations


class _MPS:
    """``torch.backends.mps``: Apple's GPU backend, not built here."""

    def is_available(self) -> bool:
        return False

    def is_built(self) -> bool:
        return False


class _CuDNN:
    """``torch.backends.cudnn``: its flags are kept (NumPy is deterministic anyway), and it is not available."""

    def __init__(self) -> None:
        self.enabled = True
        self.deterministic = False
        self.benchmark = False
        self.allow_tf32 = True

    def is_available(self) -> bool:
        return False

    def version(self) -> None:
        return None


class _Matmul:
    def __init__(self) -> None:
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


class _CUDA:
    """``torch.backends.cuda``: ``matmul.allow_tf32`` and friends, accepted and unused."""

    def __init__(self) -> None:
        self.matmul = _Matmul()

    def is_built(self) -> bool:
        return False


mps = _MPS()
cudnn = _CuDNN()
cuda = _CUDA()
