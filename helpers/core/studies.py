"""Lessons 3 and 6's networks and measurements, every one over many seeds at once (:mod:`.batched`
layers, :mod:`.seeds` training).

- :func:`convnet`: a tiny conv net for :func:`helpers.core.data.bars` images, with batch
  norm per channel (statistics over N, H, W), per pixel (over N only), or none;
- :func:`ln_stack` and :func:`block_grad_norms`: a deep residual stack with layer norm
  before (pre-LN) or after (post-LN) each residual sum, and the gradient norm of each
  block's weights at initialization (Xiong et al., 2020);
- :func:`bn_resnet`: residual blocks with batch norm, the last γ of each branch 1 or 0
  (Goyal et al., 2017);
- :func:`dropout_net` and :func:`variance_shift`: dropout before batch norm, and the
  ratio of the variance a batch norm meets in evaluation mode to the running variance
  it learned in training (Li et al., 2019);
- :func:`fine_tune`: further training on new data with the batch-norm statistics frozen
  (evaluation mode) or updated (training mode);
- lesson 3's sweeps: :func:`mlp` (lesson 3's network for S seeds) and :func:`sweep`
  (learning rates, initial scales, batch sizes: one seed axis, one computation).
"""

from __future__ import annotations

import copy

import numpy as np

from helpers.core import batched as bt
from helpers.core import seeds as sd

#: per-channel and per-pixel batch norm of (S, N, C, H, W) feature maps
CONV_NORM_AXES = {"channel": (1, 3, 4), "pixel": (1,)}


def convnet(S, seed, norm="channel", channels=6, n_classes=4):
    """Conv(1 → channels, 3×3) → [batch norm] → ReLU → global average → Linear, for S seeds.

    ``norm``: "channel" (PyTorch's BatchNorm2d), "pixel" (statistics per (c, h, w) over the
    batch only) or None. γ and β are one per channel in both cases.
    """
    rng = np.random.default_rng(seed)
    layers = [bt.Conv2d(S, 1, channels, rng, first=True)]
    if norm is not None:
        layers.append(bt.Norm(S, (channels, 1, 1), axes=CONV_NORM_AXES[norm]))
    return bt.Sequential(*layers, bt.ReLU(), bt.GlobalAvgPool(),
                         bt.Linear(S, channels, n_classes, rng))


# --------------------------------------------------------------------------- pre-LN, post-LN


def ln_stack(S, depth, seed, placement="pre", width=32, n_in=2, n_classes=3):
    """Linear(n_in → width), ``depth`` residual blocks, Linear(width → n_classes).

    A block's branch is Linear(width → 2·width) → ReLU → Linear(2·width → width).
    "post": x ← LN(x + branch(x)) (the original Transformer); "pre": x ← x + branch(LN(x)),
    and one more LN after the last block (GPT-2 and most models since). LN has γ = 1, β = 0.
    """
    rng = np.random.default_rng(seed)
    blocks = []
    for _ in range(depth):
        branch = [bt.Linear(S, width, 2 * width, rng), bt.ReLU(),
                  bt.Linear(S, 2 * width, width, rng)]
        if placement == "pre":
            blocks.append(bt.Residual(bt.Norm(S, (width,), axes=(-1,)), *branch))
        elif placement == "post":
            blocks.append(bt.Residual(*branch, post=bt.Norm(S, (width,), axes=(-1,))))
        else:
            raise ValueError(f"placement must be 'pre' or 'post', not {placement!r}")
    final = [bt.Norm(S, (width,), axes=(-1,))] if placement == "pre" else []
    return bt.Sequential(bt.Linear(S, n_in, width, rng), *blocks, *final,
                         bt.Linear(S, width, n_classes, rng))


def block_grad_norms(model, X, y, batch_size=64, seed=0):
    """One minibatch per seed, one backward pass: ‖dL/dW‖ (Frobenius) of the last Linear
    layer of each residual block -> (n_blocks, S)."""
    S = model.layers[0].params["W"].shape[0]
    idx = np.random.default_rng(seed).integers(0, len(X), size=(S, batch_size))
    _, dlogits = sd.cross_entropy(model.forward(X[idx]), y[idx])
    model.backward(dlogits)
    blocks = [b for b in model.layers if isinstance(b, bt.Residual)]
    return np.array([np.linalg.norm(b.layers[-1].grads["W"], axis=(1, 2)) for b in blocks])


def norm_scales(model):
    """After a forward pass of an :func:`ln_stack`: what each block's layer norm divided by,
    the standard deviation of its input (median over the examples) -> (n_blocks, S).
    Pre-LN: the residual stream entering the block; post-LN: x + branch(x)."""
    blocks = [b for b in model.layers if isinstance(b, bt.Residual)]
    norms = [b.post if b.post is not None else b.layers[0] for b in blocks]
    return np.array([np.median(n.std.reshape(n.std.shape[0], -1), axis=1) for n in norms])


# --------------------------------------------------------------------------- zero-initialised γ


def bn_resnet(S, depth, seed, zero_gamma=False, width=16, n_in=2, n_classes=3):
    """Linear → BN → ReLU, then ``depth`` blocks x + BN(W₂ ReLU(BN(W₁ x))), then Linear.

    ``zero_gamma``: the γ of each branch's last batch norm starts at 0 instead of 1, so
    every block starts as the identity (Goyal et al., 2017).
    """
    rng = np.random.default_rng(seed)

    def bn(gamma=1.0):
        return bt.Norm(S, (width,), axes=(1,), gamma=gamma)

    blocks = [bt.Residual(bt.Linear(S, width, width, rng, bias=False), bn(), bt.ReLU(),
                          bt.Linear(S, width, width, rng, bias=False),
                          bn(0.0 if zero_gamma else 1.0)) for _ in range(depth)]
    return bt.Sequential(bt.Linear(S, n_in, width, rng, bias=False), bn(), bt.ReLU(), *blocks,
                         bt.Linear(S, width, n_classes, rng))


