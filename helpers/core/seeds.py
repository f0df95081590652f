"""Training small networks for many seeds at once, in one batched NumPy computation (lesson 6).

The layers are in :mod:`.batched` (every array has a leading seed axis S). Seed s has its
own initial weights and its own minibatches; a study reports the median and range over
the seeds.

    model = Sequential(Linear(S, 2, 32, rng), Norm(S, (32,), axes=(1,)), ReLU(), Linear(S, 32, 3, rng))
    losses = train(model, X, y, lr=0.1, steps=200, batch_size=32, seed=0)   # (steps, S)
    accuracy(model, X_test, y_test)                                          # (S,)
"""

from __future__ import annotations

import numpy as np

from helpers.core.batched import Dropout, Norm


def cross_entropy(logits, y):
    """Mean softmax cross-entropy per seed: logits (S, N, k), y (S, N) -> (loss (S,), dlogits)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_p, y[..., None], axis=-1)[..., 0]
    d = np.exp(log_p)
    np.put_along_axis(d, y[..., None], np.take_along_axis(d, y[..., None], axis=-1) - 1, axis=-1)
    return -picked.mean(axis=-1), d / y.shape[-1]


def batches(n, S, batch_size, steps, seed):
    """Minibatch indices (steps, S, batch_size): for each seed its own shuffles, epoch by epoch."""
    rng = np.random.default_rng(seed)
    per_epoch = n // batch_size
    epochs = -(-steps // per_epoch)
    order = np.concatenate([rng.random((S, n)).argsort(axis=1)[:, :per_epoch * batch_size]
                            for _ in range(epochs)], axis=1)
    return order.reshape(S, -1, batch_size)[:, :steps].transpose(1, 0, 2)


def parameters(model):
    for layer in model.modules():
        for name, value in layer.params.items():
            yield layer, name, value


def train(model, X, y, *, lr, steps, batch_size, seed=0, frozen=()):
    """Minibatch SGD for every seed at once -> the training losses (steps, S).

    Layers in ``frozen`` are not updated (their running statistics still are, in training
    mode); a loss that is not finite stops nothing, it is recorded as it is.
    """
    S = next(parameters(model))[2].shape[0]
    losses = np.zeros((steps, S))
    with np.errstate(all="ignore"):
        for t, idx in enumerate(batches(len(X), S, batch_size, steps, seed)):
            losses[t], dlogits = cross_entropy(model.forward(X[idx]), y[idx])
            model.backward(dlogits)
            for layer, name, value in parameters(model):
                if layer not in frozen:
                    value -= lr * layer.grads[name]
    return losses


def predict(model, X):
    """Evaluation-mode outputs of every seed's model for the same X -> (S, N, k)."""
    S = next(parameters(model))[2].shape[0]
    was = model.training
    model.set_training(False)
    with np.errstate(all="ignore"):
        out = model.forward(np.broadcast_to(X, (S, *X.shape)))
    model.set_training(was)
    return out


def accuracy(model, X, y):
    """Evaluation-mode accuracy of every seed's model -> (S,)."""
    return (predict(model, X).argmax(axis=-1) == y).mean(axis=-1)


def recalibrate(model, X, batch_size=None):
    """Re-estimate every batch norm's running statistics: one pass over X in training mode,
    without gradients or updates, each statistic the plain average over the batches
    (PyTorch: momentum=None). Dropout is off during the pass."""
    norms = [m for m in model.modules() if isinstance(m, Norm) and m.tracks]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset()
        m.momentum = None
    S = norms[0].params["gamma"].shape[0] if norms else 1
    model.set_training(True)
    for layer in model.modules():
        if isinstance(layer, Dropout):
            layer.training = False
    size = batch_size or len(X)
    for start in range(0, len(X) - size + 1, size):
        model.forward(np.broadcast_to(X[start:start + size], (S, size, *X.shape[1:])))
    for m, momentum in zip(norms, saved, strict=True):
        m.momentum = momentum
    model.set_training(True)
    return model
