"""cs231n's ``classifiers.fc_net``: ``TwoLayerNet`` and ``FullyConnectedNet``.

The course's ``fc_net`` star-imports ``layers`` and ``layer_utils``, and its
notebooks rely on ``from cs231n.classifiers.fc_net import *`` bringing
``affine_forward`` and the rest; so does this module.
"""

from glassnet.classifiers import FullyConnectedNet, TwoLayerNet
from glassnet.cs231n.layer_utils import *  # noqa: F403  (the course's star import)
from glassnet.cs231n.layer_utils import __all__ as _layer_utils_names

__all__ = [*_layer_utils_names, "FullyConnectedNet", "TwoLayerNet"]
