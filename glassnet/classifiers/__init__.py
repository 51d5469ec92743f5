"""The course models: a ``params`` dict and ``loss(X, y=None)``."""
