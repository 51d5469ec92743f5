"""``plot_model`` and ``model_to_dot``: a model's graph as Graphviz DOT text.

The DOT text is written here with no dependency: one box per layer (a shared
layer is one box, as in Keras), and one edge per tensor a layer reads. A graph
model's boxes start at its inputs; a Sequential model's are its layers in order
(Keras draws no input box for it); a subclassed model, whose graph is its
Python code, is one box. Rendering to an image (``.png``, ``.svg``, ``.pdf``)
needs Graphviz's ``dot`` program, called directly, or pydot where installed;
``to_file="model.dot"`` writes the text itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

from glassnet._internal.checks import check_number, fail
from glassnet._internal.io import atomic_write_bytes

_RANKDIRS = ("TB", "LR", "BT", "RL")
_TEXT_FORMATS = ("dot", "gv")


def _quote(text: str) -> str:
    """A DOT string: quotes and backslashes escaped, lines kept as ``\\n``."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def _label(layer: Any, shapes: tuple[Any, Any], dtype: Any, opts: dict) -> str:
    """Keras' box: the name and class, then the rows asked for."""
    kind = type(layer).__name__
    name = getattr(layer, "name", None)
    rows = [f"{name} ({kind})" if opts["show_layer_names"] and name else kind]
    activation = getattr(layer, "activation_name", None)
    if opts["show_layer_activations"] and activation is not None:
        rows.append(f"Activation: {activation}")
    if opts["show_shapes"]:
        in_shape, out_shape = shapes
        if kind != "InputLayer":
            rows.append(f"Input shape: {'?' if in_shape is None else in_shape}")
        rows.append(f"Output shape: {'?' if out_shape is None else out_shape}")
    if opts["show_dtype"]:
        rows.append(f"Output dtype: {dtype or '?'}")
    if opts["show_trainable"] and getattr(layer, "weights", None):
        rows.append("Trainable" if layer.trainable else "Non-trainable")
    return "\n".join(rows)


class _Graph:
    """Boxes keyed by the layer object, with readable, unique ids."""

    def __init__(self) -> None:
        self.ids: dict[int, str] = {}
        self.boxes: list[str] = []
        self.edges: list[str] = []

    def box(self, layer: Any, label: str) -> None:
        if id(layer) in self.ids:
            return
        base = getattr(layer, "name", None) or type(layer).__name__.lower()
        node_id, i = base, 0
        while node_id in self.ids.values():
            i += 1
            node_id = f"{base}_{i}"
        self.ids[id(layer)] = node_id
        self.boxes.append(f"  {_quote(node_id)} [label={_quote(label)}];")

    def edge(self, source: Any, target: Any) -> None:
        line = f"  {_quote(self.ids[id(source)])} -> {_quote(self.ids[id(target)])};"
        if line not in self.edges:
            self.edges.append(line)


def _one(shapes: list[Any]) -> Any:
    return shapes[0] if len(shapes) == 1 else shapes


def _graph_model(graph: _Graph, model: Any, opts: dict) -> None:
    for t in model.inputs:
        source = t.node.layer if t.node is not None else t
        graph.box(source, _label(source, (None, t.shape), t.dtype, opts))
    for node in model._nodes:
        shapes = (_one([t.shape for t in node.inputs]), node.output.shape)
        graph.box(node.layer, _label(node.layer, shapes, node.output.dtype, opts))
    for node in model._nodes:
        for t in node.inputs:
            graph.edge(t.node.layer if t.node is not None else t, node.layer)


def _sequential(graph: _Graph, model: Any, opts: dict) -> None:
    shape = model.input_spec
    for layer in model.layers:
        out = layer.compute_output_shape(shape) if shape is not None else None
        out = None if out is None else tuple(out)
        graph.box(layer, _label(layer, (shape, out), layer.dtype, opts))
        shape = out
    for below, above in zip(model.layers, model.layers[1:], strict=False):
        graph.edge(below, above)


def _kind(model: Any) -> str | None:
    """``"Sequential"`` or ``"Functional"`` for glassnet's two graph classes (and
    their subclasses), else None. By class name: this module sits below
    ``glassnet.models`` and does not import it."""
    for cls in type(model).__mro__:
        if cls.__module__.startswith("glassnet.models.") and cls.__name__ in (
            "Sequential",
            "Functional",
        ):
            return cls.__name__
    return None


