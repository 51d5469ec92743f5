"""Models: ``Sequential`` with Keras' compile / fit / evaluate / predict."""

from __future__ import annotations

import os
from typing import Any

from glassnet.models.model import Model
from glassnet.models.sequential import Sequential


def load_model(filepath: str | os.PathLike[str], compile: bool = True) -> Any:
    """Keras' ``models.load_model``: see :func:`glassnet.saving.load_model`."""
    # Imported on use: saving sits below models in the layering.
    from glassnet.saving import load_model as _load_model

    return _load_model(filepath, compile=compile)


__all__ = ["Model", "Sequential", "load_model"]
