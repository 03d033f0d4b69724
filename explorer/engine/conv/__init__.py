"""The NumPy engine for a small CNN: conv blocks, then the MLP's dense layers and softmax.

A subpackage of ``explorer.engine`` rather than a sibling package, because it is the MLP
engine extended, not a second engine: the dense part runs through the MLP's own phase
functions, the optimizers are ``explorer.engine.optim``'s, the walking through the phases
(the Phase sequence, the batch order, the step-back history, the trail events) is
``explorer.engine.walker``'s, which the MLP's Stepper runs on too, and the same import
boundary holds (no streamlit, plotly or torch). What is new lives here: the spec of the conv
blocks, im2col convolution and max-pool with their gradients (``kernels``), the per-block
traces, the phases, the ConvStepper, the fast path and the gradient check.
"""

from explorer.engine.conv.fast import train_conv_steps
from explorer.engine.conv.gradcheck import conv_gradient_check
from explorer.engine.conv.init import DEFAULT_INIT, init_conv_params
from explorer.engine.conv.metrics import evaluate_conv
from explorer.engine.conv.phases import (
    backward,
    backward_block,
    backward_dense,
    conv_error,
    conv_update,
    forward,
    forward_block,
    forward_dense,
)
from explorer.engine.conv.spec import DEFAULT_SPEC, BlockShapes, ConvBlockSpec, ConvNetSpec
from explorer.engine.conv.stepper import ConvStepper, ConvStepState
from explorer.engine.conv.traces import (
    BlockGradients,
    BlockTrace,
    ConvForwardTrace,
    ConvGradients,
)

__all__ = [
    "DEFAULT_INIT",
    "DEFAULT_SPEC",
    "BlockGradients",
    "BlockShapes",
    "BlockTrace",
    "ConvBlockSpec",
    "ConvForwardTrace",
    "ConvGradients",
    "ConvNetSpec",
    "ConvStepState",
    "ConvStepper",
    "backward",
    "backward_block",
    "backward_dense",
    "conv_error",
    "conv_gradient_check",
    "conv_update",
    "evaluate_conv",
    "forward",
    "forward_block",
    "forward_dense",
    "init_conv_params",
    "train_conv_steps",
]
