"""Graph models: Keras' functional API, ``Model(inputs, outputs)``.

The layers were called on symbolic tensors (:mod:`glassnet.layers.symbolic`);
each call left a node. The model walks from its outputs back to its inputs,
orders the nodes so that every node comes after the nodes it reads, and then

* runs the forward pass node by node, keeping each tensor's array until the
  nodes that read it have run;
* runs the backward pass in the reverse order: each node's layer turns the
  gradient of its output into the gradients of its inputs. Where a tensor
  feeds several nodes (a residual connection, an Inception block) their
  gradients are summed, and an output that another node also reads gets its
  loss gradient plus the downstream one.

``inputs`` and ``outputs`` are each one tensor, a list, or a dict by name (as
Keras 3 flattens a dict, its keys are taken in sorted order). The data then
follow the same structure (:mod:`glassnet.models.structure`): ``x`` one array,
a list in input order or a dict by input name, ``y`` likewise by output name
(:attr:`Functional.output_names`), and ``predict`` returns one array, a list or
a dict. Each output has its own loss, weight and metrics (``compile``).

A layer called at several nodes (a shared layer) keeps one set of weights.
Its caches are per call, so the model keeps each node's layer state from the
forward pass and puts it back before that node's backward pass, and sums the
weight gradients of its nodes. A model is a layer too: ``base(x)`` in another
graph is one node (:mod:`glassnet.models.nested`).

Training, evaluation, prediction and the callbacks are the same code as for
``Sequential``: the model only provides :meth:`Functional.forward_pass` and
:meth:`Functional.backward_pass`. A file holds the graph as data (the inputs,
the layers, and per node the layer and where its inputs come from: see
:meth:`Functional.get_config`), never code.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import check_finite, fail
from glassnet.backend import Array
from glassnet.layers.base import Layer
from glassnet.layers.input_layer import InputLayer
from glassnet.layers.symbolic import KerasTensor, Node
from glassnet.models import structure, training
from glassnet.models.model import Model
from glassnet.models.training import activity_penalty, clear_activity_losses
from glassnet.saving.api import deserialize_layer
from glassnet.saving.registration import get_registered_name
from glassnet.saving.spec import register_model


def _tensors(name: str, given: Any) -> tuple[list[KerasTensor], list[str] | None]:
    """The tensors of ``inputs``/``outputs`` in order, and the dict keys (sorted,
    as Keras flattens a dict) when a dict was given."""
    keys = None
    if isinstance(given, dict):
        keys = sorted(given)
        if not all(isinstance(k, str) for k in keys):
            raise fail(name, "a dict keyed by strings", repr(list(given)))
        items = [given[k] for k in keys]
    else:
        items = list(given) if isinstance(given, list | tuple) else [given]
    if not items:
        raise fail(name, "at least one symbolic tensor", "none")
    for t in items:
        if not isinstance(t, KerasTensor):
            raise fail(name, "symbolic tensors (from Input and layer calls)", repr(t))
    return items, keys


def _is_input(t: KerasTensor) -> bool:
    return t.node is None or isinstance(t.node.layer, InputLayer)


def topological_nodes(start: Any, end: Any) -> list[Node]:
    """The nodes between the inputs ``start`` and the outputs ``end`` (a tensor
    or a list of them), each after the nodes whose outputs it reads.

    Raises:
        ValueError: when an output depends on a tensor that is not an input.
    """
    starts = start if isinstance(start, list | tuple) else [start]
    ends = end if isinstance(end, list | tuple) else [end]
    order: list[Node] = []
    done: set[int] = set()

    def visit(t: KerasTensor) -> None:
        if _is_input(t):
            if all(t is not s for s in starts):
                raise fail(
                    "inputs",
                    "every input the outputs depend on",
                    f"outputs that also depend on {t!r}",
                )
            return
        node = t.node
        if id(node) in done:
            return
        for parent in node.inputs:
            visit(parent)
        done.add(id(node))
        order.append(node)

    for t in ends:
        visit(t)
    for t in ends:
        if _is_input(t) and not order:
            raise fail("outputs", "a tensor computed from inputs", repr(t))
    return order


def _unique(names: list[str]) -> list[str]:
    """``names`` with repeats suffixed ``_1``, ``_2``... (two unnamed Inputs)."""
    out: list[str] = []
    for name in names:
        base, i = name, 0
        while name in out:
            i += 1
            name = f"{base}_{i}"
        out.append(name)
    return out


@register_model
class Functional(Model):
    """A model of layers called on symbolic tensors: ``Model(inputs, outputs)``.

    Args:
        inputs: the ``Input`` tensor, or a list or dict of them.
        outputs: the tensor computed from them, or a list or dict of them.
        name: the model's name. Defaults to `None`, meaning ``"functional"``,
            then ``"functional_1"``... in the process.
        seed: seeds shuffling during ``fit``. Defaults to `None`.

    Raises:
        ValueError: for something other than symbolic tensors, or outputs that
            depend on a tensor that is not among the inputs.

    Example:
        >>> from glassnet import layers, models
        >>> x = layers.Input((8,))
        >>> h = layers.Dense(8, activation="relu")(x)
        >>> y = layers.Dense(2)(layers.Add()([x, h]))   # a residual connection
        >>> model = models.Model(inputs=x, outputs=y)
        >>> model.count_params(), model.output_shape
        (90, (None, 2))
        >>> a, b = layers.Input((3,), name="a"), layers.Input((2,), name="b")
        >>> h = layers.Concatenate()([a, b])
        >>> two = models.Model([a, b], [layers.Dense(1, name="p")(h),
        ...                             layers.Dense(4, name="q")(h)])
        >>> two.output_names, two.input_shape
        (['p', 'q'], [(None, 3), (None, 2)])
    """

    def __init__(
        self,
        inputs: Any,
        outputs: Any,
        name: str | None = None,
        *,
        seed: int | None = None,
    ) -> None:
        super().__init__(name, seed=seed)
        self.inputs, self._input_keys = _tensors("inputs", inputs)
        self.outputs, self._output_keys = _tensors("outputs", outputs)
        for t in self.inputs:
            if not _is_input(t):
                raise fail("inputs", "tensors made by Input", repr(t))
        self._nodes = topological_nodes(self.inputs, self.outputs)
        self.layers: list[Any] = []
        for node in self._nodes:
            if node.layer not in self.layers:
                self.layers.append(node.layer)
        self._name_layers()
        self.input_names = self._input_keys or _unique([t.name for t in self.inputs])
        self.output_names = self._output_keys or _unique(
            [t.name if _is_input(t) else t.node.layer.name for t in self.outputs]
        )
        self._single = len(self.inputs) == 1 and self._input_keys is None
        self._single_out = len(self.outputs) == 1 and self._output_keys is None
        if self._single:
            self._input = self.inputs[0]
        if self._single_out:
            self._output = self.outputs[0]
        self.input_spec: Any = (
            tuple(self.inputs[0].shape)
            if self._single
            else [tuple(t.shape) for t in self.inputs]
        )
        self.built = True
        self._shared = {
            id(layer)
            for layer in self.layers
            if sum(node.layer is layer for node in self._nodes) > 1
        }
        self._mark_input_gradients()

    def _name_layers(self) -> None:
        taken: set[str] = set()
        for layer in self.layers:
            if not isinstance(layer, Layer):
                raise fail("layers", "glassnet Layers", type(layer).__name__)
            if layer.name is not None and layer.name in taken:
                raise fail("layers", "unique layer names", repr(layer.name))
            if layer.name is None:
                base, i = layer.default_name(), 0
                name = base
                while name in taken or any(o.name == name for o in self.layers):
                    i += 1
                    name = f"{base}_{i}"
                layer.name = name
            taken.add(layer.name)

    def _mark_input_gradients(self) -> None:
        """A node needs its input gradient only if a node it reads from (or one
        before that) has weights: the others skip it (``need_dx``)."""
        upstream_weights: dict[int, bool] = {}
        needs: dict[int, bool] = {}
        for node in self._nodes:
            before = any(upstream_weights.get(id(t), False) for t in node.inputs)
            needs[id(node.layer)] = needs.get(id(node.layer), False) or before
            has = bool(node.layer.params) or before
            upstream_weights[id(node.output)] = has
        self._need_dx = {
            id(layer): needs.get(id(layer), False) for layer in self.layers
        }
        self.apply_need_dx()

    # -- structure and shapes --

    @property
    def dict_outputs(self) -> bool:
        """Whether ``outputs`` was a dict (``predict`` then returns one)."""
        return self._output_keys is not None

    @property
    def input(self) -> Any:
        """The input tensor (a list, or the dict given, for several)."""
        return self._structured(self.inputs, self._input_keys, self._single)

    @property
    def output(self) -> Any:
        """The output tensor (a list, or the dict given, for several)."""
        return self._structured(self.outputs, self._output_keys, self._single_out)

    @staticmethod
    def _structured(items: list, keys: list[str] | None, single: bool) -> Any:
        if single:
            return items[0]
        return dict(zip(keys, items, strict=True)) if keys else list(items)

    @property
    def input_shape(self) -> Any:
        """The input's shape, batch axis None; a list of them for several."""
        return self.input_spec

    @property
    def output_shape(self) -> Any:
        """The output's shape; a list of them for several."""
        shapes = [tuple(t.shape) for t in self.outputs]
        return shapes[0] if self._single_out else shapes

    @property
    def output_layer(self) -> Any:
        return self.outputs[0].node.layer

    @property
    def output_layers(self) -> list[Any]:
        """Per output, the layer its loss may fuse with (a softmax or sigmoid),
        or None where it cannot: an output read by another node, given
        twice, made by a shared layer (its logits are another call's) or an
        input itself."""
        if self._single_out:
            return [self.output_layer]
        read = {id(t) for node in self._nodes for t in node.inputs}
        last = self._nodes[-1] if self._nodes else None
        layers = []
        for t in self.outputs:
            ok = (
                not _is_input(t)
                and id(t) not in read
                and sum(o is t for o in self.outputs) == 1
                and (id(t.node.layer) not in self._shared or t.node is last)
            )
            layers.append(t.node.layer if ok else None)
        return layers

    def _ensure_built(self, x: Any) -> None:
        self._check_input_shapes(structure.parts(x))

    def _check_input_shapes(self, arrays: list[Array]) -> None:
        for t, name, a in zip(self.inputs, self.input_names, arrays, strict=True):
            expected = tuple(t.shape[1:])
            if tuple(a.shape[1:]) != expected:
                where = "x" if self._single else f"x[{name!r}]"
                raise fail(
                    where, f"samples of shape {expected}", f"shape {tuple(a.shape)}"
                )

    # -- data of several inputs or outputs (see glassnet.models.structure) --

    def _plain(self) -> bool:
        return self._single and self._single_out

    def _check_xy(self, x: Any, y: Any, sample_weight: Any = None):
        if self._plain():
            return super()._check_xy(x, y, sample_weight)
        return structure.model_data(self, x, y, sample_weight)

    def _data_x(self, x: Any) -> Any:
        if isinstance(x, structure.Rows):  # checked already (predict's batches)
            return x
        if self._single:
            return super()._data_x(x)
        arrays = structure.flatten("x", x, self.input_names)
        structure.check_samples(dict(zip(self.input_names, arrays, strict=True)))
        for name, a in zip(self.input_names, arrays, strict=True):
            check_finite(f"x[{name!r}]", a)
        self._check_input_shapes(arrays)
        return structure.Rows(arrays)

    def _cast(self, x: Any) -> Any:
        if isinstance(x, structure.Rows):
            # The first layer is often a weightless merge: the dtype is that
            # of the first layer with weights (each node casts for its layer).
            weighted = (la for la in self.layers if la.params or la.states)
            dtype = next(weighted, self).dtype
            return [a.astype(dtype, copy=False) for a in x.parts]
        return super()._cast(x)

    def _pack_outputs(self, out: Any) -> Any:
        if self._single_out:
            return out
        return structure.pack(out, self.output_names, self.dict_outputs)

    # -- the passes --

    def forward_pass(self, x: Any, training: bool) -> tuple[Any, float, dict]:
        """Run the nodes in order; see the module docstring. ``x`` is an array,
        or a list in input order; the output likewise."""
        self.apply_need_dx()
        xs = [x] if self._single else x
        values: dict[int, Array] = {
            id(t): a for t, a in zip(self.inputs, xs, strict=True)
        }
        penalty, activity_grads = 0.0, {}
        clear_activity_losses(self.layers)
        self._states: dict[int, Any] = {}
        for k, node in enumerate(self._nodes):
            layer = node.layer
            arrays = [_cast(layer, values[id(t)]) for t in node.inputs]
            out = layer.forward(arrays if _multi(layer) else arrays[0], training)
            if id(layer) in self._shared:
                self._states[k] = _snapshot(layer)
            if layer.activity_regularizer is not None:
                p, activity_grads[k] = activity_penalty(layer, out)
                penalty += p
            elif "_nested_penalty" in layer.__dict__:  # a model used as a layer
                penalty += layer._nested_penalty
            values[id(node.output)] = out
        outs = [values[id(t)] for t in self.outputs]
        return (outs[0] if self._single_out else outs), penalty, activity_grads

    def backward_pass(self, dout: Any, from_logits: Any, activity_grads: dict) -> Any:
        """Run the nodes in reverse, summing gradients where a tensor fans out.

        ``dout`` and ``from_logits`` are per output (a list) for several; an
        output whose ``dout`` is None has no loss. Returns the gradient of the
        input (a list for several; None where no layer computed it).
        """
        douts = [dout] if self._single_out else list(dout)
        flags = [from_logits] if self._single_out else list(from_logits)
        grads: dict[int, Array] = {}
        logits_nodes = set()
        for t, d, fused in zip(self.outputs, douts, flags, strict=True):
            if d is None:
                continue
            if fused:
                logits_nodes.add(id(t.node))
            grads[id(t)] = d if id(t) not in grads else grads[id(t)] + d
        summed: dict[int, dict[str, Array]] = {}
        for k in range(len(self._nodes) - 1, -1, -1):
            node, layer = self._nodes[k], self._nodes[k].layer
            g = grads.pop(id(node.output), None)
            if g is None:  # nothing downstream reads this node's output
                continue
            if k in activity_grads:
                g = g + activity_grads[k]
            if k in self._states:
                _restore(self._states.pop(k))
            if id(node) in logits_nodes:
                dx = layer.backward_logits(g)
            else:
                dx = layer.backward(g)
            if id(layer) in self._shared:
                acc = summed.setdefault(id(layer), {})
                for key, value in layer.grads.items():
                    acc[key] = value if key not in acc else acc[key] + value
            if dx is None:
                continue
            for t, d in zip(node.inputs, dx if _multi(layer) else [dx], strict=True):
                if d is not None:
                    d = d if t.dtype is None else d.astype(t.dtype, copy=False)
                    grads[id(t)] = d if id(t) not in grads else grads[id(t)] + d
        for layer in self.layers:
            if id(layer) in summed:
                layer.grads = summed[id(layer)]
        dxs = [grads.get(id(t)) for t in self.inputs]
        return dxs[0] if self._single else dxs

    # -- configuration: the graph as data --

    CONFIG_KEYS = frozenset(
        {
            "name",
            "inputs",
            "input_keys",
            "layers",
            "nodes",
            "outputs",
            "output_keys",
            "trainable",
            # the keys of files of one input and one output, still read
            "input_shape",
            "output",
        }
    )

    def get_config(self) -> dict[str, Any]:
        """The graph as JSON-safe data: the inputs (shape and name), the
        layers, and per node (in the order they run) the index of its layer and
        where each input comes from: ``-1 - i`` for the model's input ``i``,
        else the index of the node that made it; then ``outputs`` the same way,
        and the dict keys of ``inputs``/``outputs`` when given as dicts."""
        made = {id(t): -1 - i for i, t in enumerate(self.inputs)}
        nodes = []
        for k, node in enumerate(self._nodes):
            nodes.append(
                {
                    "layer": self.layers.index(node.layer),
                    "inputs": [made[id(t)] for t in node.inputs],
                }
            )
            made[id(node.output)] = k
        config: dict[str, Any] = {
            "name": self.name,
            "inputs": [
                {"shape": list(t.shape[1:]), "name": t.node.layer.name}
                for t in self.inputs
            ],
            "input_keys": self._input_keys,
            "layers": [
                {
                    "class_name": get_registered_name(type(layer)),
                    "config": layer.get_config(),
                }
                for layer in self.layers
            ],
            "nodes": nodes,
            "outputs": [made[id(t)] for t in self.outputs],
            "output_keys": self._output_keys,
        }
        if not self.trainable:  # a frozen model nested in another
            config["trainable"] = False
        return config

    @classmethod
    def from_layers(cls, config: dict[str, Any], layers: list[Layer]) -> Functional:
        """Connect ``layers`` (made from ``config["layers"]``) as ``config``'s
        nodes say, calling each on the symbolic tensors it reads.

        Raises:
            ValueError: for a node naming a layer or an input that is not there
                (inputs may only come from earlier nodes), or an unused layer.
        """
        name = config.get("name")
        if name is not None and not isinstance(name, str):
            raise fail("config['name']", "a string or None", repr(name))
        xs = _config_inputs(config)
        nodes = config.get("nodes")
        if not isinstance(nodes, list) or not nodes:
            raise fail("config['nodes']", "a non-empty list of nodes", repr(nodes))
        made: list[KerasTensor] = []

        def ref(where: str, value: Any, k: int) -> KerasTensor:
            if not (isinstance(value, int) and -len(xs) <= value < k) or isinstance(
                value, bool
            ):
                raise fail(where, f"-{len(xs)}..-1 or a node index < {k}", value)
            return xs[-1 - value] if value < 0 else made[value]

        for k, node in enumerate(nodes):
            where = f"config['nodes'][{k}]"
            if not isinstance(node, dict) or set(node) != {"layer", "inputs"}:
                raise fail(where, "a dict {layer, inputs}", repr(node)[:100])
            index, refs = node["layer"], node["inputs"]
            if not (_index(index) and index < len(layers)):
                raise fail(f"{where}['layer']", f"a layer index < {len(layers)}", index)
            if not (isinstance(refs, list) and refs):
                raise fail(f"{where}['inputs']", "a non-empty list", repr(refs))
            ins = [ref(f"{where}['inputs']", r, k) for r in refs]
            layer = layers[index]
            made.append(layer(ins if _multi(layer) else ins[0]))
        for old, new in (("input_shape", "inputs"), ("output", "outputs")):
            if old in config and new in config:
                raise fail("config", f"either {old!r} or {new!r}", "both")
        outs = config.get("outputs", [config.get("output")])
        if not isinstance(outs, list) or not outs:
            raise fail("config['outputs']", "a non-empty list", repr(outs)[:100])
        ys = [ref("config['outputs']", r, len(made)) for r in outs]
        in_keys = _keys(config, "input_keys", len(xs))
        out_keys = _keys(config, "output_keys", len(ys))
        inputs = dict(zip(in_keys, xs, strict=True)) if in_keys else xs
        outputs = dict(zip(out_keys, ys, strict=True)) if out_keys else ys
        model = cls(inputs, outputs, name=name)
        if len(model.layers) != len(layers):
            raise fail("config['layers']", "only layers the graph uses", len(layers))
        if config.get("trainable", True) is not True:
            model.trainable = config["trainable"]
        return model

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> Functional:
        """Rebuild a (freshly initialised) graph model from :meth:`get_config`."""
        specs = config.get("layers") if isinstance(config, dict) else None
        if not isinstance(specs, list):
            raise fail("config['layers']", "a list of layer specs", repr(specs)[:80])
        layers = [deserialize_layer(spec, custom_objects) for spec in specs]
        return cls.from_layers(config, layers)

    # -- display --

    def summary(self, print_fn: Any = print) -> None:
        """Print the layers with their output shapes, parameter counts and the
        layers they read (Keras' "Connected to" column); returns None."""
        rows = [(f"{t.name} (InputLayer)", str(t.shape), "0", "-") for t in self.inputs]
        for node in self._nodes:
            layer = node.layer
            sources = ", ".join(_source(t) for t in node.inputs)
            rows.append(
                (
                    f"{layer.name} ({type(layer).__name__})",
                    str(node.output.shape),
                    f"{layer.count_params():,}",
                    sources,
                )
            )
        header = ("Layer (type)", "Output Shape", "Param #", "Connected to")
        widths = [max(len(r[i]) for r in [*rows, header]) + 2 for i in range(4)]
        fmt = "".join(f"{{:<{w}}}" for w in widths)
        total = self.count_params()
        trainable = sum(int(w.size) for w in self.trainable_weights)
        lines = [
            f'Model: "{self.name}"',
            "-" * sum(widths),
            fmt.format(*header),
            "=" * sum(widths),
            *(fmt.format(*r) for r in rows),
            "=" * sum(widths),
            f"Total params: {total:,}",
            f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}",
            "-" * sum(widths),
        ]
        print_fn("\n".join(line.rstrip() for line in lines))


