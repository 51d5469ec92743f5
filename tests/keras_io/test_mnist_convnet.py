"""keras.io "Simple MNIST convnet" (examples/vision/mnist_convnet.py), imports
changed, on synthetic digits: 300 images of 28x28x1 drawn around ten fixed
patterns instead of MNIST (no network in tests). Everything else is the script's:
the model, ``compile``, ``fit(..., validation_split=0.1)`` and ``evaluate``.
"""

import numpy as np

import glassnet as keras
from glassnet import layers


def _load_data(rng, n_train=300, n_test=100):
    """What mnist.load_data() returns, in kind: uint8 images (n, 28, 28) and
    int labels (n,), as ten fixed patterns plus noise."""
    templates = rng.random((10, 28, 28))
    y = rng.integers(0, 10, size=n_train + n_test)
    x = 255 * (0.7 * templates[y] + 0.3 * rng.random(y.shape + (28, 28)))
    x = x.astype("uint8")
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def _summary_text(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def test_the_script_trains_validates_on_the_last_tenth_and_evaluates(rng):
    keras.utils.clear_session()  # the names below are those of a fresh process
    # Model / data parameters
    num_classes = 10
    input_shape = (28, 28, 1)
    # Load the data and split it between train and test sets
    (x_train, y_train), (x_test, y_test) = _load_data(rng)

    # Scale images to the [0, 1] range
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # Make sure images have shape (28, 28, 1)
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)

    # keras.utils.to_categorical: glassnet has none (see test_keras_namespace).
    y_train = np.eye(num_classes, dtype="float32")[y_train]
    y_test = np.eye(num_classes, dtype="float32")[y_test]

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )

    text = _summary_text(model)
    # The rows and total keras.io prints for this script.
    for name, shape, params in [
        ("conv2d (Conv2D)", "(None, 26, 26, 32)", "320"),
        ("max_pooling2d (MaxPooling2D)", "(None, 13, 13, 32)", "0"),
        ("conv2d_1 (Conv2D)", "(None, 11, 11, 64)", "18,496"),
        ("max_pooling2d_1 (MaxPooling2D)", "(None, 5, 5, 64)", "0"),
        ("flatten (Flatten)", "(None, 1600)", "0"),
        ("dropout (Dropout)", "(None, 1600)", "0"),
        ("dense (Dense)", "(None, 10)", "16,010"),
    ]:
        row = next(line for line in text.splitlines() if line.startswith(name + " "))
        assert row.split()[-1] == params and shape in row
    assert "Total params: 34,826" in text

    batch_size = 128
    epochs = 15

    model.compile(
        loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"]
    )

    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_split=0.1,
        verbose=0,
    )

    score = model.evaluate(x_test, y_test, verbose=0)

    hist = history.history
    assert set(hist) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == epochs for v in hist.values())
    assert hist["loss"][-1] < 0.9 * hist["loss"][0]
    assert hist["val_loss"][-1] < hist["val_loss"][0]
    # Keras holds out the last 10% (30 samples), before any shuffling, and
    # validates after the epoch's last step, without dropout: evaluating the
    # trained model on those samples gives the last epoch's val_loss.
    held_out = model.evaluate(x_train[-30:], y_train[-30:], verbose=0)
    np.testing.assert_allclose(
        held_out, [hist["val_loss"][-1], hist["val_accuracy"][-1]], rtol=1e-5
    )
    assert isinstance(score, list) and len(score) == 2
    assert score[1] > 0.3  # ten classes: chance is 0.1
