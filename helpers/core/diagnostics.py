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
