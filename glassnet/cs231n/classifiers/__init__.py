"""cs231n's ``classifiers``: ``fc_net`` and ``cnn``, of :mod:`glassnet.classifiers`."""

from glassnet.cs231n.classifiers import cnn, fc_net
from glassnet.cs231n.classifiers.cnn import ThreeLayerConvNet
from glassnet.cs231n.classifiers.fc_net import FullyConnectedNet, TwoLayerNet

__all__ = ["FullyConnectedNet", "ThreeLayerConvNet", "TwoLayerNet", "cnn", "fc_net"]
