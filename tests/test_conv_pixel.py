"""One conv output pixel taken apart: its window times the kernel is the engine's z, its
receptive field is what a change of the image can reach, and the kernel-gradient terms sum
to the engine's dL/dw."""

from __future__ import annotations

import numpy as np

from explorer.engine import LayerSpec, TrainConfig
from explorer.engine.conv import ConvBlockSpec, ConvNetSpec, ConvStepper, forward, init_conv_params
from explorer.engine.conv.pixel import Field, input_window, kernel_der_terms, receptive_field

SPEC = ConvNetSpec(
    (12, 11),
    (ConvBlockSpec(3, 5, "same", "tanh", True), ConvBlockSpec(2, 3, "valid", "relu", False)),
    (LayerSpec(4, "softmax"),),
)


def stepped() -> ConvStepper:
    rng = np.random.default_rng(1)
    s = ConvStepper(
        SPEC, TrainConfig(batch_size=5), rng.normal(size=(9, 132)), rng.integers(0, 4, 9), seed=2
    )
    s.finish_step()
    return s


def test_window_times_kernel_is_z_in_every_block_and_corner() -> None:
    st = stepped().state
    assert st.prev_params is not None  # the forward pass ran on the weights before the update
    w, b = st.prev_params.weights, st.prev_params.biases
    for block, rec in enumerate(st.blocks):
        _, f_count, ho, wo = rec.z.shape
        for y, x in [(0, 0), (ho - 1, wo - 1), (ho // 2, 1)]:
            window = input_window(SPEC, block, rec.input[3], y, x)
            for f in range(f_count):
                z = float((w[block][f] * window).sum() + b[block][f])
                assert np.isclose(z, rec.z[3, f, y, x], rtol=0, atol=1e-12)


def test_receptive_field_is_exactly_what_the_image_can_change() -> None:
    params = init_conv_params(SPEC, np.random.default_rng(0))
    image = np.random.default_rng(3).normal(size=(1, 132))
    base = forward(SPEC, params, image).blocks[1].z[0, 0]
    y, x = 1, 2
    reached = np.zeros((12, 11), dtype=bool)
    for r in range(12):
        for c in range(11):
            moved = image.copy()
            moved[0, r * 11 + c] += 1.0
            reached[r, c] = forward(SPEC, params, moved).blocks[1].z[0, 0, y, x] != base[y, x]
    field = receptive_field(SPEC, 1, y, x)
    inside = np.zeros_like(reached)
    inside[field.top : field.bottom + 1, field.left : field.right + 1] = True
    assert not (reached & ~inside).any()  # nothing outside the field reaches the pixel
    assert reached.any()
    # block 2's 3x3 window on the 6x5 pooled maps of a 'same' 5x5: rows 2..7, cut at 0 by pad
    assert field == Field(0, 9, 2, 10)
    assert receptive_field(SPEC, 0, 0, 0) == Field(0, 2, 0, 2)


def test_kernel_der_terms_sum_to_the_engines_gradient() -> None:
    st = stepped().state
    grads = st.gradients(SPEC.n_blocks)
    assert grads is not None
    for block, rec in enumerate(st.blocks):
        g = grads.blocks[block]
        for weight in [(0, 0, 0, 0), (1, rec.input.shape[1] - 1, 2, 1)]:
            delta, met = kernel_der_terms(SPEC, block, rec.input, g.input_der, weight)
            assert delta.shape == met.shape == (g.input_der[:, 0].size,)
            assert np.isclose((delta * met).sum(), g.kernel_der[weight], rtol=0, atol=1e-12)
