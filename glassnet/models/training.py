"""One training step, shared by ``fit`` and ``train_on_batch``.

Forward through the layers, the loss (fused with a softmax or sigmoid output when
the loss allows it), the weight and activity penalties, backward through the
layers, one optimizer step and the constraints. The optimizer sees every
trainable weight under a unique key ``"<layer name>/<weight name>"``.

Layers of different dtypes mix as in Keras, where a layer casts its inputs to its
own dtype: a float32 ``Dense`` after a float64 one computes in float32 on a
float32 copy of its input. Only layers with weights cast; those without (Flatten,
Dropout, pooling, activations) keep their input's dtype, as their kernels do, so
a float64 model needs ``dtype`` only on its layers with weights. The gradient of
a cast is the cast back: on the way down each ``dout`` is cast to the dtype that
layer's output had. Both casts cost a dtype comparison (and no copy) when the
dtypes agree.
"""

from __future__ import annotations

from typing import Any

from glassnet import variables as variables_mod
from glassnet._internal.malloc import keep_freed_memory
from glassnet.backend import Array, get_array_module
from glassnet.models import structure


def relu_before_max_pool(layers: list[Any]) -> set[int]:
    """Indices i whose ReLU is applied after the max pooling at i + 1 instead.

    Max pooling commutes with ReLU: both pick the largest value, and ReLU keeps
    the order of values (it only flattens the negative ones to 0). So
    ``pool(relu(z)) == relu(pool(z))`` exactly, and the gradients agree too:
    where a window's maximum is positive both orders send it to the same
    (first) winning cell, and where it is not, both send nothing. Pooling first
    lets ReLU's forward and backward passes touch a quarter of the values (for
    2x2 windows). Applies where layer i says it ends in a ReLU it can apply
    apart (``Layer.relu_last``: Conv2D, ReLU, Activation("relu")), layer i + 1
    says it commutes with ReLU (``Layer.commutes_with_relu``: max pooling), and
    neither has an activity regulariser, which would see the intermediate
    values.
    """
    pairs = set()
    for i in range(len(layers) - 1):
        first, pool = layers[i], layers[i + 1]
        if (
            first.relu_last
            and pool.commutes_with_relu
            and first.activity_regularizer is None
            and pool.activity_regularizer is None
        ):
            pairs.add(i)
    return pairs


def _input_for(layer: Any, x: Array) -> Array:
    """``x`` in the dtype of a layer with weights (Keras' autocasting)."""
    if x.dtype == layer.dtype or not (layer.params or layer.states):
        return x
    return x.astype(layer.dtype)


def _output_dtypes(layers: list[Any]) -> list[Any]:
    """The dtype of each layer's output: its own if it has weights, else that of
    the nearest layer with weights below it (None below the first one)."""
    dtypes, current = [], None
    for layer in layers:
        if layer.params or layer.states:
            current = layer.dtype
        dtypes.append(current)
    return dtypes


def forward(layers: list[Any], x: Array, training: bool) -> tuple[Array, float, dict]:
    """Run the layers; return the output, the activity penalty and its gradients.

    A ReLU followed by max pooling runs after it (see
    :func:`relu_before_max_pool`); the output is the same.
    """
    keep_freed_memory()
    clear_activity_losses(layers)
    penalty, activity_grads = 0.0, {}
    swapped = relu_before_max_pool(layers)
    for i, layer in enumerate(layers):
        x = _input_for(layer, x)
        if i - 1 in swapped:  # pooled with layer i - 1; its ReLU follows
            x = layers[i - 1].activate(layer.forward(x, training))
            continue
        x = (
            layer.forward_logits(x, training)
            if i in swapped
            else layer.forward(x, training)
        )
        # Keras counts activity penalties in evaluation too; gradients are only
        # needed in training.
        if layer.activity_regularizer is not None:
            p, activity_grads[i] = activity_penalty(layer, x)
            penalty += p
        elif "_nested_penalty" in layer.__dict__:  # a model used as a layer
            penalty += layer._nested_penalty
    return x, penalty, activity_grads


def clear_activity_losses(layers: list[Any]) -> None:
    """Forget the activity penalties of the previous pass (``model.losses``)."""
    for layer in layers:
        layer._activity_losses = []


def activity_penalty(layer: Any, out: Array) -> tuple[float, Array]:
    """The activity penalty of the layer's output ``out`` and its gradient, per
    sample as Keras divides them by the batch size; kept in the layer's
    ``_activity_losses`` (one per call) for ``model.losses``."""
    p, g = layer.activity_regularizer.penalty(out)
    p = float(p) / out.shape[0]
    layer._activity_losses = [*getattr(layer, "_activity_losses", []), p]
    return p, g / out.shape[0]


def loss_and_output_grad(
    model: Any, y: Any, out: Any, sample_weight: Any
) -> tuple[float, Any, Any]:
    """The data loss and its gradient; the flag says whether it is w.r.t. logits.

    Per output (``model.output_losses``, ``model.output_layers``): its loss
    times its weight, each fused with its own softmax or sigmoid where it can.
    A model of one output is the one-output case; for several, ``y`` and
    ``sample_weight`` are :class:`~glassnet.models.structure.Rows` (or one
    weight array for all), ``out`` a list, and the gradient and flag are lists
    too (None and False for an output without a loss). The unweighted loss of
    each output is kept in ``model._output_loss_values`` for its log.
    """
    heads = model.output_losses
    if len(heads) == 1:
        ys, outs, sws = [y], [out], [sample_weight]
    else:
        ys, outs = structure.parts(y), out
        sws = structure.parts(sample_weight) if sample_weight is not None else None
    total: Any = None
    douts: list[Any] = []
    flags: list[bool] = []
    values: list[Any] = []
    for i, ((loss_fn, weight), last) in enumerate(
        zip(heads, model.output_layers, strict=True)
    ):
        if loss_fn is None:
            douts.append(None)
            flags.append(False)
            values.append(None)
            continue
        sw = None if sws is None else sws[i]
        loss, d, fused = _output_loss(loss_fn, last, ys[i], outs[i], sw)
        values.append(loss)
        if weight != 1.0:
            loss, d = loss * weight, d * weight
        total = loss if total is None else total + loss
        douts.append(d)
        flags.append(fused)
    if len(heads) == 1:
        return total, douts[0], flags[0]
    model._output_loss_values = values
    return total, douts, flags


