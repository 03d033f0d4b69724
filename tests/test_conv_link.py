"""CNN links without a page: the builder's choices and the trail round-trip exactly, a
replayed trail gives the same network bit for bit, a malformed or mutated link never raises
and falls back to defaults, and a trail over the replay budget is refused before any work."""

from __future__ import annotations

import random
from dataclasses import fields, replace

import numpy as np
import pytest

from explorer.data import load_dataset
from explorer.engine import LayerSpec, Loaded, Phases, ReplayError, Stepper, TrainConfig, replay
from explorer.engine.conv import ConvBlockSpec, ConvNetSpec, ConvStepper
from explorer.engine.conv.replay import conv_replay_cost, replay_conv
from explorer.engine.trail import REPLAY_BUDGET_S, FastEpoch
from explorer.state.settings import Settings
from explorer.ui.conv_link import conv_from_query, conv_to_query, linked_fields
from explorer.ui.conv_session import ConvSettings

IMAGES = ("mnist-sample", "digits-8x8")
SETTINGS = ConvSettings(
    dataset="digits-8x8",
    blocks=(ConvBlockSpec(3, 3, "same", "tanh", True), ConvBlockSpec(2, 3, "valid", "relu", False)),
    learning_rate=0.3,
    batch_size=7,
    seed=11,
)


def stepper(settings: ConvSettings) -> ConvStepper:
    data = load_dataset(settings.dataset)
    spec = settings.spec(data)
    return ConvStepper(spec, settings.config(), data.x_train, data.y_train, seed=settings.seed)


def params(s: ConvStepper) -> list[np.ndarray]:
    p = s.state.params
    return [*p.weights, *p.biases]


def test_every_builder_choice_goes_into_the_link() -> None:
    assert set(linked_fields()) == {f.name for f in fields(ConvSettings)}


def test_settings_and_trail_round_trip_and_replay_bit_for_bit() -> None:
    teacher = stepper(SETTINGS)
    teacher.run_steps(3)
    teacher.set_config(replace(SETTINGS.config(), learning_rate=0.01, optimizer="adam"))
    teacher.run_epoch_fast()
    for _ in range(4):
        teacher.advance()
    trail = teacher.state.trail
    link = conv_from_query(conv_to_query(SETTINGS, trail), IMAGES)
    assert link.warnings == ()
    assert link.settings == SETTINGS and link.trail == trail

    student = stepper(link.settings)
    replay_conv(student, link.trail)
    t, s = teacher.state, student.state
    assert (s.epoch, s.step, s.position, s.done) == (t.epoch, t.step, t.position, t.done)
    assert all(np.array_equal(a, b) for a, b in zip(params(teacher), params(student), strict=True))
    assert np.array_equal(s.blocks[0].z, t.blocks[0].z)  # the half-done batch too


def test_a_link_missing_fields_takes_their_defaults() -> None:
    link = conv_from_query({"net": "cnn", "seed": "4", "blocks": "8:5"}, IMAGES)
    assert link.warnings == ()
    assert link.settings == ConvSettings(seed=4, blocks=(ConvBlockSpec(8, 5),))


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("blocks", "99:3:valid:relu:1"),
        ("blocks", "4:4:valid:relu:1"),
        ("blocks", "4:3:valid:relu:1,4:3:valid:relu:1,4:3:valid:relu:1"),
        ("blocks", "4:3:valid:relu:1:extra"),
        ("blocks", "4:3:valid:softmax:1"),
        ("blocks", "4:3:valid:relu:yes"),
        ("learning_rate", "nan"),
        ("learning_rate", "0.123"),
        ("learning_rate", "1e400"),
        ("batch_size", "-3"),
        ("seed", "1.5"),
        ("dataset", "circle"),
        ("dataset", "../../etc/passwd"),
    ],
)
def test_a_bad_value_falls_back_to_its_default_with_a_warning(key: str, raw: str) -> None:
    link = conv_from_query({"net": "cnn", key: raw}, IMAGES)
    assert len(link.warnings) == 1 and key in link.warnings[0]
    assert link.settings == ConvSettings()


def test_an_mlp_link_is_named_and_ignored() -> None:
    link = conv_from_query({"hidden_sizes": "4,2", "head": "x", "trail": "12"}, IMAGES)
    assert "hidden_sizes" in link.warnings[0] and link.settings == ConvSettings()


