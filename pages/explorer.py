"""Explorer: a 2-4-1 network learning XOR, one training step per click."""

import numpy as np
import streamlit as st

from explorer.engine import LayerSpec, NetworkSpec, Stepper, TrainConfig

st.title("Backprop Explorer")
st.caption("A 2-4-1 tanh/sigmoid network learning XOR with plain gradient descent.")

if "xor" not in st.session_state:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (200, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    spec = NetworkSpec(2, (LayerSpec(4, "tanh"), LayerSpec(1, "sigmoid")), "binary_cross_entropy")
    st.session_state.xor = Stepper(spec, TrainConfig(learning_rate=0.5, batch_size=200), x, y)
    st.session_state.xor_losses = []

stepper: Stepper = st.session_state.xor
if st.button("Step", key="step", type="primary"):
    stepper.finish_step()
    assert stepper.state.err is not None
    st.session_state.xor_losses.append(stepper.state.err.loss)

losses = st.session_state.xor_losses
st.metric("Steps", stepper.state.step)
if losses:
    st.metric("Loss after the last step", f"{losses[-1]:.4f}")
    st.line_chart(losses)