def model_to_dot(
    model: Any,
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: float = 200,
    subgraph: bool = False,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    splines: str = "ortho",
    **kwargs: Any,
) -> str:
    """A model's graph as Graphviz DOT text (Keras' ``utils.model_to_dot``).

    Keras returns a ``pydot.Dot``; this returns its text (``Dot.to_string()``),
    which needs no dependency. Nested models are drawn as one box each.

    Args:
        model: a built model.
        show_shapes: add each layer's input and output shapes. Defaults to `False`.
        show_dtype: add each layer's output dtype. Defaults to `False`.
        show_layer_names: head each box with the layer's name, not only its
            class. Defaults to `True`.
        rankdir: ``"TB"`` (top to bottom), ``"LR"``, ``"BT"`` or ``"RL"``.
            Defaults to `"TB"`.
        expand_nested: accepted for Keras code; nested models stay one box.
            Defaults to `False`.
        dpi: the image resolution. Defaults to `200`.
        subgraph: accepted for Keras code; a whole graph is returned.
            Defaults to `False`.
        show_layer_activations: add the activation of layers that have one.
            Defaults to `False`.
        show_trainable: mark layers with weights trainable or not. Defaults to
            `False`.
        splines: Graphviz's edge style. Defaults to `"ortho"`.

    Returns:
        The DOT text.

    Raises:
        ValueError: for an unbuilt model, or an argument that is not valid.

    Example:
        >>> from glassnet import layers, models
        >>> x = layers.Input((3,), name="x")
        >>> model = models.Model(x, layers.Dense(2, name="d")(x))
        >>> print(model_to_dot(model).splitlines()[-2])
          "x" -> "d";
    """
    if kwargs.pop("layer_range", None) is not None:
        raise fail("layer_range", "None (Keras 3 no longer supports it)", "a range")
    if kwargs:
        raise fail("kwargs", "model_to_dot's arguments", sorted(kwargs))
    if rankdir not in _RANKDIRS:
        raise fail("rankdir", f"one of {_RANKDIRS}", repr(rankdir))
    dpi = check_number("dpi", dpi, low=0, low_open=True)
    if not getattr(model, "built", True):
        raise fail(
            "model", "a built model (give it an Input or call it once)", "unbuilt"
        )
    opts = {
        "show_shapes": show_shapes,
        "show_dtype": show_dtype,
        "show_layer_names": show_layer_names,
        "show_layer_activations": show_layer_activations,
        "show_trainable": show_trainable,
    }
    graph = _Graph()
    kind = _kind(model)
    if kind == "Sequential":
        _sequential(graph, model, opts)
    elif kind == "Functional":
        _graph_model(graph, model, opts)
    else:
        graph.box(model, _label(model, (None, None), None, opts))
    name = getattr(model, "name", None) or "model"
    settings = (
        f"rankdir={rankdir}, concentrate=true, dpi={dpi:g}, splines={_quote(splines)}"
    )
    return "\n".join(
        [
            f"digraph {_quote(name)} {{",
            f"  graph [{settings}];",
            '  node [shape=box, fontname="Helvetica"];',
            *graph.boxes,
            *graph.edges,
            "}",
        ]
    )


def plot_model(
    model: Any,
    to_file: str | os.PathLike[str] = "model.png",
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = False,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: float = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    splines: str = "ortho",
    **kwargs: Any,
) -> None:
    """Draw a model's graph into ``to_file`` (Keras' ``utils.plot_model``).

    The format is the file's suffix (``png`` without one): ``.dot`` or ``.gv``
    writes the DOT text of :func:`model_to_dot` with no dependency; any other
    format is rendered by Graphviz's ``dot`` program, or by pydot where it is
    installed.

    Args:
        model: a built model.
        to_file: the file to write. Defaults to `"model.png"`.
        show_layer_names: as for :func:`model_to_dot`. Defaults to `False`
            (Keras 3's default here).
        show_shapes, show_dtype, rankdir, expand_nested, dpi,
            show_layer_activations, show_trainable, splines: as for
            :func:`model_to_dot`.

    Raises:
        ImportError: for an image format when neither Graphviz's ``dot`` nor
            pydot is available; the message says what to install.
        ValueError: as :func:`model_to_dot`.
    """
    text = model_to_dot(
        model,
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        rankdir=rankdir,
        expand_nested=expand_nested,
        dpi=dpi,
        show_layer_activations=show_layer_activations,
        show_trainable=show_trainable,
        splines=splines,
        **kwargs,
    )
    path = os.fspath(to_file)
    fmt = os.path.splitext(path)[1][1:].lower() or "png"
    if fmt in _TEXT_FORMATS:
        atomic_write_bytes(path, (text + "\n").encode())
        return
    _render(text, path, fmt)


def _render(text: str, path: str, fmt: str) -> None:
    dot = shutil.which("dot")
    if dot is not None:
        done = subprocess.run(  # noqa: S603  (Graphviz, found on PATH, no shell)
            [dot, f"-T{fmt}", "-o", path], input=text.encode(), capture_output=True
        )
        if done.returncode:
            why = done.stderr.decode(errors="replace").strip()
            raise fail("to_file", "a format Graphviz renders", f"{path!r}: {why}")
        return
    try:
        import pydot  # noqa: PLC0415  (optional)
    except ImportError:
        raise ImportError(
            f"plot_model: rendering {fmt!r} needs Graphviz's `dot` program "
            "(e.g. `apt-get install graphviz`, or pydot with Graphviz: "
            "`pip install pydot`); to_file='model.dot' writes the DOT text "
            "with no dependency"
        ) from None
    (graph,) = pydot.graph_from_dot_data(text)
    graph.write(path, format=fmt)


__all__ = ["model_to_dot", "plot_model"]