def _output_loss(
    loss_fn: Any, last: Any, y: Array, out: Array, sample_weight: Array | None
) -> tuple[float, Array, bool]:
    """One output's loss and gradient, w.r.t. ``last``'s logits (True) when the
    loss fuses with its activation."""
    fused = loss_fn.fused_activation()
    # An activity penalty on the outputs needs the gradient w.r.t. the outputs,
    # so a regularised output layer takes the unfused path.
    if (
        fused is not None
        and getattr(last, "activation_name", None) == fused
        and last.logits is not None
        and last.activity_regularizer is None
    ):
        loss, dz = loss_fn.compute(y, last.logits, sample_weight, from_logits=True)
        return loss, dz, True
    loss, dout = loss_fn.compute(y, out, sample_weight)
    return loss, dout, False


def backward(
    layers: list[Any], dout: Array, from_logits: bool, activity_grads: dict
) -> Array | None:
    """Backpropagate ``dout`` through the layers, filling each layer's ``grads``;
    return the input's gradient.

    Stops at the first layer that returns None instead of an input gradient: it
    was told (``need_dx``) that no layer below it has weights.
    """
    swapped = relu_before_max_pool(layers)
    dtypes = _output_dtypes(layers)
    for i in range(len(layers) - 1, -1, -1):
        layer = layers[i]
        if i in activity_grads:
            dout = dout + activity_grads[i]
        if dtypes[i] is not None and dout.dtype != dtypes[i]:
            dout = dout.astype(dtypes[i])  # the gradient of the cast in forward
        if i - 1 in swapped:  # the ReLU of layer i - 1 ran after this pooling
            dout = layer.backward(layers[i - 1].deactivate(dout))
        elif i in swapped or (i == len(layers) - 1 and from_logits):
            dout = layer.backward_logits(dout)
        else:
            dout = layer.backward(dout)
        if dout is None:
            return None
    return dout


def weight_penalties(layers: list[Any], *, add_grads: bool = True) -> float:
    """The weight penalties' total; with ``add_grads`` each regulariser's gradient
    is added to its weight's gradient too."""
    total = 0.0
    for layer in layers:
        for key, reg in layer.regularizers.items():
            if key not in layer.params:
                continue
            p, g = reg.penalty(layer.params[key])
            total += float(p)
            if add_grads and key in layer.grads:
                layer.grads[key] = layer.grads[key] + g
    return total


def _trainable_weights(model: Any) -> dict[str, tuple[Any, str]]:
    """Each trainable weight's optimizer key (``"layer/weight"``) -> (layer, key)."""
    if not getattr(model, "trainable", True):
        return {}
    return {
        f"{layer.name}/{key}": (layer, key)
        for layer in model.layers
        for key in layer.trainable_keys()
    }


def apply_gradients(model: Any) -> None:
    """One optimizer step over every trainable weight, then the constraints."""
    owners = {
        name: (layer, key)
        for name, (layer, key) in _trainable_weights(model).items()
        if key in layer.grads
    }
    params = {name: layer.params[key] for name, (layer, key) in owners.items()}
    grads = {name: layer.grads[key] for name, (layer, key) in owners.items()}
    model.optimizer.bind(model)  # slots are keyed by name: one model per optimizer
    model.optimizer.apply(params, grads)
    for name, (layer, key) in owners.items():
        value = params[name]
        if key in layer.constraints:
            value = layer.constraints[key](value)
        store_weight(layer, key, value)


def store_weight(layer: Any, key: str, value: Array) -> None:
    """Store a weight's new value: into its array in place when a
    :class:`~glassnet.variables.Variable` views it (``layer.kernel``,
    ``model.weights`` held from before the step then see it), else as the new
    array, which spares the copy."""
    old = layer.params[key]
    if old is value:
        return
    if (
        variables_mod.is_viewed(old)
        and old.shape == value.shape
        and old.dtype == value.dtype
        and get_array_module(old) is get_array_module(value)
        and getattr(old.flags, "writeable", True)
    ):
        old[...] = value
    else:
        layer.params[key] = value


def finalize_weights(model: Any) -> None:
    """The optimizer's last word on the weights at the end of ``fit``: Keras'
    ``finalize_variable_values`` (with ``use_ema``, the weights' averages)."""
    owners = _trainable_weights(model)
    params = {name: layer.params[key] for name, (layer, key) in owners.items()}
    if model.optimizer.iterations:  # another model's averages must not land here
        model.optimizer.bind(model)
    model.optimizer.finalize_variable_values(params)
    for name, (layer, key) in owners.items():
        store_weight(layer, key, params[name])


def train_step(
    model: Any, x: Array, y: Array, sample_weight: Array | None
) -> tuple[float, Array]:
    """One gradient step on a batch; returns the total loss and the outputs."""
    out, activity_penalty, activity_grads = model.forward_pass(x, training=True)
    loss, dout, from_logits = loss_and_output_grad(model, y, out, sample_weight)
    model.backward_pass(dout, from_logits, activity_grads)
    loss += activity_penalty + weight_penalties(model.layers)
    apply_gradients(model)
    return loss, out
