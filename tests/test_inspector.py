"""The neuron inspector: every number it reports is the engine's, at every phase of a step.

Walks small networks through one step phase by phase and checks, for every unit, the shown
sample and the batch: z and a equal the trace, the listed terms and the rest sum to z, the
backpropagated terms sum to dL/da, delta = dL/da f'(z) exactly where the engine computed it
that way, the gradients equal weight_der / bias_der, and the update's before/after equal
prev_params / params. Sections exist exactly when their phase has run.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.analysis.inspector import (
    NeuronReport,
    der_equation,
    equation,
    inspect_neuron,
    layer_name,
    num,
    weights_used,
)
from explorer.engine import ACTIVATIONS, LOSS_FUNCTIONS, NetworkSpec, Stepper, TrainConfig
from explorer.engine.units import shown, unit_values
from explorer.figures import network_figure
from tests.conftest import graph_labels, net

SIGMOID_MSE = net((2, 3, 2), "sigmoid", "sigmoid", "mse")
RELU_CE = net((4, 5, 3), "relu", "softmax", "cross_entropy")
TANH_BCE = net((3, 4, 1), "tanh", "sigmoid", "binary_cross_entropy")
SOFTMAX_MSE = net((3, 4, 3), "tanh", "softmax", "mse")
SGD = TrainConfig(optimizer="sgd", learning_rate=0.5, batch_size=6)
TOL = 1e-12


def stepper(spec: NetworkSpec, config: TrainConfig = SGD, seed: int = 0) -> Stepper:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(24, spec.input_size))
    n_out = spec.layers[-1].size
    if spec.loss == "cross_entropy" or n_out > 1:
        y = rng.integers(0, n_out, size=24)
    else:
        y = rng.integers(0, 2, size=24).astype(float)
    return Stepper(spec, config, x, y, seed=seed)


def samples(s: Stepper) -> list[int | None]:
    return [None, 0, len(s.state.x) - 1]


def every_report(s: Stepper, config: TrainConfig = SGD) -> list[NeuronReport]:
    spec = s.spec
    return [
        inspect_neuron(spec, s.state, layer, unit, sample=sample, config=config, top=2)
        for layer in range(len(spec.layers))
        for unit in range(spec.layers[layer].size)
        for sample in samples(s)
    ]


# -- one check per section ----------------------------------------------------------------------
def check_forward(s: Stepper, r: NeuronReport) -> None:
    st_ = s.state
    computed = r.layer < len(st_.z)
    assert (r.forward is not None) == computed
    if r.forward is None:
        return
    f = r.forward
    assert f.z == shown(st_.z[r.layer], "z", r.sample)[r.unit]
    assert f.a == shown(st_.a[r.layer], "a", r.sample)[r.unit]
    params = weights_used(st_)
    assert f.bias == params.biases[r.layer][r.unit]
    a_prev = st_.x if r.layer == 0 else st_.a[r.layer - 1]
    shown_prev = shown(a_prev, "a", r.sample)
    for t in f.terms:
        assert t.weight == params.weights[r.layer][t.unit, r.unit]
        assert t.value == shown_prev[t.unit]
        assert t.product == t.weight * t.value
    assert len(f.terms) + f.n_rest == s.spec.sizes[r.layer]
    assert sum(t.product for t in f.terms) + f.rest + f.bias == pytest.approx(f.z, abs=TOL)
    # the listed terms are the largest in magnitude
    all_products = params.weights[r.layer][:, r.unit] * shown_prev
    assert min(abs(t.product) for t in f.terms) == np.sort(np.abs(all_products))[-len(f.terms)]


def check_error(s: Stepper, r: NeuronReport) -> None:
    err = s.state.err
    is_output = r.layer == len(s.spec.layers) - 1
    assert (r.error is not None) == (is_output and err is not None)
    if r.error is None or err is None:
        return
    e = r.error
    assert e.output_der == shown(err.output_der, "output_der", r.sample)[r.unit]
    assert e.input_der == shown(err.input_der, "input_der", r.sample)[r.unit]
    if e.f_der is not None:
        # mse through an elementwise f: the engine's delta is exactly dL/da * f'(z).
        assert e.rule == "chain"
        assert e.output_der * e.f_der == e.input_der
    if r.sample is not None and s.spec.loss == "cross_entropy":
        batch = len(s.state.x)
        assert e.input_der == pytest.approx((e.a - e.target) / batch, abs=TOL)


def check_backward(s: Stepper, r: NeuronReport) -> None:
    n = len(s.spec.layers)
    own = s.state.layer_gradients(r.layer)
    assert (r.backward is not None) == (r.layer < n - 1 and own is not None)
    if r.backward is None or own is None:
        return
    b = r.backward
    above = s.state.layer_gradients(r.layer + 1)
    assert above is not None
    assert b.output_der == shown(own.output_der, "output_der", r.sample)[r.unit]
    assert b.input_der == shown(own.input_der, "input_der", r.sample)[r.unit]
    w = weights_used(s.state).weights[r.layer + 1]
    deltas = shown(above.input_der, "input_der", r.sample)
    for t in b.terms:
        assert t.weight == w[r.unit, t.unit]
        assert t.value == deltas[t.unit]
    assert sum(t.product for t in b.terms) + b.rest == pytest.approx(b.output_der, abs=TOL)
    if r.sample is not None:
        assert b.f_der is not None
        assert b.output_der * b.f_der == b.input_der


def check_gradient(s: Stepper, r: NeuronReport) -> None:
    grads = s.state.layer_gradients(r.layer)
    assert (r.gradient is not None) == (grads is not None)
    if r.gradient is None or grads is None:
        return
    g = r.gradient
    assert g.bias_grad == grads.bias_der[r.unit]
    assert g.bias_grad == pytest.approx(grads.input_der[:, r.unit].sum(), abs=TOL)
    a_prev = s.state.x if r.layer == 0 else s.state.a[r.layer - 1]
    for wg in g.weights:
        assert wg.grad == grads.weight_der[wg.source, r.unit]
        # The batch gradient is the SUM of the per-sample shares (delta carries the 1/B).
        batch_sum = np.sum(a_prev[:, wg.source] * grads.input_der[:, r.unit])
        assert wg.grad == pytest.approx(batch_sum, abs=TOL)
        if r.sample is None:
            assert wg.share is None
        else:
            expected = a_prev[r.sample, wg.source] * grads.input_der[r.sample, r.unit]
            assert wg.share == expected


def check_update(s: Stepper, r: NeuronReport, config: TrainConfig) -> None:
    prev = s.state.prev_params
    assert (r.update is not None) == (prev is not None)
    if r.update is None or prev is None:
        return
    new = s.state.params
    u = r.update
    assert u.bias.before == prev.biases[r.layer][r.unit]
    assert u.bias.after == new.biases[r.layer][r.unit]
    assert r.gradient is not None
    assert [c.source for c in u.weights] == [wg.source for wg in r.gradient.weights]
    for c in (u.bias, *u.weights):
        if c.source != -1:
            assert c.before == prev.weights[r.layer][c.source, r.unit]
            assert c.after == new.weights[r.layer][c.source, r.unit]
        assert c.step == c.after - c.before
        if config.optimizer == "sgd" and not (config.l1 or config.l2):
            assert c.after == pytest.approx(c.before - config.learning_rate * c.grad, abs=TOL)


def check_sections(r: NeuronReport) -> None:
    by_key = {sec.key: sec for sec in r.sections}
    numbers = {
        "forward": r.forward,
        "error": r.error,
        "backward": r.backward,
        "gradient": r.gradient,
        "update": r.update,
    }
    for key, value in numbers.items():
        if key in by_key:
            assert by_key[key].computed == (value is not None)
            if value is None:
                assert "not computed yet" in by_key[key].caption.lower()
                assert not by_key[key].latex and not by_key[key].rows
            else:
                assert by_key[key].latex and by_key[key].rows
    assert {"forward", "gradient", "update"} <= set(by_key)
    assert ("error" in by_key) != ("backward" in by_key)


# -- the walk through a step ----------------------------------------------------------------------
@pytest.mark.parametrize("spec", [SIGMOID_MSE, RELU_CE, TANH_BCE, SOFTMAX_MSE], ids=str)
def test_numbers_equal_the_trace_at_every_phase(spec: NetworkSpec) -> None:
    s = stepper(spec)
    for _ in range(len(s.phases) + 1):  # before the first phase, after each, into the next batch
        for r in every_report(s):
            check_forward(s, r)
            check_error(s, r)
            check_backward(s, r)
            check_gradient(s, r)
            check_update(s, r, SGD)
            check_sections(r)
        s.advance()


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(optimizer="momentum", learning_rate=0.1, batch_size=6),
        TrainConfig(optimizer="adam", learning_rate=0.01, batch_size=6),
        TrainConfig(optimizer="sgd", learning_rate=0.3, batch_size=6, l1=0.01, l2=0.05),
    ],
    ids=lambda c: c.optimizer + ("+reg" if c.l2 else ""),
)
def test_update_before_after_for_every_optimizer(config: TrainConfig) -> None:
    s = stepper(RELU_CE, config)
    s.run_steps(2)  # the second update uses the optimizer's buffers
    for r in every_report(s, config):
        check_update(s, r, config)
        assert r.update is not None
        latex = " ".join(next(sec for sec in r.sections if sec.key == "update").latex)
        assert num(r.update.weights[0].after) in latex


def test_sgd_update_latex_shows_the_rule_with_its_numbers() -> None:
    s = stepper(SIGMOID_MSE)
    s.finish_step()
    r = inspect_neuron(SIGMOID_MSE, s.state, 1, 0, config=SGD)
    assert r.update is not None
    sec = next(sec for sec in r.sections if sec.key == "update")
    c = r.update.weights[0]
    text = " ".join(sec.latex)
    assert r"\eta" in text
    assert num(c.before) in text and num(SGD.learning_rate) in text and num(c.after) in text


def test_batch_view_sums_derivatives_and_averages_values() -> None:
    s = stepper(RELU_CE)
    s.finish_step()
    spec, state = RELU_CE, s.state
    b = len(state.x)
    for layer in range(len(spec.layers)):
        for unit in range(spec.layers[layer].size):
            batch = inspect_neuron(spec, state, layer, unit)
            each = [inspect_neuron(spec, state, layer, unit, sample=i) for i in range(b)]
            assert batch.forward is not None and batch.gradient is not None
            assert batch.forward.z == pytest.approx(
                np.mean([r.forward.z for r in each if r.forward]), abs=TOL
            )
            # dL/db of the batch = the sum of every sample's delta (each already has its 1/B).
            deltas = [r.gradient.delta for r in each if r.gradient]
            assert batch.gradient.bias_grad == pytest.approx(sum(deltas), abs=TOL)
            assert batch.gradient.delta == pytest.approx(sum(deltas), abs=TOL)
            caption = next(sec for sec in batch.sections if sec.key == "gradient").caption
            assert "SUM" in caption and "1/B" in caption


def test_cross_entropy_error_is_the_shortcut() -> None:
    s = stepper(RELU_CE)
    for _ in range(len(RELU_CE.layers) + 1):
        s.advance()
    st_ = s.state
    assert st_.err is not None
    r = inspect_neuron(RELU_CE, st_, 1, 2, sample=3)
    assert r.error is not None and r.error.rule == "cross_entropy"
    onehot = float(st_.err.target[3] == 2)
    assert r.error.target == onehot
    assert r.error.input_der == pytest.approx((st_.a[1][3, 2] - onehot) / len(st_.x), abs=TOL)
    assert r.backward is None and r.gradient is None and r.update is None


def test_input_unit_shows_value_and_strongest_outgoing_weights() -> None:
    s = stepper(RELU_CE)
    r0 = inspect_neuron(RELU_CE, s.state, -1, 2, sample=1, top=3)
    assert r0.input is not None
    assert r0.input.value == s.state.x[1, 2]
    w = s.state.params.weights[0][2]
    assert list(r0.input.targets) == list(np.argsort(-np.abs(w), kind="stable")[:3])
    assert r0.input.weights == tuple(w[list(r0.input.targets)])
    assert r0.input.grads is None
    s.finish_step()
    r1 = inspect_neuron(RELU_CE, s.state, -1, 2)
    assert r1.input is not None and r1.input.grads is not None
    assert r1.input.value == pytest.approx(s.state.x[:, 2].mean(), abs=TOL)
    assert r1.input.grads == tuple(s.state.back[-1].weight_der[2][list(r1.input.targets)])
    assert [sec.key for sec in r1.sections] == ["input", "outgoing"]


def test_sections_before_any_phase_say_not_computed() -> None:
    s = stepper(SIGMOID_MSE)
    r = inspect_neuron(SIGMOID_MSE, s.state, 0, 1, sample=0)
    assert [sec.key for sec in r.sections] == ["forward", "backward", "gradient", "update"]
    assert not any(sec.computed for sec in r.sections)
    assert "forward, layer 1" in r.sections[0].caption


def test_forward_latex_and_rows_carry_the_numbers() -> None:
    s = stepper(SIGMOID_MSE)
    s.advance()
    r = inspect_neuron(SIGMOID_MSE, s.state, 0, 1, sample=2)
    assert r.forward is not None
    sec = r.sections[0]
    assert num(r.forward.z) in sec.latex[1] and num(r.forward.a) in sec.latex[2]
    assert sec.rows[-1] == {"input i": "z", "w_i·a_i": r.forward.z}


@pytest.mark.parametrize(
    ("layer", "unit", "sample"), [(2, 0, None), (-2, 0, None), (0, 3, None), (0, 0, 99)]
)
def test_bad_arguments_raise(layer: int, unit: int, sample: int | None) -> None:
    s = stepper(SIGMOID_MSE)
    with pytest.raises(ValueError):
        inspect_neuron(SIGMOID_MSE, s.state, layer, unit, sample=sample)


def test_unit_values_follow_the_phases() -> None:
    s = stepper(SIGMOID_MSE)
    st_ = s.state
    assert unit_values(SIGMOID_MSE, st_, -1, "a") is st_.x
    assert unit_values(SIGMOID_MSE, st_, -1, "input_der") is None
    assert unit_values(SIGMOID_MSE, st_, 0, "z") is None
    for _ in range(3):  # forward 0, forward 1, error
        s.advance()
    err = s.state.err
    assert err is not None
    assert unit_values(SIGMOID_MSE, s.state, 1, "input_der") is err.input_der
    assert unit_values(SIGMOID_MSE, s.state, 0, "input_der") is None
    with pytest.raises(ValueError):
        unit_values(SIGMOID_MSE, s.state, 0, "weight")


def test_num_formats_for_latex() -> None:
    assert num(0.5) == "0.5"
    assert num(-1.23456) == "-1.235"
    assert num(1.5e-7) == r"1.5\times 10^{-7}"


@settings(max_examples=20, deadline=None)
@given(
    hidden=st.sampled_from(["relu", "tanh", "gelu", "leaky_relu", "softplus"]),
    sizes=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(2, 3)),
    phases=st.integers(0, 8),
    seed=st.integers(0, 1000),
)
def test_any_network_any_phase(
    hidden: str, sizes: tuple[int, int, int], phases: int, seed: int
) -> None:
    spec = net(sizes, hidden, "softmax", "cross_entropy")
    s = stepper(spec, seed=seed)
    for _ in range(phases):
        s.advance()
    for r in every_report(s):
        check_forward(s, r)
        check_error(s, r)
        check_backward(s, r)
        check_gradient(s, r)
        check_update(s, r, SGD)


def test_inspector_imports_neither_streamlit_nor_plotly() -> None:
    code = "import sys, explorer.analysis.inspector; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {m.split(".")[0] for m in out.stdout.split()}
    assert not loaded & {"streamlit", "plotly", "torch"}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_equation_opens_with_its_left_hand_side_once(name: str) -> None:
    act = ACTIVATIONS[name]
    for lhs, latex in (("f(z)", equation("f(z)", act.formula)), ("f'(z)", der_equation(act))):
        text = latex.removeprefix(r"\small ").removeprefix(r"\begin{aligned} ")
        # aligned rows too: on the first row, not centred beside all of them; and not twice
        assert text.startswith((f"{lhs} =", f"{lhs} &=")), text
        assert f"{lhs} = {lhs}" not in text, text


def test_equation_keeps_what_the_formula_names() -> None:
    assert equation("f(z)", "z") == r"\small f(z) = z"
    assert equation("f(z)", r"\sigma(z) = x") == r"\small f(z) = \sigma(z) = x"
    gelu = der_equation(ACTIVATIONS["gelu"])
    assert gelu.startswith(r"\small \begin{aligned} f'(z) &= ")
    # its symbols as rows under it, each on its own line, aligned on "="
    assert r",\\ t &= \tanh u" in gelu and r",\\ u' &= \sqrt{2/\pi}" in gelu


# -- notation, the loss, the batch's wording, which sections open -------------------------------
def latex_of(r: NeuronReport, key: str) -> str:
    return " ".join(next(sec for sec in r.sections if sec.key == key).latex)


def test_two_indices_are_separated_by_a_comma() -> None:
    """w from unit 10 into unit 1 is w_{10,1}, never w_{101} (which reads as unit 101)."""
    spec = net((12, 11, 3), "relu", "softmax", "cross_entropy")
    s = stepper(spec)
    s.finish_step()
    r = inspect_neuron(spec, s.state, 0, 10, config=SGD)
    assert r.gradient is not None and r.update is not None
    source = r.gradient.weights[0].source
    assert source >= 1  # two numbers that would run together
    for key in ("gradient", "update"):
        assert f"w^{{(1)}}_{{{source},10}}" in latex_of(r, key)
        assert f"_{{{source}10}}" not in latex_of(r, key)
    assert r"w^{(1)}_{i,10}" in latex_of(r, "forward")
    hidden = inspect_neuron(spec, s.state, 0, 10, sample=0)
    assert r"w^{(2)}_{10,k}" in latex_of(hidden, "backward")


@pytest.mark.parametrize("spec", [SIGMOID_MSE, RELU_CE, TANH_BCE, SOFTMAX_MSE], ids=str)
def test_the_error_phase_shows_the_loss_it_computed(spec: NetworkSpec) -> None:
    s = stepper(spec)
    for _ in range(len(spec.layers) + 1):
        s.advance()
    err, out = s.state.err, len(spec.layers) - 1
    assert err is not None
    shares = []
    for sample in (None, *range(len(s.state.x))):
        r = inspect_neuron(spec, s.state, out, 0, sample=sample)
        assert r.error is not None and r.error.loss == err.loss
        text = latex_of(r, "error")
        assert f"= {num(err.loss)}" in text
        if sample is None:
            assert text.startswith(LOSS_FUNCTIONS[spec.loss].formula)
            continue
        assert r.error.sample_loss is not None and num(r.error.sample_loss) in text
        shares.append(r.error.sample_loss)
        if spec.loss == "cross_entropy":
            label = int(err.target[sample])
            a_label = s.state.a[out][sample, label]
            assert r.error.label == label
            assert r.error.sample_loss == pytest.approx(-np.log(a_label), abs=TOL)
            assert rf"-\log a_{{{label}}}\quad(\text{{label {label}}})" in text
            assert rf"&= -\log {num(a_label)} = {num(r.error.sample_loss)}" in text
    # the batch's loss is the mean of the samples' shares
    assert np.mean(shares) == pytest.approx(err.loss, abs=TOL)


def test_the_batch_view_says_what_is_averaged_and_summed_over_how_many() -> None:
    spec = RELU_CE
    s = stepper(spec)
    for _ in range(len(spec.layers) + 1):
        s.advance()
    b = len(s.state.x)
    r = inspect_neuron(spec, s.state, 1, 2)
    assert f"Batch of {b}" in r.note and "means" in r.note and "sums" in r.note
    (row,) = next(sec for sec in r.sections if sec.key == "error").rows
    assert set(row) == {
        f"a (mean of {b})",
        f"target (mean of {b})",
        f"dL/da (sum over {b})",
        f"δ = dL/dz (sum over {b})",
    }
    # for cross-entropy the sum of the deltas is mean a minus mean target, shown with numbers
    e = r.error
    assert e is not None and e.input_der == pytest.approx(e.a - e.target, abs=TOL)
    assert f"{num(e.a)} - {num(e.target)} = {num(e.input_der)}" in latex_of(r, "error")
    assert inspect_neuron(spec, s.state, 1, 2, sample=0).note == ""


def test_a_zero_dl_da_is_explained_and_delta_is_not_zero() -> None:
    """Cross-entropy's dL/da_j is 0 for every sample not labelled j: with no sample of the
    batch labelled 2 the batch's sum is exactly 0, and the inspector says why."""
    spec = RELU_CE
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(24, 4)), rng.integers(0, 2, size=24)  # classes 0 and 1 only
    s = Stepper(spec, SGD, x, y, seed=0)
    for _ in range(len(spec.layers) + 1):
        s.advance()
    r = inspect_neuron(spec, s.state, 1, 2)
    assert r.error is not None and r.error.output_der == 0 and r.error.input_der != 0
    caption = next(sec for sec in r.sections if sec.key == "error").caption
    assert f"none of these {len(x[: SGD.batch_size])} is labelled 2" in caption
    assert "δ is not 0" in caption
    one = inspect_neuron(spec, s.state, 1, 2, sample=0)
    assert one.error is not None and one.error.output_der == 0
    label = int(y[s.state.batch_index[0]])
    assert f"labelled {label}" in next(sec for sec in one.sections if sec.key == "error").caption


