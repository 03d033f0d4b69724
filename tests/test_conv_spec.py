"""What a CNN spec accepts and what it refuses, with a message that says what to change, and
the shapes it derives."""

from __future__ import annotations

import pytest

from explorer.engine import LayerSpec, SpecError
from explorer.engine.conv import DEFAULT_SPEC, ConvBlockSpec, ConvNetSpec


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"filters": 0}, "between 1 and 16 filters, not 0"),
        ({"filters": 17}, "between 1 and 16 filters, not 17"),
        ({"filters": True}, "between 1 and 16 filters"),
        ({"filters": "4"}, "between 1 and 16 filters"),
        ({"kernel": 4}, "kernel size must be 3 or 5, not 4"),
        ({"kernel": 3.0}, "kernel size must be 3 or 5"),
        ({"padding": "full"}, "Padding must be 'valid' or 'same'"),
        ({"activation": "softmax"}, "activation must be one of"),
        ({"pool": "yes"}, "Max-pool is on or off"),
    ],
)
def test_bad_blocks_are_refused(block: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        ConvBlockSpec(**block)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("net", "message"),
    [
        ({"input_shape": (2, 2)}, r"Conv block 1: a 3x3 kernel does not fit its 2x2 input"),
        ({"input_shape": (4, 9), "blocks": (ConvBlockSpec(kernel=5),)}, "5x5 kernel does not fit"),
        ({"input_shape": (3, 3)}, "its 1x1 maps are too small to pool"),
        (
            {"input_shape": (8, 8), "blocks": (ConvBlockSpec(kernel=5), ConvBlockSpec())},
            "Conv block 2: a 3x3 kernel does not fit its 2x2 input",
        ),
        ({"input_shape": (28,)}, "an image of 1 to 256 pixels a side"),
        ({"input_shape": (28.0, 28)}, "an image of 1 to 256 pixels a side"),
        ({"input_shape": (300, 28)}, "an image of 1 to 256 pixels a side"),
        ({"input_shape": 28}, "an image of 1 to 256 pixels a side"),
        ({"blocks": ()}, "one or two conv blocks, not 0"),
        ({"blocks": (ConvBlockSpec(),) * 3}, "one or two conv blocks, not 3"),
        ({"blocks": None}, "one or two conv blocks"),
        ({"blocks": ("conv 3x3",)}, "conv blocks"),
        ({"dense": ()}, "one to three dense layers"),
        ({"dense": (LayerSpec(10, "relu"),)}, "last dense layer is the softmax output"),
        ({"dense": ("dense 10",)}, "dense layers"),
        ({"dense": 10}, "dense layers"),
        ({"dense": (LayerSpec(1, "softmax"),)}, "at least two output units"),
    ],
)
def test_bad_networks_are_refused(net: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        ConvNetSpec(**net)  # type: ignore[arg-type]


def test_default_network_shapes() -> None:
    spec = DEFAULT_SPEC
    assert spec.describe() == "28x28 -> conv 3x3 x4 -> relu -> max-pool 2x2 -> dense 10"
    (block,) = spec.block_shapes
    assert (block.input, block.conv, block.output) == ((1, 28, 28), (4, 26, 26), (4, 13, 13))
    assert spec.flat_size == 676
    assert spec.param_shapes == (((4, 1, 3, 3), (676, 10)), ((4,), (10,)))
    assert spec.n_params == 36 + 4 + 6760 + 10
    assert [spec.layer_name(i) for i in range(2)] == ["conv block 1", "output layer"]


def test_same_padding_keeps_the_size_and_odd_maps_drop_a_row_when_pooled() -> None:
    spec = ConvNetSpec(
        (9, 8),
        (ConvBlockSpec(2, 5, "same", "tanh", True), ConvBlockSpec(3, 3, "valid", "relu", False)),
        (LayerSpec(6, "relu"), LayerSpec(3, "softmax")),
    )
    first, second = spec.block_shapes
    assert first.conv == (2, 9, 8) and first.output == (2, 4, 4)
    assert second.input == (2, 4, 4) and second.output == (3, 2, 2)
    assert spec.param_shapes[0] == ((2, 1, 5, 5), (3, 2, 3, 3), (12, 6), (6, 3))
    assert spec.layer_name(2) == "dense layer 1"
