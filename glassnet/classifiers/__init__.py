"""The course models: a ``params`` dict and ``loss(X, y=None)``."""

from glassnet.classifiers.cnn import ThreeLayerConvNet
from glassnet.classifiers.convert import to_sequential
from glassnet.classifiers.fc_net import FullyConnectedNet, TwoLayerNet

__all__ = ["FullyConnectedNet", "ThreeLayerConvNet", "TwoLayerNet", "to_sequential"]
