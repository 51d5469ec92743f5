"""Graph models: Keras' functional API, ``Model(inputs=x, outputs=y)``.

The layers were called on symbolic tensors (:mod:`glassnet.layers.symbolic`);
each call left a node. The model walks from its output back to its input,
orders the nodes so that every node comes after the nodes it reads, and then

* runs the forward pass node by node, keeping each tensor's array until the
  nodes that read it have run;
* runs the backward pass in the reverse order: each node's layer turns the
  gradient of its output into the gradients of its inputs, and where a tensor
  feeds several nodes (a residual connection) their gradients are summed.

A layer called at several nodes (a shared layer) keeps one set of weights.
Its caches are per call, so the model keeps each node's layer state from the
forward pass and puts it back before that node's backward pass, and sums the
weight gradients of its nodes.

Training, evaluation, prediction and the callbacks are the same code as for
``Sequential``: the model only provides :meth:`Functional.forward_pass` and
:meth:`Functional.backward_pass`. A file holds the graph as data (the layers,
and per node the layer and where its inputs come from: see
:meth:`Functional.get_config`), never code. One input and one output for now:
models of several inputs or outputs are refused with a message saying so.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import fail
from glassnet.backend import Array
from glassnet.layers.base import Layer, Shape
from glassnet.layers.input_layer import InputLayer
from glassnet.layers.symbolic import KerasTensor, Node
from glassnet.models import training
from glassnet.models.model import Model
from glassnet.models.training import activity_penalty, clear_activity_losses
from glassnet.saving.api import deserialize_layer
from glassnet.saving.registration import get_registered_name
from glassnet.saving.spec import register_model


def _one(name: str, given: Any) -> KerasTensor:
    """The single tensor of ``inputs``/``outputs`` (a tensor or a list of one)."""
    items = list(given) if isinstance(given, list | tuple) else [given]
    if not all(isinstance(t, KerasTensor) for t in items):
        bad = next(t for t in items if not isinstance(t, KerasTensor))
        raise fail(name, "symbolic tensors (from Input and layer calls)", repr(bad))
    if len(items) != 1:
        raise fail(
            name,
            "one tensor (models of several inputs or outputs are not supported yet)",
            f"{len(items)} tensors",
        )
    return items[0]


def topological_nodes(start: KerasTensor, end: KerasTensor) -> list[Node]:
    """The nodes between the input ``start`` and the output ``end``, each after
    the nodes whose outputs it reads.

    Raises:
        ValueError: when ``end`` does not depend on ``start``, or depends on
            another input too.
    """
    order: list[Node] = []
    state: dict[int, str] = {}

    def visit(t: KerasTensor) -> None:
        node = t.node
        if node is None or isinstance(node.layer, InputLayer):
            if t is not start:
                raise fail(
                    "inputs",
                    "every input the outputs depend on",
                    f"outputs that also depend on {t!r}",
                )
            return
        if state.get(id(node)) == "done":
            return
        state[id(node)] = "open"
        for parent in node.inputs:
            visit(parent)
        state[id(node)] = "done"
        order.append(node)

    visit(end)
    if not order and end is not start:
        raise fail("outputs", "a tensor computed from inputs", repr(end))
    return order


@register_model
class Functional(Model):
    """A model of layers called on symbolic tensors: ``Model(inputs, outputs)``.

    Args:
        inputs: the ``Input`` tensor.
        outputs: the tensor computed from it.
        name: the model's name. Defaults to `None`, meaning ``"functional"``,
            then ``"functional_1"``... in the process.
        seed: seeds shuffling during ``fit``. Defaults to `None`.

    Example:
        >>> from glassnet import layers, models
        >>> x = layers.Input((8,))
        >>> h = layers.Dense(8, activation="relu")(x)
        >>> y = layers.Dense(2)(layers.Add()([x, h]))   # a residual connection
        >>> model = models.Model(inputs=x, outputs=y)
        >>> model.count_params(), model.output_shape
        (90, (None, 2))
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
        self._input = _one("inputs", inputs)
        self._output = _one("outputs", outputs)
        self._nodes = topological_nodes(self._input, self._output)
        self.layers: list[Any] = []
        for node in self._nodes:
            if node.layer not in self.layers:
                self.layers.append(node.layer)
        self._name_layers()
        self.input_spec: Shape = tuple(self._input.shape)
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

    # -- shape --

    def _ensure_built(self, x: Array) -> None:
        expected = tuple(self.input_spec[1:])
        if tuple(x.shape[1:]) != expected:
            raise fail("x", f"samples of shape {expected}", f"shape {tuple(x.shape)}")

    @property
    def output_shape(self) -> Shape:
        return tuple(self._output.shape)

    @property
    def output_layer(self) -> Any:
        return self._output.node.layer

    # -- the passes --

    def forward_pass(self, x: Array, training: bool) -> tuple[Array, float, dict]:
        """Run the nodes in order; see the module docstring."""
        self.apply_need_dx()
        values: dict[int, Array] = {id(self._input): x}
        penalty, activity_grads = 0.0, {}
        clear_activity_losses(self.layers)
        self._states: dict[int, dict[str, Any]] = {}
        for k, node in enumerate(self._nodes):
            layer = node.layer
            arrays = [_cast(layer, values[id(t)]) for t in node.inputs]
            out = layer.forward(arrays if _multi(layer) else arrays[0], training)
            if id(layer) in self._shared:
                self._states[k] = dict(vars(layer))
            if layer.activity_regularizer is not None:
                p, activity_grads[k] = activity_penalty(layer, out)
                penalty += p
            values[id(node.output)] = out
        return values[id(self._output)], penalty, activity_grads

    def backward_pass(
        self, dout: Array, from_logits: bool, activity_grads: dict
    ) -> None:
        """Run the nodes in reverse, summing gradients where a tensor fans out."""
        grads: dict[int, Array] = {id(self._output): dout}
        summed: dict[int, dict[str, Array]] = {}
        last = len(self._nodes) - 1
        for k in range(last, -1, -1):
            node, layer = self._nodes[k], self._nodes[k].layer
            g = grads.pop(id(node.output), None)
            if g is None:  # nothing downstream reads this node's output
                continue
            if k in activity_grads:
                g = g + activity_grads[k]
            if k in self._states:
                vars(layer).update(self._states.pop(k))
            if k == last and from_logits:
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

    # -- configuration: the graph as data --

    CONFIG_KEYS = frozenset({"name", "input_shape", "layers", "nodes", "output"})

    def get_config(self) -> dict[str, Any]:
        """The graph as JSON-safe data: the layers, and per node (in the order
        they run) the index of its layer and where each input comes from: -1
        for the model's input, else the index of the node that made it."""
        made = {id(self._input): -1}
        nodes = []
        for k, node in enumerate(self._nodes):
            nodes.append(
                {
                    "layer": self.layers.index(node.layer),
                    "inputs": [made[id(t)] for t in node.inputs],
                }
            )
            made[id(node.output)] = k
        return {
            "name": self.name,
            "input_shape": list(self.input_spec[1:]),
            "layers": [
                {
                    "class_name": get_registered_name(type(layer)),
                    "config": layer.get_config(),
                }
                for layer in self.layers
            ],
            "nodes": nodes,
            "output": made[id(self._output)],
        }

    @classmethod
    def from_layers(cls, config: dict[str, Any], layers: list[Layer]) -> Functional:
        """Connect ``layers`` (made from ``config["layers"]``) as ``config``'s
        nodes say, calling each on the symbolic tensors it reads.

        Raises:
            ValueError: for a node naming a layer or an input that is not there
                (inputs may only come from earlier nodes), or an unused layer.
        """
        name, shape = config.get("name"), config.get("input_shape")
        if name is not None and not isinstance(name, str):
            raise fail("config['name']", "a string or None", repr(name))
        nodes, output = config.get("nodes"), config.get("output")
        if not isinstance(nodes, list) or not nodes:
            raise fail("config['nodes']", "a non-empty list of nodes", repr(nodes))
        x = InputLayer(shape).output
        made: list[KerasTensor] = []
        for k, node in enumerate(nodes):
            where = f"config['nodes'][{k}]"
            if not isinstance(node, dict) or set(node) != {"layer", "inputs"}:
                raise fail(where, "a dict {layer, inputs}", repr(node)[:100])
            index, refs = node["layer"], node["inputs"]
            if not (_index(index) and index < len(layers)):
                raise fail(f"{where}['layer']", f"a layer index < {len(layers)}", index)
            if not (isinstance(refs, list) and refs):
                raise fail(f"{where}['inputs']", "a non-empty list", repr(refs))
            ins = []
            for ref in refs:
                if not (isinstance(ref, int) and -1 <= ref < k) or isinstance(
                    ref, bool
                ):
                    raise fail(f"{where}['inputs']", f"-1 or a node index < {k}", ref)
                ins.append(x if ref == -1 else made[ref])
            layer = layers[index]
            made.append(layer(ins if _multi(layer) else ins[0]))
        if not (_index(output) and output < len(made)):
            raise fail("config['output']", f"a node index < {len(made)}", output)
        model = cls(x, made[output], name=name)
        if len(model.layers) != len(layers):
            raise fail("config['layers']", "only layers the graph uses", len(layers))
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
        rows = [(f"{self._input.name} (InputLayer)", str(self._input.shape), "0", "-")]
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


__all__ = ["Functional", "topological_nodes"]
