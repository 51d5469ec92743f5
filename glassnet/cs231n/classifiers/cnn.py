"""cs231n's ``classifiers.cnn``: ``ThreeLayerConvNet``.

Like the course's ``cnn``, ``from glassnet.cs231n.classifiers.cnn import *`` also
brings the kernels of ``layers``, ``fast_layers`` and ``layer_utils``.
"""

from glassnet.classifiers import ThreeLayerConvNet
from glassnet.cs231n.layer_utils import *  # noqa: F403  (the course's star import)
from glassnet.cs231n.layer_utils import __all__ as _layer_utils_names

__all__ = [*_layer_utils_names, "ThreeLayerConvNet"]
