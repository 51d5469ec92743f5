"""glassnet: deep learning in plain NumPy, one readable kernel at a time.

The course API lives in :mod:`glassnet.functional`, :mod:`glassnet.gradcheck`,
:mod:`glassnet.optim`, :mod:`glassnet.classifiers` and :mod:`glassnet.solver`; the
Keras-style API in :mod:`glassnet.layers`, :mod:`glassnet.models`,
:mod:`glassnet.optimizers`, :mod:`glassnet.losses`, :mod:`glassnet.metrics` and
:mod:`glassnet.callbacks` (``from glassnet import layers, models, optimizers``).
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
    optim,
    optimizers,
    regularizers,
    saving,
    solver,
    utils,
    variables,
)
from glassnet.layers import Input
from glassnet.models import Sequential
from glassnet.variables import Variable

__version__ = "0.1.0"

__all__ = [
    "Input",
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
    "optim",
    "optimizers",
    "errors",
    "regularizers",
    "saving",
    "solver",
    "utils",
    "variables",
]