def _config_inputs(config: dict[str, Any]) -> list[KerasTensor]:
    """The input tensors of a config: ``inputs`` (shape and name each), or the
    ``input_shape`` of a file of one input."""
    if "inputs" not in config:
        return [InputLayer(config.get("input_shape")).output]
    specs = config["inputs"]
    if not isinstance(specs, list) or not specs:
        raise fail("config['inputs']", "a non-empty list", repr(specs)[:100])
    xs = []
    for i, spec in enumerate(specs):
        if not isinstance(spec, dict) or set(spec) != {"shape", "name"}:
            raise fail(f"config['inputs'][{i}]", "a dict {shape, name}", repr(spec))
        name = spec["name"]
        if name is not None and not isinstance(name, str):
            raise fail(f"config['inputs'][{i}]['name']", "a string or None", name)
        xs.append(InputLayer(spec["shape"], name=name).output)
    return xs


def _keys(config: dict[str, Any], key: str, n: int) -> list[str] | None:
    keys = config.get(key)
    if keys is None:
        return None
    if (
        not isinstance(keys, list)
        or len(keys) != n
        or not all(isinstance(k, str) for k in keys)
        or len(set(keys)) != n
    ):
        raise fail(f"config[{key!r}]", f"None or {n} distinct strings", repr(keys))
    return keys


def _source(t: KerasTensor) -> str:
    """How Keras names the tensor a node reads: ``layer[node][tensor]``."""
    layer = t.node.layer
    if isinstance(layer, InputLayer):
        return f"{t.name}[0][0]"
    index = layer._inbound_nodes.index(t.node)
    return f"{layer.name}[{index}][0]"


def _index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _multi(layer: Any) -> bool:
    return bool(getattr(layer, "multi_input", False))


def _cast(layer: Any, x: Array) -> Array:
    return training._input_for(layer, x)


def _snapshot(layer: Any) -> list[tuple[Any, dict[str, Any]]]:
    """The state of one call of a shared layer: its attributes, and those of
    every layer inside it when it is a model (their caches are that call's)."""
    objects, stack = [], [layer]
    while stack:
        obj = stack.pop()
        objects.append(obj)
        if isinstance(obj, Model):
            stack.extend(obj.layers)
    return [(obj, dict(vars(obj))) for obj in objects]


def _restore(snapshot: list[tuple[Any, dict[str, Any]]]) -> None:
    for obj, state in snapshot:
        vars(obj).update(state)


__all__ = ["Functional", "topological_nodes"]
