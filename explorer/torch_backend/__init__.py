"""The PyTorch backend: the engine's phases and full training on torch (cpu, cuda or mps).

Importing this package does not import torch: ``torch_available`` tells the UI whether the
extra is installed, and ``require_torch`` turns its absence into a ``TorchMissingError`` with
the install command. The submodules import torch and are imported only once it is there:

- ``model``: a ``NetworkSpec`` as torch modules; parameters to and from the engine's ``Params``;
- ``phases``: forward, error and backward through autograd, returning the engine's traces;
- ``train``: ``TorchTrainer`` (seeded batches, torch.optim, CUDA graphs on a GPU) and device
  selection;
- ``distributed``: DistributedDataParallel set-up when launched by torchrun.
"""

from __future__ import annotations

import importlib.util

INSTALL_HINT = "pip install '.[torch]'"


class TorchMissingError(RuntimeError):
    """The torch backend was asked for but torch is not installed."""

    def __init__(self) -> None:
        super().__init__(f"PyTorch is not installed. Install the extra with: {INSTALL_HINT}")


class DeviceError(ValueError):
    """The chosen device or dtype cannot be used here; the message says what is available."""


def torch_available() -> bool:
    """Whether torch can be imported here (checked without importing it)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def require_torch() -> None:
    """Raise TorchMissingError unless torch is installed."""
    if not torch_available():
        raise TorchMissingError()


__all__ = ["INSTALL_HINT", "DeviceError", "TorchMissingError", "require_torch", "torch_available"]
