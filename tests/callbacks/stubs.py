"""A stand-in model for driving callback hooks by hand, as Keras' tests do."""

from glassnet.optimizers import SGD


class StubModel:
    """Weights are the epoch number the test last set, so a restore is visible."""

    def __init__(self, learning_rate=0.1):
        self.stop_training = False
        self.weights = -1
        self.optimizer = SGD(learning_rate=learning_rate)

    def get_weights(self):
        return self.weights

    def set_weights(self, weights):
        self.weights = weights


def run_epochs(callback, model, values, key="val_loss", stop_at=None):
    """Train-like loop over made-up ``values``; returns the number of epochs run.

    Each epoch first sets the model's weights to the epoch index, then calls
    ``on_epoch_end`` with ``{key: value}``; ``stop_at`` simulates another
    callback asking to stop after that epoch.
    """
    callback.set_model(model)
    callback.on_train_begin()
    epochs = 0
    for epoch, value in enumerate(values):
        epochs += 1
        model.weights = epoch
        callback.on_epoch_end(epoch, {key: value})
        if epoch == stop_at:
            model.stop_training = True
        if model.stop_training:
            break
    callback.on_train_end()
    return epochs
