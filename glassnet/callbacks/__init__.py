"""Keras-style callbacks: one per file, sharing the base in ``base.py``."""

from glassnet.callbacks.base import Callback, CallbackList, History
from glassnet.callbacks.progbar import ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]
