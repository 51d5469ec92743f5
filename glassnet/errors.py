"""Exceptions raised by glassnet beyond the plain ``ValueError`` of input checks.

Every glassnet exception derives from :class:`GlassnetError`, and each one also
derives from the built-in exception a caller would naturally catch, so
``except ValueError`` keeps working where a more specific class is raised.
"""

from __future__ import annotations


class GlassnetError(Exception):
    """Base class of the exceptions that glassnet defines."""


class InvalidFileError(GlassnetError, ValueError):
    """A file given to a loader is not a valid glassnet file: a foreign format
    (pickle, ``.npz``, HDF5, JSON...), a truncated or corrupted file, or one whose
    contents do not match the model it is loaded into. Nothing was changed."""


class DatasetNotFoundError(GlassnetError, FileNotFoundError):
    """A dataset's files are in none of the places a loader looks, and downloading
    them failed. The message lists the places looked in and the ways to get the
    files."""


class InsufficientMemoryError(GlassnetError, MemoryError, ValueError):
    """An allocation was refused before it started: the bytes it needs exceed the
    memory available on the machine. The message names what was being created,
    its shape, the bytes needed and the bytes available. It is a ``MemoryError``
    (what NumPy would have raised, much later or after swapping) and a
    ``ValueError`` (the request itself is what to change)."""


__all__ = [
    "DatasetNotFoundError",
    "GlassnetError",
    "InsufficientMemoryError",
    "InvalidFileError",
]
