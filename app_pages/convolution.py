"""Convolution: build a small CNN on the image sets and step through its training."""

from explorer.ui.conv_view import convolution_page

convolution_page()