def test_the_newest_phase_opens_its_sections() -> None:
    """Before any phase: the first pending section; then the section the newest phase
    computed; backward and gradients arrive together; the input needs no phase."""
    spec = SIGMOID_MSE  # 2-3-2: forward 1, forward 2, error, backward 2, backward 1, update
    s = stepper(spec)
    expected = [  # (hidden unit, output unit) after 0, 1, ... phases
        (("forward",), ("forward",)),
        (("forward",), ("forward",)),
        (("forward",), ("forward",)),
        (("forward",), ("error",)),
        (("forward",), ("gradient",)),
        (("backward", "gradient"), ("gradient",)),
        (("update",), ("update",)),
    ]
    for hidden, output in expected:
        for sample in (None, 0):
            assert inspect_neuron(spec, s.state, 0, 0, sample=sample).newest == hidden
            assert inspect_neuron(spec, s.state, 1, 1, sample=sample).newest == output
        assert inspect_neuron(spec, s.state, -1, 0).newest == ("input", "outgoing")
        s.advance()


def test_layers_are_named_as_the_graph_names_them() -> None:
    spec = net((3, 4, 4, 2), "tanh", "softmax", "cross_entropy")
    s = stepper(spec)
    headers = graph_labels(network_figure(spec, s.state))
    names = [layer_name(spec, layer) for layer in range(-1, len(spec.layers))]
    assert names == ["input", "layer 1", "layer 2", "output"]
    for name, header in zip(names, headers, strict=False):
        assert header.startswith(name)
    assert inspect_neuron(spec, s.state, 1, 0).title == "layer 2 (tanh), unit 0 (batch)"
