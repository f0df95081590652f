"""Training a :mod:`helpers.core.nn` model: minibatch SGD with activation records (lessons 2-3).

    model = mlp([2, 32, 32, 3], batchnorm=True)
    history = train(model, X, y, loss="cross_entropy", lr=0.1, n_epochs=20, batch_size=32)
    history.loss, history.diverged, accuracy(model, X_test, y_test)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from helpers.core.nn import LOSSES

#: training stops, and is reported as diverged, once a batch loss is not finite
#: or exceeds this multiple of the first batch loss
BATCH_DIVERGENCE_FACTOR = 1e3


class SGD:
    """Plain stochastic gradient descent: p <- p - lr * dL/dp, in place."""

    def __init__(self, model, lr):
        self.model, self.lr = model, lr

    def step(self):
        for layer in self.model.layers:
            for name, p in layer.params.items():
                p -= self.lr * layer.grads[name]


@dataclass
class History:
    """What :func:`train` measured.

    loss        (n_epochs,) mean training loss of each epoch; NaN for epochs
                not completed because training diverged
    step_loss   (n_steps_run,) loss of each minibatch
    diverged    True when a batch loss was not finite or exceeded
                BATCH_DIVERGENCE_FACTOR × the first one; training then stopped
    message     one sentence: how training ended

    With ``record_activations`` (else empty arrays), for the ``probe`` batch,
    recorded before the first step and then every ``record_every`` steps:

    steps       (r,) the step at which each record was taken (0 = initialization)
    act_mean    (r, n_hidden) mean of the input of each hidden ReLU (its pre-activation)
    act_std     (r, n_hidden) its standard deviation (over examples and units)
    act_samples (r, n_hidden, m) float32 values of those pre-activations (for histograms)
    """

    loss: np.ndarray
    step_loss: np.ndarray
    diverged: bool = False
    message: str = ""
    lr: float = 0.0
    batch_size: int = 0
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    act_mean: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    act_std: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    act_samples: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), np.float32))

    @property
    def final_loss(self) -> float:
        """Loss of the last completed epoch (NaN if none)."""
        done = self.loss[np.isfinite(self.loss)]
        return float(done[-1]) if done.size else float("nan")


def hidden_preactivations(model, X):
    """Training-mode forward pass on X that leaves running statistics unchanged.

    Returns a list with, for each hidden layer, the input of its ReLU (n, units).
    The model's mode is left as it was.
    """
    was_training = model.training
    bns = model.batchnorms()
    for bn in bns:
        bn.update_running = False
    try:
        model.train()
        model.forward(X)
    finally:
        for bn in bns:
            bn.update_running = True
        if not was_training:
            model.eval()
    return [model.outputs[i - 1] for i in model.hidden_indices()]


def train(model, X, y, *, loss="mse", lr, n_epochs, batch_size, seed=0,
          record_activations=False, record_every=1, probe=None, n_samples=2048, on_step=None):
    """Train ``model`` in place with minibatch SGD; returns a :class:`History`.

    Examples are shuffled each epoch with ``np.random.default_rng(seed)``; the
    last batch of an epoch may be smaller (a batch of 1 example is skipped when
    the model has batch norm, as PyTorch users do with ``drop_last``).
    ``loss`` is "mse" or "cross_entropy". Divergence stops training and is
    reported in the history, without overflow warnings. ``probe`` (default: the
    first 256 rows of X) is the batch whose activations are recorded. ``on_step(step,
    X_batch, y_batch)``, if given, is called after each backward pass, before the update
    (each layer's ``grads`` then hold this batch's gradients; lesson 5's diagnostics).
    """
    loss_fn = LOSSES[loss]
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    opt = SGD(model, lr)
    has_bn = bool(model.batchnorms())
    probe = X[:256] if probe is None else np.asarray(probe, dtype=float)
    records = []  # (step, list of pre-activation arrays)

    def record(step):
        acts = hidden_preactivations(model, probe)
        records.append((step, acts))

    model.train()
    epoch_loss = np.full(n_epochs, np.nan)
    step_loss = []
    diverged, message, step = False, "", 0
    with np.errstate(all="ignore"):
        if record_activations:
            record(0)
        for epoch in range(n_epochs):
            order = rng.permutation(len(X))
            batch_losses = []
            for start in range(0, len(X), batch_size):
                idx = order[start:start + batch_size]
                if has_bn and len(idx) < 2:
                    continue
                value, dout = loss_fn(model.forward(X[idx]), y[idx])
                step += 1
                step_loss.append(value)
                if not np.isfinite(value) or value > BATCH_DIVERGENCE_FACTOR * max(step_loss[0], 1e-12):
                    diverged = True
                    message = (f"diverged at step {step} (epoch {epoch + 1}): batch loss "
                               f"{value:.3g}, first batch loss {step_loss[0]:.3g}")
                    break
                model.backward(dout)
                if on_step is not None:
                    on_step(step, X[idx], y[idx])
                opt.step()
                batch_losses.append(value)
                if record_activations and step % record_every == 0:
                    record(step)
            if diverged:
                break
            epoch_loss[epoch] = np.mean(batch_losses)
    if not diverged:
        message = f"trained {n_epochs} epochs ({step} steps): final epoch loss {epoch_loss[-1]:.4g}"
    history = History(epoch_loss, np.array(step_loss), diverged, message, lr, batch_size)
    if records:
        history.steps = np.array([s for s, _ in records])
        history.act_mean = np.array([[a.mean() for a in acts] for _, acts in records])
        history.act_std = np.array([[a.std() for a in acts] for _, acts in records])
        history.act_samples = np.array([[a.ravel()[:n_samples] for a in acts]
                                        for _, acts in records], dtype=np.float32)
    return history


def predict_eval(model, X):
    """Outputs for X in evaluation mode; the model's mode is restored afterwards."""
    was_training = model.training
    model.eval()
    with np.errstate(all="ignore"):
        out = model.forward(np.asarray(X, dtype=float))
    if was_training:
        model.train()
    return out


def accuracy(model, X, y) -> float:
    """Fraction of examples whose largest output is the true class (evaluation mode)."""
    return float(np.mean(predict_eval(model, X).argmax(axis=1) == np.asarray(y)))


# --------------------------------------------------------------------------- repeated runs (lesson 3)


@dataclass
class Repeats:
    """One setting trained with several seeds: each run's test accuracy (NaN where the run
    diverged) and its history."""

    accuracy: np.ndarray
    histories: list

    @property
    def n_diverged(self) -> int:
        return int(np.isnan(self.accuracy).sum())

    @property
    def diverged(self) -> bool:
        """True when most runs diverged."""
        return self.n_diverged > len(self.accuracy) / 2

    def median(self) -> float:
        """Median accuracy of the runs that did not diverge (NaN if none)."""
        done = self.accuracy[np.isfinite(self.accuracy)]
        return float(np.median(done)) if done.size else float("nan")

    def spread(self) -> tuple[float, float]:
        """Lowest and highest accuracy of the runs that did not diverge."""
        done = self.accuracy[np.isfinite(self.accuracy)]
        return (float(done.min()), float(done.max())) if done.size else (np.nan, np.nan)

    def describe(self) -> str:
        """Median (lowest–highest), e.g. "96.3% (95.0–97.0%)", "33.3% (33.3–33.3%), 2 of 3
        diverged", "3 of 3 diverged"."""
        n, k = len(self.accuracy), self.n_diverged
        if k == n:
            return f"{n} of {n} diverged"
        lo, hi = self.spread()
        text = f"{self.median():.1%} ({100 * lo:.1f}–{hi:.1%})"
        return text + (f", {k} of {n} diverged" if k else "")


def repeat_runs(build, X, y, X_test, y_test, seeds, *, record_first=None, **train_kw) -> Repeats:
    """Train ``build(seed)`` on (X, y) once per seed (the seed also shuffles the batches).

    ``record_first``: keyword arguments of :func:`train` that record activations, used for
    the first seed only (e.g. ``dict(record_activations=True, record_every=10)``).
    """
    scores, histories = [], []
    for i, seed in enumerate(seeds):
        model = build(seed)
        extra = record_first if (record_first and i == 0) else {}
        history = train(model, X, y, seed=seed, **train_kw, **extra)
        histories.append(history)
        scores.append(np.nan if history.diverged else accuracy(model, X_test, y_test))
    return Repeats(np.array(scores, dtype=float), histories)