# --------------------------------------------------------------------------- dropout before BN


def dropout_net(S, p, seed, width=32, n_in=2, n_classes=3):
    """Linear → ReLU → Dropout(p) → Linear → BN → ReLU → Linear: dropout feeds a batch norm."""
    rng = np.random.default_rng(seed)
    return bt.Sequential(bt.Linear(S, n_in, width, rng), bt.ReLU(), bt.Dropout(p, rng),
                         bt.Linear(S, width, width, rng, bias=False),
                         bt.Norm(S, (width,), axes=(1,)), bt.ReLU(),
                         bt.Linear(S, width, n_classes, rng))


def batch_norms(model):
    """The model's batch norms (the :class:`~.batched.Norm` layers with running statistics)."""
    return [m for m in model.modules() if isinstance(m, bt.Norm) and m.tracks]


def variance_shift(model, X, batch_size=50):
    """For each unit of the first batch norm: the variance of its input in evaluation mode
    (dropout off) divided by its running variance from training mode (dropout on), both
    estimated with one pass over X -> (S, units). The model's statistics are left as they
    were."""
    probe = copy.deepcopy(model)
    norm = batch_norms(probe)[0]
    S = norm.params["gamma"].shape[0]
    norm.reset()
    momentum, norm.momentum = norm.momentum, None
    probe.set_training(True)
    with np.errstate(all="ignore"):
        for start in range(0, len(X) - batch_size + 1, batch_size):
            probe.forward(np.broadcast_to(X[start:start + batch_size], (S, batch_size, *X.shape[1:])))
    trained = norm.running_var.reshape(S, -1)
    sd.recalibrate(probe, X, batch_size)
    norm.momentum = momentum
    return norm.running_var.reshape(S, -1) / trained


# --------------------------------------------------------------------------- fine-tuning


def fine_tune(model, X, y, *, statistics, lr, steps, batch_size, seed=0):
    """A trained copy of ``model``, trained further on (X, y).

    statistics="frozen": every batch norm stays in evaluation mode (running statistics used
    and kept; γ and β still learn); "updated": training mode, batch statistics, running
    statistics updated as in training.
    """
    if statistics not in ("frozen", "updated"):
        raise ValueError(f"statistics must be 'frozen' or 'updated', not {statistics!r}")
    tuned = copy.deepcopy(model).set_training(True)
    if statistics == "frozen":
        for norm in batch_norms(tuned):
            norm.training = False
    sd.train(tuned, X, y, lr=lr, steps=steps, batch_size=batch_size, seed=seed)
    return tuned.set_training(True) if statistics == "updated" else tuned


# --------------------------------------------------------------------------- lesson 3's sweeps


def mlp(S, sizes, seed, *, batchnorm=False, init_scale=1.0, dtype=np.float32):
    """:func:`helpers.core.nn.mlp` for S seeds at once (lesson 3's sweeps): each hidden
    layer is Linear → [batch norm] → ReLU (no bias before a batch norm), then a Linear
    output layer. ``init_scale`` multiplies every initial weight: a number, or one per
    seed (S,). Parameters in ``dtype`` (float32: half the memory traffic of a sweep).
    """
    rng = np.random.default_rng(seed)
    scale = np.reshape(np.asarray(init_scale, dtype=float), (-1, 1, 1))
    layers = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers.append(bt.Linear(S, n_in, n_out, rng, bias=not batchnorm, scale=scale))
        layers += [bt.Norm(S, (n_out,), axes=(1,)), bt.ReLU()] if batchnorm else [bt.ReLU()]
    model = bt.Sequential(*layers, bt.Linear(S, sizes[-2], sizes[-1], rng, scale=scale))
    for layer, name, value in list(sd.parameters(model)):
        layer.params[name] = value.astype(dtype)
    return model


#: a run diverged once a batch loss is not finite or exceeds this multiple of its first
#: one (as :data:`helpers.core.training.BATCH_DIVERGENCE_FACTOR`)
DIVERGENCE_FACTOR = 1e3


def sweep(model, X, y, X_test, y_test, *, lr, steps, batch_size, seed=0):
    """Train every seed's model at once (``lr``: a number or one per seed, (S,)) ->
    (test accuracy (S,) in evaluation mode, NaN for the runs that diverged; diverged (S,)).
    """
    S, dtype = next(sd.parameters(model))[2].shape[0], next(sd.parameters(model))[2].dtype
    X, X_test = np.asarray(X, dtype), np.asarray(X_test, dtype)
    lr = np.broadcast_to(np.asarray(lr, dtype=dtype), (S,))
    losses = np.zeros((steps, S))
    with np.errstate(all="ignore"):
        for t, idx in enumerate(sd.batches(len(X), S, batch_size, steps, seed)):
            losses[t], dlogits = sd.cross_entropy(model.forward(X[idx]), y[idx])
            model.backward(dlogits)
            for layer, name, value in sd.parameters(model):
                value -= lr.reshape(S, *[1] * (value.ndim - 1)) * layer.grads[name]
    diverged = ~(np.isfinite(losses) & (losses <= DIVERGENCE_FACTOR * losses[0])).all(axis=0)
    accuracy = np.where(diverged, np.nan, sd.accuracy(model, X_test, y_test))
    return accuracy, diverged
