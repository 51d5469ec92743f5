"""cs231n's ``solver``: :class:`glassnet.solver.Solver`, the course's training loop."""

from glassnet.solver import Solver

__all__ = ["Solver"]
