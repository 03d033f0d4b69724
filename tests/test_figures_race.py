"""The Why GPUs figure: samples/s and FLOP/s against width, the matmul rate as a ceiling."""

from __future__ import annotations

from explorer.figures.race import RaceLine, race_figure


def test_each_contender_has_a_line_per_panel_and_a_dashed_matmul_rate() -> None:
    lines = [
        RaceLine("NumPy", [16, 4096], [2e5, 400.0], [1e10, 5e10], 1.6e11),
        RaceLine("torch (CPU)", [16, 4096], [2e4, 420.0], [1e9, 5.2e10], None),
    ]
    fig = race_figure(lines)
    names = [t.name for t in fig.data]
    assert names == [
        "NumPy",
        "NumPy FLOP/s",
        "NumPy matmul rate",
        "torch (CPU)",
        "torch (CPU) FLOP/s",
    ]
    speed, flops, rate = fig.data[:3]
    assert list(speed.y) == [2e5, 400.0] and speed.xaxis is None  # the left panel
    assert list(flops.y) == [1e10, 5e10] and flops.xaxis == "x2"
    assert list(rate.y) == [1.6e11, 1.6e11] and rate.line.dash == "dash"
    assert rate.line.color == speed.line.color == flops.line.color
    assert fig.data[3].line.color != speed.line.color
    assert fig.layout.xaxis.type == fig.layout.yaxis2.type == "log"
    assert list(fig.layout.xaxis.ticktext) == ["16", "4,096"]
    assert fig.layout.yaxis2.exponentformat == "SI"  # 100G, not plotly's 100B


def test_an_empty_race_draws_an_empty_figure() -> None:
    assert race_figure([]).data == ()
