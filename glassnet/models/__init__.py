"""Models: ``Sequential`` with Keras' compile / fit / evaluate / predict.

``load_model`` is :func:`glassnet.saving.load_model` (Keras' ``models.load_model``).
"""

from __future__ import annotations

from glassnet.models.functional import Functional
from glassnet.models.model import Model
from glassnet.models.sequential import Sequential
from glassnet.saving import load_model

__all__ = ["Functional", "Model", "Sequential", "load_model"]
