"""Keras-style layers: parameter-holding glue around :mod:`glassnet.functional`."""

from glassnet.layers.activation import Activation, LeakyReLU, ReLU, Softmax
from glassnet.layers.augmentation import (
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from glassnet.layers.base import Layer
from glassnet.layers.conv_transpose import Conv2DTranspose, Convolution2DTranspose
from glassnet.layers.convolutional import Conv2D, Convolution2D
from glassnet.layers.core import Dense
from glassnet.layers.depthwise import DepthwiseConv2D
from glassnet.layers.input_layer import Input, InputLayer
from glassnet.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from glassnet.layers.normalization import BatchNormalization, LayerNormalization
from glassnet.layers.pooling import (
    AveragePooling2D,
    AvgPool2D,
    GlobalAveragePooling2D,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    GlobalMaxPooling2D,
    MaxPool2D,
    MaxPooling2D,
)
from glassnet.layers.preprocessing import (
    CenterCrop,
    Normalization,
    Rescaling,
    Resizing,
)
from glassnet.layers.regularization import Dropout
from glassnet.layers.reshaping import Flatten, Permute, Reshape
from glassnet.layers.separable import SeparableConv2D, SeparableConvolution2D
from glassnet.layers.spatial import Cropping2D, UpSampling2D, ZeroPadding2D
from glassnet.layers.spatial_dropout import SpatialDropout2D

__all__ = [
    "Activation",
    "AveragePooling2D",
    "AvgPool2D",
    "BatchNormalization",
    "CenterCrop",
    "Conv2D",
    "Conv2DTranspose",
    "Convolution2D",
    "Convolution2DTranspose",
    "Cropping2D",
    "Dense",
    "DepthwiseConv2D",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling2D",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling2D",
    "Input",
    "InputLayer",
    "Layer",
    "LayerNormalization",
    "LeakyReLU",
    "MaxPool2D",
    "MaxPooling2D",
    "Normalization",
    "Permute",
    "ReLU",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "Rescaling",
    "Resizing",
    "Reshape",
    "SeparableConv2D",
    "SeparableConvolution2D",
    "Softmax",
    "SpatialDropout2D",
    "UpSampling2D",
    "ZeroPadding2D",
    "Add",
    "Average",
    "Concatenate",
    "Dot",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "add",
    "average",
    "concatenate",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]
