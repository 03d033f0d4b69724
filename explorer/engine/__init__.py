"""The NumPy engine: specs, activations, losses, initialisers, optimisers, the four phases,
the Stepper, the fast path and the gradient check. Imports neither streamlit, plotly nor torch.
"""

from explorer.engine.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, Activation
from explorer.engine.batches import epoch_batches, epoch_order
from explorer.engine.errors import NonFiniteError
from explorer.engine.fast import TrainResult, train_epoch, train_steps
from explorer.engine.gradcheck import GradientCheck, ParamCheck, gradient_check
from explorer.engine.init import INITIALIZERS, init_params
from explorer.engine.losses import LOSS_FUNCTIONS, Loss, encode_targets
from explorer.engine.metrics import Evaluation, evaluate, predict_classes
from explorer.engine.optim import OptState, init_opt_state, update
from explorer.engine.phases import backward, backward_layer, error, forward, forward_layer
from explorer.engine.replay import replay
from explorer.engine.spec import (
    LOSSES,
    OPTIMIZERS,
    LayerSpec,
    NetworkSpec,
    Params,
    SpecError,
    TrainConfig,
)
from explorer.engine.stepper import Phase, Stepper, StepState, phase_sequence
from explorer.engine.traces import ErrorTrace, ForwardTrace, Gradients, LayerGradients
from explorer.engine.trail import (
    REPLAY_BUDGET_S,
    Edit,
    Event,
    FastEpoch,
    Loaded,
    Phases,
    ReplayError,
    replay_cost,
    replayable,
)

__all__ = [
    "ACTIVATIONS",
    "HIDDEN_ACTIVATIONS",
    "INITIALIZERS",
    "LOSSES",
    "LOSS_FUNCTIONS",
    "OPTIMIZERS",
    "REPLAY_BUDGET_S",
    "Activation",
    "Edit",
    "ErrorTrace",
    "Evaluation",
    "Event",
    "FastEpoch",
    "ForwardTrace",
    "GradientCheck",
    "Gradients",
    "LayerGradients",
    "LayerSpec",
    "Loaded",
    "Loss",
    "NetworkSpec",
    "NonFiniteError",
    "OptState",
    "ParamCheck",
    "Params",
    "Phase",
    "Phases",
    "ReplayError",
    "SpecError",
    "StepState",
    "Stepper",
    "TrainConfig",
    "TrainResult",
    "backward",
    "backward_layer",
    "encode_targets",
    "epoch_batches",
    "epoch_order",
    "error",
    "evaluate",
    "forward",
    "forward_layer",
    "gradient_check",
    "init_opt_state",
    "init_params",
    "phase_sequence",
    "predict_classes",
    "replay",
    "replay_cost",
    "replayable",
    "train_epoch",
    "train_steps",
    "update",
]
