"""The Convolution page's figures: what each row of a block shows in forward and in backward,
one symmetric colour scale per row, clickable pixels that name themselves, the selection box
and the receptive field's box."""

from __future__ import annotations

import numpy as np

from explorer.engine import LayerSpec, TrainConfig
from explorer.engine.conv import BlockGradients, ConvBlockSpec, ConvNetSpec, ConvStepper
from explorer.engine.conv.pixel import Field
from explorer.figures.conv import block_figure, image_figure
from explorer.figures.style import COLORSCALE

SPEC = ConvNetSpec(
    (9, 9), (ConvBlockSpec(3, 3, "valid", "relu", True),), (LayerSpec(3, "softmax"),)
)


def stepper() -> ConvStepper:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 81)), rng.integers(0, 3, 12)
    return ConvStepper(SPEC, TrainConfig(batch_size=4), x, y, seed=1)


def heat_rows(fig: object) -> list[list[np.ndarray]]:
    """The heatmaps' values, row by row (a trace per filter)."""
    heats = [t for t in fig.data if t.type == "heatmap"]  # type: ignore[attr-defined]
    return [
        [np.asarray(t.z, dtype=float) for t in heats[r : r + 3]] for r in range(0, len(heats), 3)
    ]


def test_forward_rows_hold_kernels_and_maps_with_one_symmetric_scale_each() -> None:
    s = stepper()
    before = block_figure(SPEC, s.state, 0, sample=1, params=s.state.params)
    assert len(heat_rows(before)) == 1  # only the kernels before the block's forward phase
    s.advance()
    st = s.state
    fig = block_figure(SPEC, st, 0, sample=1, params=st.params, current=True, title="t")
    rows = heat_rows(fig)
    rec = st.blocks[0]
    want = [st.params.weights[0][:, 0], rec.z[1], rec.a[1], rec.pooled[1]]
    for got, values in zip(rows, want, strict=True):
        for f in range(3):
            assert np.array_equal(got[f], values[f])
    heats = [t for t in fig.data if t.type == "heatmap"]
    for r in range(4):
        scale = {t.coloraxis for t in heats[3 * r : 3 * r + 3]}
        assert len(scale) == 1  # one colour scale per quantity
        axis = fig.layout[scale.pop()]
        low, high = axis.cmin, axis.cmax
        assert low == -high and np.isclose(high, np.abs(want[r]).max())
    assert any(shape.line.width == 3 for shape in fig.layout.shapes)  # the block just run


def test_backward_rows_hold_the_gradients() -> None:
    s = stepper()
    s.finish_step()
    g = s.state.layer_gradients(0)
    assert isinstance(g, BlockGradients)
    fig = block_figure(SPEC, s.state, 0, sample=2, params=s.state.params, gradients=g)
    rows = heat_rows(fig)
    assert g.pooled_der is not None
    want = [g.kernel_der[:, 0], g.input_der[2], g.output_der[2], g.pooled_der[2]]
    for got, values in zip(rows, want, strict=True):
        assert all(np.array_equal(got[f], values[f]) for f in range(3))
    assert fig.layout.yaxis.title.text.startswith("dL/dw")


def test_every_map_names_its_row_and_filter_for_a_click_and_hovers_its_value() -> None:
    s = stepper()
    s.advance()
    fig = block_figure(SPEC, s.state, 0, sample=0, params=s.state.params, selected=(2, 5, 6))
    maps = [t for t in fig.data if t.meta is not None]
    assert len(maps) == 3 * 3  # z, a and pooled maps of three filters, the kernels not picked
    assert [tuple(t.meta["pick"]) for t in maps] == [(r, f) for r in range(3) for f in range(3)]
    z_of_filter_2 = maps[2]
    # a cell's (y, x) is its index in z: what the chart adds to the pick
    assert np.array_equal(np.asarray(z_of_filter_2.z), s.state.blocks[0].z[0, 2])
    assert "z = w∗x + b, filter 3, (%{y}, %{x}): %{z:.4g}" in z_of_filter_2.hovertemplate
    boxes = [(sh.x0 + 0.5, sh.y0 + 0.5, sh.xref) for sh in fig.layout.shapes if sh.line.width == 2]
    # z and a boxed at (5, 6), the pool at its window (2, 3), each in filter 3's column
    assert [(x, y) for x, y, _ in boxes] == [(6, 5), (6, 5), (3, 2)]


def test_the_image_boxes_a_receptive_field() -> None:
    fig = image_figure(np.zeros((9, 9)), field=Field(1, 3, 4, 6), title="Sample 0")
    [box] = fig.layout.shapes
    assert (box.x0, box.x1, box.y0, box.y1) == (3.5, 6.5, 0.5, 3.5)


def test_maps_are_coloured_as_the_explorer_colours_them() -> None:
    """Red negative, blue positive, as the Explorer's graph (plotly's own "RdBu" names run the
    other way in plotly.py and plotly.js)."""
    s = stepper()
    s.advance()
    fig = block_figure(SPEC, s.state, 0, sample=1, params=s.state.params, current=True)
    for heat in (t for t in fig.data if t.type == "heatmap"):
        scale = fig.layout[heat.coloraxis].colorscale
        low, high = scale[0][1], scale[-1][1]
        assert low == COLORSCALE[0][1] and high == COLORSCALE[-1][1]
    red, blue = (int(COLORSCALE[k][1].strip("rgb()").split(",")[0]) for k in (0, -1))
    assert red > 100 > blue  # the low end is red, the high end blue
