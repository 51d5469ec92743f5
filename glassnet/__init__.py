"""glassnet: deep learning in plain NumPy, one readable kernel at a time."""

from __future__ import annotations

__version__ = "0.1.0"
