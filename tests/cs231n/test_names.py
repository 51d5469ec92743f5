"""Every name the course's assignment-2 notebooks import is glassnet's own object.

The table is the notebooks' import cells (FullyConnectedNets, BatchNormalization,
Dropout, ConvolutionalNetworks) plus the rest of the course's modules; each name
must *be* glassnet's implementation (``is``), never a copy or a wrapper.
"""

import importlib
import inspect

import pytest

import glassnet.classifiers as classifiers
import glassnet.datasets as datasets
import glassnet.functional as F
import glassnet.gradcheck as gradcheck
import glassnet.optim as optim
from glassnet.functional import layer_utils as sandwiches
from glassnet.solver import Solver

LAYERS = [
    "affine_forward", "affine_backward", "relu_forward", "relu_backward",
    "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
    "layernorm_forward", "layernorm_backward", "dropout_forward", "dropout_backward",
    "conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive",
    "max_pool_backward_naive", "spatial_batchnorm_forward",
    "spatial_batchnorm_backward", "spatial_groupnorm_forward",
    "spatial_groupnorm_backward", "svm_loss", "softmax_loss",
]  # fmt: skip
FAST = {
    "conv_forward_fast": F.conv_forward_fast,
    "conv_backward_fast": F.conv_backward_fast,
    "conv_forward_im2col": F.conv_forward_fast,
    "conv_backward_im2col": F.conv_backward_fast,
    "conv_forward_strides": F.conv_forward_fast,
    "conv_backward_strides": F.conv_backward_fast,
    "max_pool_forward_fast": F.max_pool_forward_fast,
    "max_pool_backward_fast": F.max_pool_backward_fast,
    "max_pool_forward_reshape": F.max_pool_forward_fast,
    "max_pool_backward_reshape": F.max_pool_backward_fast,
    "max_pool_forward_im2col": F.max_pool_forward_fast,
    "max_pool_backward_im2col": F.max_pool_backward_fast,
}
SANDWICHES = [
    "affine_relu_forward", "affine_relu_backward", "conv_relu_forward",
    "conv_relu_backward", "conv_relu_pool_forward", "conv_relu_pool_backward",
    "affine_norm_relu_forward", "affine_norm_relu_backward",
]  # fmt: skip

EXPECTED = {
    "layers": {name: getattr(F, name) for name in LAYERS},
    "fast_layers": FAST,
    "layer_utils": {name: getattr(sandwiches, name) for name in SANDWICHES},
    "gradient_check": {
        name: getattr(gradcheck, name)
        for name in (
            "eval_numerical_gradient",
            "eval_numerical_gradient_array",
            "grad_check_sparse",
            "rel_error",
        )
    },
    "data_utils": {"get_CIFAR10_data": datasets.get_cifar10_data},
    "classifiers.fc_net": {
        "TwoLayerNet": classifiers.TwoLayerNet,
        "FullyConnectedNet": classifiers.FullyConnectedNet,
    },
    "classifiers.cnn": {"ThreeLayerConvNet": classifiers.ThreeLayerConvNet},
    "classifiers": {
        "TwoLayerNet": classifiers.TwoLayerNet,
        "FullyConnectedNet": classifiers.FullyConnectedNet,
        "ThreeLayerConvNet": classifiers.ThreeLayerConvNet,
    },
    "optim": {
        name: getattr(optim, name)
        for name in ("sgd", "sgd_momentum", "rmsprop", "adam")
    },
    "solver": {"Solver": Solver},
}
# Written here, from the course's own definitions (no glassnet twin to point to).
OWN = {
    "layer_utils": ["conv_bn_relu_forward", "conv_bn_relu_backward"],
    "data_utils": ["load_CIFAR10", "load_CIFAR_batch"],
    "vis_utils": ["visualize_grid", "vis_grid", "vis_nn"],
}
CASES = [(m, n, obj) for m, names in EXPECTED.items() for n, obj in names.items()]


def course(module):
    return importlib.import_module(f"glassnet.cs231n.{module}")


@pytest.mark.parametrize(("module", "name", "obj"), CASES)
def test_each_course_name_is_the_glassnet_object(module, name, obj):
    assert getattr(course(module), name) is obj


@pytest.mark.parametrize("module", sorted(set(EXPECTED) | set(OWN)))
def test_all_lists_every_course_name_of_the_module_once(module):
    mod = course(module)
    assert set(EXPECTED.get(module, {})) | set(OWN.get(module, [])) <= set(mod.__all__)
    for name in mod.__all__:
        obj = getattr(mod, name)
        assert callable(obj) or inspect.ismodule(obj), name
    assert len(mod.__all__) == len(set(mod.__all__))


def test_every_module_of_the_course_is_there():
    import glassnet.cs231n as pkg

    for module in pkg.__all__:
        course(module)


@pytest.mark.parametrize(
    ("module", "brings"),
    [
        ("layers", EXPECTED["layers"]),
        ("fast_layers", FAST),
        ("layer_utils", {**EXPECTED["layers"], **FAST, **EXPECTED["layer_utils"]}),
        # The course's fc_net and cnn star-import layers and layer_utils, and the
        # notebooks call affine_forward & co. after `from ...fc_net import *`.
        (
            "classifiers.fc_net",
            {**EXPECTED["layers"], **EXPECTED["classifiers.fc_net"]},
        ),
        (
            "classifiers.cnn",
            {**FAST, **EXPECTED["layer_utils"], **EXPECTED["classifiers.cnn"]},
        ),
    ],
)
def test_star_import_brings_what_the_course_module_brings(module, brings):
    namespace = {}
    exec(f"from glassnet.cs231n.{module} import *", namespace)
    for name, obj in brings.items():
        assert namespace[name] is obj, name


def test_the_notebooks_import_cells_run_with_only_the_package_renamed():
    cells = """
from glassnet.cs231n.classifiers.fc_net import *
from glassnet.cs231n.classifiers.cnn import *
from glassnet.cs231n.data_utils import get_CIFAR10_data
from glassnet.cs231n.gradient_check import eval_numerical_gradient
from glassnet.cs231n.gradient_check import eval_numerical_gradient_array
from glassnet.cs231n.solver import Solver
from glassnet.cs231n.optim import sgd_momentum, rmsprop, adam
from glassnet.cs231n.layers import *
from glassnet.cs231n.fast_layers import *
from glassnet.cs231n.fast_layers import conv_forward_fast, conv_backward_fast
from glassnet.cs231n.fast_layers import max_pool_forward_fast, max_pool_backward_fast
from glassnet.cs231n.layer_utils import conv_relu_pool_forward, conv_relu_pool_backward
from glassnet.cs231n.layer_utils import conv_relu_forward, conv_relu_backward
from glassnet.cs231n.vis_utils import visualize_grid
from glassnet.cs231n import optim
"""
    namespace = {}
    exec(cells, namespace)
    assert namespace["affine_forward"] is F.affine_forward
    assert namespace["optim"].adam is optim.adam
