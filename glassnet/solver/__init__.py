"""The cs231n ``Solver`` (:mod:`glassnet.solver.loop`) and its checkpoints.

* ``loop``: the training loop: ``Solver(model, data, ...)``, ``train``,
  ``check_accuracy``, ``resume``;
* ``checkpoint``: writing a checkpoint (one ``.npz``, atomically) and
  restoring one into a Solver;
* ``checkpoint_read``: reading and checking a checkpoint file before anything
  is restored.
"""

from glassnet.solver.loop import Solver

__all__ = ["Solver"]
