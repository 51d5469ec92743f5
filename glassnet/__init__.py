"""glassnet: deep learning in plain NumPy, one readable kernel at a time.

The course API lives in :mod:`glassnet.functional`, :mod:`glassnet.gradcheck`,
:mod:`glassnet.optim`, :mod:`glassnet.classifiers` and :mod:`glassnet.solver`; the
Keras-style API in :mod:`glassnet.layers`, :mod:`glassnet.models`,
:mod:`glassnet.optimizers`, :mod:`glassnet.losses`, :mod:`glassnet.metrics`,
:mod:`glassnet.callbacks`, :mod:`glassnet.ops` and :mod:`glassnet.random`, with
Keras 3's top-level names (``Model``, ``Sequential``, ``Input``, ``Layer``,
``Variable``...), so that ``import glassnet as keras`` runs Keras scripts.
"""

from __future__ import annotations

from glassnet import (
    activations,
    backend,
    callbacks,
    classifiers,
    constraints,
    datasets,
    errors,
    functional,
    gradcheck,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optim,
    optimizers,
    random,
    regularizers,
    saving,
    solver,
    utils,
    variables,
)
from glassnet.initializers import Initializer
from glassnet.layers import Input, Layer
from glassnet.layers.symbolic import KerasTensor
from glassnet.losses import Loss
from glassnet.metrics import Metric
from glassnet.models import Model, Sequential
from glassnet.optimizers import Optimizer
from glassnet.regularizers import Regularizer
from glassnet.variables import Variable

__version__ = "0.1.0"


def version() -> str:
    """glassnet's version (Keras' ``keras.version()``)."""
    return __version__


__all__ = [
    "Initializer",
    "Input",
    "KerasTensor",
    "Layer",
    "Loss",
    "Metric",
    "Model",
    "Optimizer",
    "Regularizer",
    "Sequential",
    "Variable",
    "__version__",
    "activations",
    "backend",
    "callbacks",
    "classifiers",
    "constraints",
    "datasets",
    "functional",
    "gradcheck",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optim",
    "optimizers",
    "random",
    "errors",
    "regularizers",
    "saving",
    "solver",
    "utils",
    "variables",
    "version",
]
