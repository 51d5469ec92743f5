"""Kernels: pure ``<op>_forward -> (out, cache)`` / ``<op>_backward`` functions."""
