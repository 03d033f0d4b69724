"""Backprop Explorer: see how a multilayer perceptron learns, one phase at a time."""
