"""cs231n's ``optim``: the update rules ``rule(w, dw, config) -> (next_w, config)``.

The course's four rules, from :mod:`glassnet.optim` (which also has ``nesterov``,
``adagrad`` and ``adamw``).
"""

from glassnet.optim import adam, rmsprop, sgd, sgd_momentum

__all__ = ["adam", "rmsprop", "sgd", "sgd_momentum"]
