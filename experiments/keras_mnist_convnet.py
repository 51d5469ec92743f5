"""keras.io's "Simple MNIST convnet", unchanged but for its imports, on Fashion-MNIST.

The model, the data preparation and the training call are those of
https://keras.io/examples/vision/mnist_convnet/ (Conv 32 - pool - Conv 64 - pool -
dropout 0.5 - softmax, 34,826 parameters, batch 128, 15 epochs, Adam,
validation_split 0.1); only ``from tensorflow import keras`` became glassnet's
imports and ``mnist`` became ``fashion_mnist``. Prints, per epoch, the training
and validation accuracy and the wall time, then the test accuracy, and writes
them as JSON.

    python experiments/keras_mnist_convnet.py [--epochs 15] [--dataset mnist]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from glassnet import callbacks, layers, models
from glassnet.datasets import fashion_mnist, mnist, to_categorical


class EpochTimer(callbacks.Callback):
    """Records each epoch's wall time and logs, and prints one line per epoch."""

    def on_train_begin(self, logs=None):
        self.rows = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.start
        self.rows.append({"epoch": epoch + 1, "seconds": seconds, **logs})
        print(
            f"epoch {epoch + 1:2d}: {seconds:6.1f} s  "
            f"accuracy {logs['accuracy']:.4f}  val_accuracy {logs['val_accuracy']:.4f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument(
        "--dataset", choices=["fashion_mnist", "mnist"], default="fashion_mnist"
    )
    parser.add_argument("--out", default="experiments/results/keras_mnist_convnet.json")
    args = parser.parse_args()
    dataset = {"fashion_mnist": fashion_mnist, "mnist": mnist}[args.dataset]

    # -- from here on, keras.io's example, imports aside --
    num_classes = 10
    input_shape = (28, 28, 1)
    (x_train, y_train), (x_test, y_test) = dataset.load_data()
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    y_train = to_categorical(y_train, num_classes)
    y_test = to_categorical(y_test, num_classes)

    model = models.Sequential(
        [
            layers.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ],
        seed=0,
    )
    model.summary()
    batch_size = 128
    model.compile(
        loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"]
    )
    timer = EpochTimer()
    start = time.perf_counter()
    model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=args.epochs,
        validation_split=0.1,
        callbacks=[timer],
        verbose=0,
    )
    seconds = time.perf_counter() - start
    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])
    # -- end of the example --

    result = {
        "dataset": args.dataset,
        "epochs": timer.rows,
        "train_seconds": seconds,
        "test_loss": float(score[0]),
        "test_accuracy": float(score[1]),
        "machine": f"{platform.processor() or platform.machine()}, "
        f"{__import__('os').cpu_count()} cores",
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
