"""What a practitioner watches while a network trains (lesson 5).

    diag = diagnose(nn.mlp(SIZES, norm="batch"), X, y, lr=0.1, n_epochs=30, batch_size=32)
    diag.update_ratio      # (records, layers): |lr·dL/dW| / |W| of each Linear layer
    diag.loss_range        # (records, 2): lowest and highest loss along the gradient direction

Every ``record_every`` steps, on the batch of that step, before its update:

- per Linear layer (index 0 = the first): the standard deviation of dL/dW and of W, the
  norm of W, and the update-to-data ratio ‖lr·dL/dW‖ / ‖W‖ (Frobenius norms);
- the loss landscape along the gradient g (Santurkar et al., 2018): the batch loss after
  a step of size η along −g, for every η in ``step_sizes``, and how much the gradient
  changes there, ‖g(θ − ηg) − g(θ)‖, next to the loss at θ itself (η = 0). Divided by the
  distance moved, η‖g‖, the gradient change is the curvature along g, the number lesson 1's
  stable learning rate 2/λ depends on; its largest value over the step sizes is Santurkar
  et al.'s "effective β-smoothness".

The probe steps change no parameter, gradient or running statistic of the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.core.nn import LOSSES, Linear
from helpers.core.training import History, train


@dataclass
class Diagnostics:
    """Records of :func:`diagnose` (r records, L Linear layers, s step sizes)."""

    history: History
    steps: np.ndarray          # (r,) the step of each record (1 = the first update)
    grad_std: np.ndarray       # (r, L) standard deviation of dL/dW
    weight_std: np.ndarray     # (r, L) standard deviation of W
    weight_norm: np.ndarray    # (r, L) Frobenius norm of W
    update_ratio: np.ndarray   # (r, L) ‖lr·dL/dW‖ / ‖W‖
    step_sizes: np.ndarray     # (s,)
    landscape: np.ndarray      # (r, s) batch loss after a step η along −g
    grad_change: np.ndarray    # (r, s) ‖g(θ − ηg) − g(θ)‖
    grad_norm: np.ndarray      # (r,) ‖g‖ over every parameter
    base_loss: np.ndarray      # (r,) batch loss at θ itself (η = 0)

    @property
    def loss_range(self) -> np.ndarray:
        """(r, 2): the lowest and highest loss over the step sizes, at each record."""
        return np.stack([self.landscape.min(axis=1), self.landscape.max(axis=1)], axis=1)

    @property
    def curvature(self) -> np.ndarray:
        """(r, s): gradient change per distance moved, ‖Δg‖ / (η‖g‖)."""
        return self.grad_change / self.distance

    @property
    def loss_change(self) -> np.ndarray:
        """(r, s): L(θ − ηg) − L(θ), the change of the batch loss from the current point."""
        return self.landscape - self.base_loss[:, None]

    @property
    def distance(self) -> np.ndarray:
        """(r, s): how far each probe step moves the parameters, η‖g‖."""
        return self.step_sizes[None, :] * self.grad_norm[:, None]

    @property
    def smoothness(self) -> np.ndarray:
        """(r,): Santurkar et al.'s effective β-smoothness, max over η of ‖Δg‖ / (η‖g‖)."""
        return self.curvature.max(axis=1)


def linear_layers(model) -> list:
    return [layer for layer in model.layers if isinstance(layer, Linear)]


def _all_grads(model) -> list:
    return [{k: g.copy() for k, g in layer.grads.items()} for layer in model.layers]


def _flat(grads) -> np.ndarray:
    return np.concatenate([g.ravel() for layer in grads for g in layer.values()] or [np.zeros(0)])


def probe_direction(model, X, y, step_sizes, loss="cross_entropy"):
    """Loss and gradient change after steps of size η along −g, g = the gradients now held
    in the model's layers (from a backward pass on X, y). Returns (losses (s,), changes (s,),
    ‖g‖, the loss at θ itself). Parameters, gradients and running statistics are left as
    they were."""
    loss_fn = LOSSES[loss]
    saved = _all_grads(model)
    g = _flat(saved)
    params = [{k: p.copy() for k, p in layer.params.items()} for layer in model.layers]
    bns = model.batchnorms()
    for bn in bns:
        bn.update_running = False
    losses, changes = [], []
    try:
        base = float(loss_fn(model.forward(X), y)[0])
        for eta in step_sizes:
            for layer, p0, g0 in zip(model.layers, params, saved, strict=True):
                for k in layer.params:
                    layer.params[k][...] = p0[k] - eta * g0[k]
            value, dout = loss_fn(model.forward(X), y)
            model.backward(dout)
            losses.append(value)
            changes.append(np.linalg.norm(_flat(_all_grads(model)) - g))
    finally:
        for layer, p0, g0 in zip(model.layers, params, saved, strict=True):
            for k in layer.params:
                layer.params[k][...] = p0[k]
            layer.grads = g0
        for bn in bns:
            bn.update_running = True
    return np.array(losses), np.array(changes), float(np.linalg.norm(g)), base


