"""The cs231n assignment-2 package, module for module: ``cs231n.X`` is here.

Replacing ``cs231n`` by ``glassnet.cs231n`` in a notebook's imports is the only
change the course's code needs. Every name here *is* glassnet's one implementation
(``glassnet.cs231n.layers.affine_forward is glassnet.functional.affine_forward``);
no formula is written in this package. The modules:

=================  ===========================================================
``layers``         the kernels of :mod:`glassnet.functional` (naive conv/pool)
``layer_utils``    the sandwiches of :mod:`glassnet.functional.layer_utils`
``fast_layers``    the vectorised conv and pool kernels
``gradient_check`` :mod:`glassnet.gradcheck`'s numerical gradients
``data_utils``     CIFAR-10 from :mod:`glassnet.datasets`
``vis_utils``      ``visualize_grid``, ``vis_grid``, ``vis_nn``
``classifiers``    ``fc_net`` and ``cnn``: :mod:`glassnet.classifiers`
``optim``          the update rules of :mod:`glassnet.optim`
``solver``         :class:`glassnet.solver.Solver`
=================  ===========================================================
"""

__all__ = [
    "classifiers",
    "data_utils",
    "fast_layers",
    "gradient_check",
    "layer_utils",
    "layers",
    "optim",
    "solver",
    "vis_utils",
]
