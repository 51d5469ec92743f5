"""Models: ``Sequential`` with Keras' compile / fit / evaluate / predict."""

from glassnet.models.model import Model
from glassnet.models.sequential import Sequential

__all__ = ["Model", "Sequential"]
