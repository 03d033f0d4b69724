"""A CNN against an MLP of about as many parameters, on the same data, seed and batches.

The MLP is the Explorer's: one hidden ReLU layer, ``input -> width -> classes``, softmax and
cross-entropy, initialised as the Explorer initialises ReLU layers (he_uniform, as the CNN's
blocks). Its width is the one whose parameter count, (input + 1) * width + (width + 1) *
classes, comes closest to the CNN's: one hidden layer because the lesson's question is what
the weights buy, and a single layer spends them all on the image's pixels, as the CNN's dense
layer does. Both train ``epochs`` epochs on their fast paths from the same seed with the same
optimizer settings, and are evaluated on the whole test set. No streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.data import Dataset
from explorer.engine import LayerSpec, NetworkSpec, Stepper, TrainConfig, evaluate
from explorer.engine.conv import ConvNetSpec, ConvStepper, evaluate_conv

MAX_EPOCHS = 5


def mlp_params(input_size: int, width: int, classes: int) -> int:
    """Weights and biases of ``input_size -> width -> classes``."""
    return (input_size + 1) * width + (width + 1) * classes


def matched_width(n_params: int, input_size: int, classes: int) -> int:
    """The hidden width whose MLP has the parameter count nearest ``n_params`` (at least 1;
    the narrower of two equally near)."""
    per_unit = input_size + 1 + classes
    guess = max(round((n_params - classes) / per_unit), 1)
    candidates = [w for w in (guess - 1, guess, guess + 1) if w >= 1]
    return min(candidates, key=lambda w: (abs(mlp_params(input_size, w, classes) - n_params), w))


@dataclass(frozen=True)
class Side:
    """One network's result: what it is, its parameter count, test loss and accuracy."""

    name: str
    n_params: int
    test_loss: float
    test_accuracy: float


@dataclass(frozen=True)
class Comparison:
    """The CNN and its matched MLP after ``epochs`` epochs each on ``dataset``."""

    dataset: str
    epochs: int
    cnn: Side
    mlp: Side
    width: int


def compare(
    spec: ConvNetSpec, config: TrainConfig, dataset: Dataset, *, seed: int, epochs: int
) -> Comparison:
    """Train a fresh ``spec`` and its matched MLP (see the module's notes) ``epochs`` epochs
    each on ``dataset`` from ``seed``; raises NonFiniteError where one overflows."""
    epochs = min(max(epochs, 1), MAX_EPOCHS)
    n_in, classes = dataset.n_features, spec.n_classes
    width = matched_width(spec.n_params, n_in, classes)
    mlp_spec = NetworkSpec(
        n_in, (LayerSpec(width, "relu"), LayerSpec(classes, "softmax")), "cross_entropy"
    )
    cnn = ConvStepper(spec, config, dataset.x_train, dataset.y_train, seed=seed, history=1)
    mlp = Stepper(
        mlp_spec, config, dataset.x_train, dataset.y_train, seed=seed, init="he_uniform", history=1
    )
    for _ in range(epochs):
        cnn.run_epoch_fast()
        mlp.run_epoch_fast()
    x, y = dataset.x_test, dataset.y_test
    cnn_eval = evaluate_conv(spec, cnn.state.params, x, y)
    mlp_eval = evaluate(mlp_spec, mlp.state.params, x, y, classify=True)
    return Comparison(
        dataset.name,
        epochs,
        Side(spec.describe(), spec.n_params, cnn_eval.loss, float(cnn_eval.accuracy or 0.0)),
        Side(
            mlp_spec.describe(),
            mlp_params(n_in, width, classes),
            mlp_eval.loss,
            float(mlp_eval.accuracy or 0.0),
        ),
        width,
    )