def test_random_mutations_of_a_link_never_raise() -> None:
    teacher = stepper(SETTINGS)
    teacher.run_steps(2)
    teacher.advance()
    query = conv_to_query(SETTINGS, teacher.state.trail)
    rng = random.Random(0)
    alphabet = "0123456789:;,.~=-eFWBnaxyz\x00é%"
    for _ in range(400):
        mutated = dict(query)
        key = rng.choice([*query, "unknown"])
        text = list(mutated.get(key, ""))
        for _ in range(rng.randint(1, 4)):
            at = rng.randint(0, len(text))
            if text and rng.random() < 0.5:
                del text[min(at, len(text) - 1)]
            else:
                text.insert(at, rng.choice(alphabet))
        mutated[key] = "".join(text)
        link = conv_from_query(mutated, IMAGES)
        # whatever it held, what was read is a link of its own, read back the same
        again = conv_from_query(conv_to_query(link.settings, link.trail), IMAGES)
        assert (again.settings, again.trail, again.warnings) == (link.settings, link.trail, ())


def test_a_trail_over_the_budget_is_refused_before_any_work() -> None:
    s = stepper(ConvSettings(dataset="digits-8x8"))
    config = s.config
    steps_in_budget = REPLAY_BUDGET_S / conv_replay_cost((Phases(10, config),), s.spec, s.n_train)
    trail = (Phases(int(steps_in_budget * 10) + 10, config),)
    before = params(s)
    with pytest.raises(ReplayError, match="would take about"):
        replay_conv(s, trail)
    assert s.state.step == 0 and s.state.done == 0 and not s.can_step_back
    assert all(np.array_equal(a, b) for a, b in zip(before, params(s), strict=True))


def test_the_cost_counts_the_work() -> None:
    config = TrainConfig(batch_size=32)
    small = ConvNetSpec((28, 28), (ConvBlockSpec(),), (LayerSpec(10, "softmax"),))
    big = ConvNetSpec(
        (28, 28),
        (ConvBlockSpec(16, 5, "same"), ConvBlockSpec(16, 5, "same", pool=False)),
        (LayerSpec(10, "softmax"),),
    )
    epoch = (FastEpoch(config),)
    assert conv_replay_cost(epoch, big, 8000) > 10 * conv_replay_cost(epoch, small, 8000)
    assert conv_replay_cost(epoch * 2, small, 8000) > conv_replay_cost(epoch, small, 60_000) / 4
    assert conv_replay_cost(epoch, small, 60_000) > REPLAY_BUDGET_S  # Fashion-MNIST's epoch


def test_loaded_parameters_are_neither_linked_nor_replayed() -> None:
    with pytest.raises(ValueError, match="loaded"):
        conv_to_query(SETTINGS, (Loaded(),))
    with pytest.raises(ReplayError, match="loaded"):
        replay_conv(stepper(SETTINGS), (Loaded(),))


def test_a_hand_edit_in_a_crafted_link_is_refused_at_replay() -> None:
    link = conv_from_query({"net": "cnn", "trail": "W0.0.0=1.0"}, IMAGES)
    with pytest.raises(ReplayError, match="hand edits"):
        replay_conv(stepper(link.settings), link.trail)


def test_a_batch_size_changed_before_a_batch_begins_replays_the_same() -> None:
    """The batch drawn at the old size is drawn again at the new one when its first phase
    runs, so the trail (which records the new size) replays it; so does the MLP's."""
    teacher = stepper(SETTINGS)
    teacher.set_config(replace(SETTINGS.config(), batch_size=3))
    teacher.run_steps(2)
    student = stepper(replace(SETTINGS, batch_size=3))
    replay_conv(student, teacher.state.trail)
    assert student.state.position == teacher.state.position == 3
    assert all(np.array_equal(a, b) for a, b in zip(params(teacher), params(student), strict=True))

    settings = Settings(batch_size=10)
    data = load_dataset("circle")
    mlp = [
        Stepper(settings.network_spec(data), c, data.x_train, data.y_train)
        for c in (settings.train_config(), replace(settings.train_config(), batch_size=4))
    ]
    mlp[0].set_config(mlp[1].config)
    mlp[0].run_steps(3)
    replay(mlp[1], mlp[0].state.trail)
    assert mlp[0].state.position == mlp[1].state.position == 8
    assert all(
        np.array_equal(a, b)
        for a, b in zip(mlp[0].state.params.weights, mlp[1].state.params.weights, strict=True)
    )
