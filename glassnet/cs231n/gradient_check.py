"""cs231n's ``gradient_check``: the numerical gradients of :mod:`glassnet.gradcheck`.

``rel_error`` is the function the course's notebooks define in their first cell;
importing it from here gives the same formula. glassnet's one-call checks
(``check_kernel``, ``check_loss``, ``check_model``) are in :mod:`glassnet.gradcheck`.
"""

from glassnet.gradcheck import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "grad_check_sparse",
    "rel_error",
]
