"""The Convolution page's files: a saved CNN session continues bit for bit (parameters, Adam's
buffers, the half-done batch, metrics, kernel history), through the library and through the
page's uploader; every hostile file is refused with one message and the screen unchanged; a
parameters file of the command line opens when it fits the builder's network."""

from __future__ import annotations

import io
import zipfile
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.data import DataError, load_dataset
from explorer.engine import Loaded, Params, SpecError, Stepper
from explorer.engine.conv import init_conv_params
from explorer.state.run_config import RunConfig, save_params
from explorer.state.session_file import SessionFileError, load_session, save_session
from explorer.state.settings import Settings
from explorer.ui import keys
from explorer.ui.conv_files import FILE_NAME, conv_run_of, load_conv_session, save_conv_session
from explorer.ui.conv_session import ConvRun, ConvSettings, build_conv
from tests.conftest import shown

APP = str(Path(__file__).parents[1] / "app.py")
PAGE = "app_pages/convolution.py"
# Adam's buffers travel too, once the builder offers optimizers (until then SGD's step count)
ADAM = {"optimizer": "adam"} if "optimizer" in {f.name for f in fields(ConvSettings)} else {}
SETTINGS = ConvSettings(dataset="digits-8x8", batch_size=5, seed=2)


def trained() -> ConvRun:
    run = build_conv(SETTINGS)
    run.act("run_steps", 3)
    run.settings = replace(SETTINGS, learning_rate=0.01, **ADAM)
    run.stepper.set_config(run.settings.config())
    run.act("run_steps", 2)
    for _ in range(3):
        run.act("advance")
    return run


def values(run: ConvRun) -> list[np.ndarray]:
    s = run.stepper.state
    out = [*s.params.weights, *s.params.biases]
    for buffer in (s.opt_state.m, s.opt_state.v):
        out += [] if buffer is None else [*buffer.weights, *buffer.biases]
    return out


def test_a_saved_cnn_continues_bit_for_bit() -> None:
    teacher = trained()
    student = conv_run_of(load_conv_session(save_conv_session(teacher)))
    t, s = teacher.stepper.state, student.stepper.state
    assert (s.epoch, s.step, s.position, s.done) == (t.epoch, t.step, t.position, t.done)
    assert s.trail == t.trail and s.opt_state.step == t.opt_state.step
    assert all(np.array_equal(a, b) for a, b in zip(values(teacher), values(student), strict=True))
    assert student.metrics == teacher.metrics and set(student.kernels) == set(teacher.kernels)
    assert all(np.array_equal(student.kernels[k], v) for k, v in teacher.kernels.items())
    for run in (teacher, student):
        run.act("run_steps", 2)
    assert all(np.array_equal(a, b) for a, b in zip(values(teacher), values(student), strict=True))


def test_a_file_saved_just_after_an_update_continues_too() -> None:
    teacher = build_conv(SETTINGS)
    teacher.act("run_steps", 2)
    student = conv_run_of(load_conv_session(save_conv_session(teacher)))
    assert student.stepper.state.done == teacher.stepper.state.done == 6  # 2 layers
    for a, b in zip(
        teacher.stepper.state.params.weights, student.stepper.state.params.weights, strict=True
    ):
        assert np.array_equal(a, b)


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _with(data: bytes, **arrays: np.ndarray) -> bytes:
    """The file with some arrays replaced."""
    members = _members(data)
    for name, arr in arrays.items():
        buf = io.BytesIO()
        np.save(buf, arr)
        members[f"{name}.npy"] = buf.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)
    return out.getvalue()


def mlp_file() -> bytes:
    settings = Settings()
    data = load_dataset(settings.dataset, **settings.data_params())
    stepper = Stepper(
        settings.network_spec(data), settings.train_config(), data.x_train, data.y_train
    )
    return save_session(settings, stepper.state, len(stepper.phases), [])