def diagnose(model, X, y, *, lr, n_epochs, batch_size, seed=0, loss="cross_entropy",
             record_every=10, step_sizes=(0.05, 0.1, 0.2, 0.4)) -> Diagnostics:
    """Train ``model`` like :func:`helpers.core.training.train` and record diagnostics
    at step 1 and every ``record_every`` steps (see the module's docstring). With
    ``step_sizes=()`` the loss landscape is not probed (faster)."""
    rows = []
    step_sizes = np.asarray(step_sizes, dtype=float)

    def on_step(step, xb, yb):
        if step != 1 and step % record_every:
            return
        lin = linear_layers(model)
        dW = [layer.grads["W"] for layer in lin]
        W = [layer.params["W"] for layer in lin]
        losses, changes, gnorm, base = (probe_direction(model, xb, yb, step_sizes, loss)
                                        if len(step_sizes) else ([], [], np.nan, np.nan))
        rows.append((step, [d.std() for d in dW], [w.std() for w in W],
                     [np.linalg.norm(w) for w in W],
                     [lr * np.linalg.norm(d) / np.linalg.norm(w) for d, w in zip(dW, W, strict=True)],
                     losses, changes, gnorm, base))

    history = train(model, X, y, loss=loss, lr=lr, n_epochs=n_epochs, batch_size=batch_size,
                    seed=seed, on_step=on_step)
    cols = list(zip(*rows, strict=True)) if rows else [[]] * 9
    arrays = [np.array(c, dtype=float) for c in cols]
    return Diagnostics(history, arrays[0].astype(int), *arrays[1:5], step_sizes, *arrays[5:])


def summarize(diag: Diagnostics, layer: int) -> dict:
    """Medians over the records of one Linear layer (index 0 = the first): a table row."""
    return {"grad_std": float(np.median(diag.grad_std[:, layer])),
            "update_ratio": float(np.median(diag.update_ratio[:, layer])),
            "weight_norm_growth": float(diag.weight_norm[-1, layer] / diag.weight_norm[0, layer])}


# --------------------------------------------------------------------------- many seeds at once


@dataclass
class SeedDiagnostics:
    """Records of :func:`diagnose_seeds`: the fields of :class:`Diagnostics` with a seed axis
    after the records' ((r, S, L), (r, S, s), (r, S)); ``seed(k)`` and ``median()`` give one
    :class:`Diagnostics` (one seed's, or the median over the seeds of each value)."""

    losses: np.ndarray         # (steps, S) the training loss of each step
    steps: np.ndarray
    step_sizes: np.ndarray
    fields: dict               # name -> array with the seed axis second

    def _one(self, arrays, losses):
        finite = bool(np.isfinite(losses).all())
        history = History(loss=losses, step_loss=losses, diverged=not finite,
                          message=("finished: every step's loss was finite" if finite else
                                   "the loss stopped being finite"))
        return Diagnostics(history, self.steps, *(arrays[k] for k in _FIELDS[:4]),
                           self.step_sizes, *(arrays[k] for k in _FIELDS[4:]))

    def seed(self, k: int) -> Diagnostics:
        return self._one({n: a[:, k] for n, a in self.fields.items()}, self.losses[:, k])

    def median(self) -> Diagnostics:
        return self._one({n: np.median(a, axis=1) for n, a in self.fields.items()},
                         np.median(self.losses, axis=1))

    def select(self, seeds) -> SeedDiagnostics:
        """The records of some seeds only (an index or a slice of the seed axis)."""
        return SeedDiagnostics(self.losses[:, seeds], self.steps, self.step_sizes,
                               {n: a[:, seeds] for n, a in self.fields.items()})

    def per_seed(self, name: str) -> np.ndarray:
        """A :class:`Diagnostics` property (e.g. "smoothness") for every seed: (r, S, ...)."""
        return np.stack([getattr(self.seed(k), name) for k in range(self.losses.shape[1])], 1)


