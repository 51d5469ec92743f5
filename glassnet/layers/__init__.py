"""Keras-style layers: parameter-holding glue around :mod:`glassnet.functional`."""

from glassnet.layers.activation import Activation, LeakyReLU, ReLU, Softmax
from glassnet.layers.base import Layer
from glassnet.layers.core import Dense
from glassnet.layers.input_layer import Input, InputLayer
from glassnet.layers.regularization import Dropout
from glassnet.layers.reshaping import Flatten, Reshape

__all__ = [
    "Activation",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "Layer",
    "LeakyReLU",
    "ReLU",
    "Reshape",
    "Softmax",
]