def hostile() -> dict[str, tuple[bytes, str]]:
    good = save_conv_session(trained())
    w0 = np.load(io.BytesIO(_members(good)["w0.npy"]))
    return {
        "empty": (b"", "empty"),
        "damaged": (good[: len(good) // 2], "session file"),
        "not a zip": (b"\x89PNG" + good, "not a Backprop Explorer session"),
        "an MLP session": (mlp_file(), "of the Explorer page"),
        "NaN": (_with(good, w0=np.full_like(w0, np.nan)), "not finite"),
        "wrong shape": (_with(good, w0=np.zeros((5, 1, 3, 3))), "does not fit"),
        "bad kernels": (_with(good, kernel_maps=np.zeros((2, 9))), "kernel history"),
        "pickled": (_with(good, w0=np.array([object()], dtype=object)), "session file"),
    }


@pytest.mark.parametrize("case", list(hostile()))
def test_a_hostile_file_is_refused_by_the_library(case: str) -> None:
    data, words = hostile()[case]
    with pytest.raises(SessionFileError, match=words):
        load_conv_session(data)


def page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, data: bytes) -> None:
    box = next(u for u in at.file_uploader if u.key == "cw_session_file")
    box.set_value((FILE_NAME, data, "application/octet-stream")).run()
    assert not at.exception, at.exception


def test_the_page_saves_and_another_session_continues() -> None:
    teacher = page()
    teacher.number_input(key="cw_seed").set_value(4).run()
    teacher.button(key="cb_step").click().run()
    teacher.button(key="cb_phase").click().run()
    teacher.button(key="cb_prepare_file").click().run()
    data = teacher.session_state["conv_prepared_file"]

    student = page()
    upload(student, data)
    t, s = teacher.session_state[keys.CONV_RUN], student.session_state[keys.CONV_RUN]
    assert s.settings == t.settings and student.number_input(key="cw_seed").value == 4
    ts, ss = t.stepper.state, s.stepper.state
    assert (ss.step, ss.done, ss.position) == (ts.step, ts.done, ts.position)
    assert all(
        np.array_equal(a, b) for a, b in zip(ts.params.weights, ss.params.weights, strict=True)
    )
    assert not student.error
    student.button(key="cb_step").click().run()  # the builder kept it: no rebuild
    assert student.session_state[keys.CONV_RUN].stepper.state.step == 2


@pytest.mark.parametrize("case", ["damaged", "an MLP session", "NaN", "wrong shape"])
def test_the_page_refuses_a_hostile_file_and_keeps_its_network(case: str) -> None:
    data, words = hostile()[case]
    at = page()
    at.button(key="cb_step").click().run()
    before = at.session_state[keys.CONV_RUN]
    upload(at, data)
    assert len(at.error) == 1 and words in shown(at.error[0].value)
    assert at.session_state[keys.CONV_RUN] is before and before.stepper.state.step == 1


def test_a_cnn_file_on_the_explorer_page_is_refused_by_name() -> None:
    with pytest.raises(SessionFileError, match="of the Convolution page"):
        load_session(save_conv_session(trained()), ["circle"], lambda s: None)


def test_a_network_trained_elsewhere_saves_and_loads_without_a_trail() -> None:
    teacher = build_conv(SETTINGS)
    p = teacher.stepper.state.params
    teacher.stepper.set_params(type(p)(tuple(w * 0.5 for w in p.weights), p.biases))
    teacher.act("advance")
    student = conv_run_of(load_conv_session(save_conv_session(teacher)))
    assert student.stepper.state.trail == teacher.stepper.state.trail  # (Loaded, 1 phase)
    assert student.stepper.state.done == 1
    for a, b in zip(
        teacher.stepper.state.params.weights, student.stepper.state.params.weights, strict=True
    ):
        assert np.array_equal(a, b)


def test_mutated_files_are_read_or_refused_never_raising_otherwise() -> None:
    good = save_conv_session(trained())
    meta = bytearray(np.load(io.BytesIO(_members(good)["meta.npy"])).tobytes())
    rng = np.random.default_rng(0)
    for i in range(300):
        # bytes anywhere in the file (the zip's checksums catch most), or in the meta
        # document written back into a well-formed file
        data = bytearray(good if i % 2 else meta)
        for at in rng.integers(0, len(data), rng.integers(1, 4)):
            data[at] = int(rng.integers(32, 127))
        if not i % 2:
            data = bytearray(_with(good, meta=np.frombuffer(bytes(data), dtype=np.uint8)))
        try:
            run = conv_run_of(load_conv_session(bytes(data)))
        except (SessionFileError, SpecError, DataError) as exc:
            assert str(exc)
        else:
            assert run.stepper.state.params.is_finite()


def test_a_command_line_parameters_file_opens_on_the_page() -> None:
    at = page()
    run: ConvRun = at.session_state[keys.CONV_RUN]
    trained_params = init_conv_params(run.spec, np.random.default_rng(7))
    out = io.BytesIO()
    save_params(out, trained_params, RunConfig(conv_blocks=run.spec.blocks))
    box = next(u for u in at.file_uploader if u.key == "cw_params_file")
    box.set_value(("params.npz", out.getvalue(), "application/octet-stream")).run()
    assert not at.exception and not at.error
    s = at.session_state[keys.CONV_RUN].stepper.state
    assert s.trail == (Loaded(),) and not at.query_params  # no link can rebuild it
    pairs = zip(s.params.weights, trained_params.weights, strict=True)
    assert all(np.array_equal(a, b) for a, b in pairs)
    at.button(key="cb_back").click().run()  # Back undoes it
    assert at.session_state[keys.CONV_RUN].stepper.state.trail == ()


def test_a_parameters_file_of_another_network_is_refused() -> None:
    at = page()
    mlp = Params((np.zeros((784, 10)),), (np.zeros(10),))
    out = io.BytesIO()
    save_params(out, mlp, RunConfig())
    box = next(u for u in at.file_uploader if u.key == "cw_params_file")
    box.set_value(("params.npz", out.getvalue(), "application/octet-stream")).run()
    assert len(at.error) == 1 and "The builder makes" in shown(at.error[0].value)
    assert at.session_state[keys.CONV_RUN].stepper.state.trail == ()