_FIELDS = ("grad_std", "weight_std", "weight_norm", "update_ratio", "landscape", "grad_change",
           "grad_norm", "base_loss")


def _per_seed_norm(arrays) -> np.ndarray:
    return np.sqrt(sum((a.reshape(len(a), -1) ** 2).sum(axis=1) for a in arrays))


def _probe_seeds(model, xb, yb, step_sizes):
    """Batched :func:`probe_direction`: (losses (S, s), changes (S, s), ‖g‖ (S,), base (S,))."""
    from helpers.core import batched as bt
    from helpers.core import seeds as sd

    params = list(sd.parameters(model))
    p0 = [v.copy() for _, _, v in params]
    g0 = [layer.grads[name].copy() for layer, name, _ in params]
    norms = [m for m in model.modules() if isinstance(m, bt.Norm) and m.tracks]
    saved = [(m.running_mean, m.running_var, m.n_batches) for m in norms]
    base = sd.cross_entropy(model.forward(xb), yb)[0]
    losses, changes = [], []
    for eta in step_sizes:
        for (_, _, v), p, g in zip(params, p0, g0, strict=True):
            v[...] = p - eta * g
        loss, dlogits = sd.cross_entropy(model.forward(xb), yb)
        model.backward(dlogits)
        losses.append(loss)
        changes.append(_per_seed_norm([layer.grads[name] - g for (layer, name, _), g
                                       in zip(params, g0, strict=True)]))
    for (layer, name, v), p, g in zip(params, p0, g0, strict=True):
        v[...] = p
        layer.grads[name] = g
    for m, (mean, var, n) in zip(norms, saved, strict=True):
        m.running_mean, m.running_var, m.n_batches = mean, var, n
    return np.array(losses).T, np.array(changes).T, _per_seed_norm(g0), base


def diagnose_seeds(model, X, y, *, lr, steps, batch_size, seed=0, record_every=10,
                   step_sizes=()) -> SeedDiagnostics:
    """:func:`diagnose` for a :mod:`helpers.core.batched` model of S seeds, trained like
    :func:`helpers.core.seeds.train` (minibatch SGD, cross-entropy), recorded at step 1 and
    every ``record_every`` steps on that step's batch, before its update. ``lr`` is one
    number or one per seed (several learning rates in one run: :meth:`SeedDiagnostics.select`
    takes each one's seeds)."""
    from helpers.core import batched as bt
    from helpers.core import seeds as sd

    linear = [m for m in model.modules() if isinstance(m, bt.Linear)]
    S = linear[0].params["W"].shape[0]
    lrs = np.broadcast_to(np.asarray(lr, dtype=float), (S,))
    step_sizes = np.asarray(step_sizes, dtype=float)
    losses, rows, at = np.zeros((steps, S)), [], []
    with np.errstate(all="ignore"):
        for t, idx in enumerate(sd.batches(len(X), S, batch_size, steps, seed)):
            xb, yb = X[idx], y[idx]
            losses[t], dlogits = sd.cross_entropy(model.forward(xb), yb)
            model.backward(dlogits)
            if t == 0 or (t + 1) % record_every == 0:
                dW = [m.grads["W"].reshape(S, -1) for m in linear]
                W = [m.params["W"].reshape(S, -1) for m in linear]
                probe = (_probe_seeds(model, xb, yb, step_sizes) if len(step_sizes) else
                         (np.zeros((S, 0)), np.zeros((S, 0)), np.full(S, np.nan),
                          np.full(S, np.nan)))
                wn = np.stack([np.linalg.norm(w, axis=1) for w in W], 1)
                rows.append((np.stack([d.std(axis=1) for d in dW], 1),
                             np.stack([w.std(axis=1) for w in W], 1), wn,
                             lrs[:, None] * np.stack([np.linalg.norm(d, axis=1) for d in dW], 1)
                             / wn,
                             *probe))
                at.append(t + 1)
            for layer, name, value in sd.parameters(model):
                value -= lrs.reshape(S, *[1] * (value.ndim - 1)) * layer.grads[name]
    fields = {name: np.array(col) for name, col in zip(_FIELDS, zip(*rows, strict=True),
                                                       strict=True)}
    return SeedDiagnostics(losses, np.array(at), step_sizes, fields)
