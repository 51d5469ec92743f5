"""glassnet.utils.plot_model / model_to_dot: the DOT text lists a model's layers
and the edges between them; images only through Graphviz where it is present."""

import re
import shutil

import numpy as np
import pytest

from glassnet import layers, models, utils

EDGE = re.compile(r'^\s*"([^"]+)" -> "([^"]+)";$')
BOX = re.compile(r'^\s*"([^"]+)" \[label="(.*)"\];$')


def _edges(text):
    return {m.groups() for m in map(EDGE.match, text.splitlines()) if m}


def _boxes(text):
    return dict(m.groups() for m in map(BOX.match, text.splitlines()) if m)


def _two_branch():
    x = layers.Input((4,), name="x")
    a = layers.Dense(3, activation="relu", name="a")(x)
    b = layers.Dense(3, name="b")(x)
    merged = layers.add([a, b], name="sum")
    return models.Model(x, layers.Dense(1, name="out")(merged), name="two_branch")


def test_a_two_branch_model_lists_each_edge_once():
    text = utils.model_to_dot(_two_branch())
    assert text.startswith('digraph "two_branch" {') and text.endswith("}")
    assert _edges(text) == {
        ("x", "a"),
        ("x", "b"),
        ("a", "sum"),
        ("b", "sum"),
        ("sum", "out"),
    }
    assert set(_boxes(text)) == {"x", "a", "b", "sum", "out"}
    assert _boxes(text)["a"] == "a (Dense)"


def test_the_boxes_show_what_is_asked_for():
    text = utils.model_to_dot(
        _two_branch(),
        show_shapes=True,
        show_dtype=True,
        show_layer_names=False,
        show_layer_activations=True,
        show_trainable=True,
        rankdir="LR",
        dpi=96,
    )
    box = _boxes(text)["a"].split("\\n")
    assert box == [
        "Dense",
        "Activation: relu",
        "Input shape: (None, 4)",
        "Output shape: (None, 3)",
        "Output dtype: float32",
        "Trainable",
    ]
    assert _boxes(text)["sum"].split("\\n")[1] == "Input shape: [(None, 3), (None, 3)]"
    assert _boxes(text)["x"].split("\\n")[:2] == [
        "InputLayer",
        "Output shape: (None, 4)",
    ]
    assert "rankdir=LR" in text and "dpi=96" in text


def test_a_shared_layer_is_one_box_with_an_edge_from_each_input():
    shared = layers.Dense(2, name="shared")
    p, q = layers.Input((3,), name="p"), layers.Input((3,), name="q")
    out = layers.concatenate([shared(p), shared(q)], name="cat")
    text = utils.model_to_dot(models.Model([p, q], out))
    assert _edges(text) == {("p", "shared"), ("q", "shared"), ("shared", "cat")}


def test_a_sequential_model_is_a_chain_of_its_layers():
    model = models.Sequential(
        [layers.Input((5,)), layers.Dense(4, name="h"), layers.Dense(2, name="y")]
    )
    text = utils.model_to_dot(model, show_shapes=True)
    assert _edges(text) == {("h", "y")}
    assert _boxes(text)["y"].split("\\n")[1:] == [
        "Input shape: (None, 4)",
        "Output shape: (None, 2)",
    ]


def test_an_unbuilt_model_and_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="model"):
        utils.model_to_dot(models.Sequential([layers.Dense(2)]))
    with pytest.raises(ValueError, match="rankdir"):
        utils.model_to_dot(_two_branch(), rankdir="UP")
    with pytest.raises(ValueError, match="kwargs"):
        utils.model_to_dot(_two_branch(), colour=True)


def test_plot_model_writes_dot_text_with_no_dependency(tmp_path):
    model = _two_branch()
    utils.plot_model(model, to_file=tmp_path / "m.dot", show_shapes=True)
    text = (tmp_path / "m.dot").read_text()
    assert text.strip() == utils.model_to_dot(
        model, show_shapes=True, show_layer_names=False
    )


def test_an_image_needs_graphviz_or_says_what_to_install(tmp_path, monkeypatch):
    import builtins

    monkeypatch.setattr(shutil, "which", lambda name: None)
    real_import = builtins.__import__

    def no_pydot(name, *args, **kwargs):
        if name == "pydot":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pydot)
    with pytest.raises(ImportError, match="graphviz"):
        utils.plot_model(_two_branch(), to_file=tmp_path / "m.png")
    assert not (tmp_path / "m.png").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_graphviz_renders_an_svg(tmp_path):
    utils.plot_model(_two_branch(), to_file=tmp_path / "m.svg", show_layer_names=True)
    svg = (tmp_path / "m.svg").read_text()
    assert "<svg" in svg and "sum (Add)" in svg


def test_a_subclassed_model_is_one_box():
    class Net(models.Model):
        def __init__(self):
            super().__init__(name="net")
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Net()
    model(np.zeros((1, 3), "float32"))
    text = utils.model_to_dot(model)
    assert list(_boxes(text).values()) == ["net (Net)"] and not _edges(text)
