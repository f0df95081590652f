"""Exercises of lesson 5 (05_norm_in_practice): normalization layers in practice.

Layer norm's forward and backward passes (PyTorch's ``nn.LayerNorm`` convention, cases
and judges in :mod:`helpers.exercises.l05_layernorm`, some compared with PyTorch's own
numbers), folding batch norm into the Linear layer before it and the scale-invariance
experiment (:mod:`helpers.exercises.l05_fold`), and three predictions (0 points, recorded:
:mod:`helpers.exercises.predict`). Every function exercise has three hint tiers (a nudge,
the formula, near-code).
"""

from __future__ import annotations

import helpers.exercises.l05_fold as fold
import helpers.exercises.l05_layernorm as ln
from helpers.exercises.predict import prediction
from helpers.exercises.spec import Exercise

EXERCISES = [
    Exercise(
        id="ex5_ln_forward",
        function="layernorm_forward",
        title="Exercise 1 (2 points): layer norm, forward pass",
        points=2,
        cases=ln.forward_cases,
        judge=ln.forward_judge,
        shortcuts=("core.nn:LayerNorm", "core.batched:Norm", "core.data:torch_reference"),
        hint=("Your batch-norm forward pass from lesson 3, with the roles of the axes "
              "swapped: which axis holds one example's features?",
              "Per row: mean and biased variance over the features (kept as columns of shape "
              "(N, 1)), x_hat = (X − mean) / √(var + ε), out = γ·x_hat + β.",
              "mean = X.mean(axis=1, keepdims=True); var = X.var(axis=1, keepdims=True); "
              "x_hat = (X - mean) / np.sqrt(var + eps); "
              f"return gamma * x_hat + beta, {ln.CACHE_NAMES}"),
    ),
    Exercise(
        id="ex5_ln_backward",
        function="layernorm_backward",
        title="Exercise 2 (4 points): layer norm, backward pass",
        points=4,
        cases=ln.backward_cases,
        judge=ln.backward_judge,
        shortcuts=("core.nn:LayerNorm", "core.batched:Norm", "core.gradcheck:numerical_gradient",
                   "core.gradcheck:gradient_check", "core.data:torch_reference"),
        hint=("Lesson 3's compact backward pass holds for any axis: the statistics of one "
              "example depend on all its features, so the two correction terms are means "
              "over the features. γ and β are still shared by every example.",
              "dx_hat = dout·γ; dX = (dx_hat − mean_j(dx_hat) − x_hat·mean_j(dx_hat·x_hat)) "
              "/ √(var + ε), means over the features j of each row; dγ = Σ_i dout·x_hat, "
              "dβ = Σ_i dout (sums over the examples).",
              "dx_hat = dout * gamma; dX = (dx_hat - dx_hat.mean(axis=1, keepdims=True) - "
              "x_hat * (dx_hat * x_hat).mean(axis=1, keepdims=True)) / np.sqrt(var + eps)"),
    ),
    prediction(
        id="ex5_predict_batch",
        function="predict_batch_norms",
        title="Exercise 3 (0 points, predict): which network do batches of 2 hurt most?",
        options={
                 'a': 'the one with batch norm: its statistics come from the 2 examples of the batch',
                 'b': "the one with layer norm: each example's statistics come from a single example",
                 'c': 'the one without normalization: nothing keeps its activations in range',
                 'd': 'all three about equally: small batches give noisy gradients to every network'},
        observed="69603e59d0f30741d5a17434c46eacdb67cc0d77f7a9730a2222476b384658e7",
    ),
    prediction(
        id="ex5_predict_bias",
        function="predict_bias_gradient",
        title="Exercise 4 (0 points, predict): the bias of a Linear layer before batch norm",
        options={
                 'a': 'zero for every unit, whatever the data and the loss',
                 'b': 'the same as it would be without the batch norm',
                 'c': "proportional to β, the batch norm's shift",
                 'd': 'not defined: the bias does not appear in the output'},
        observed="cad00c6c6d9fdc84ef842567694791a898fdadb0e7ff7c4251868ae50fdaae69",
    ),
    Exercise(
        id="ex5_fold",
        function="fold_batchnorm",
        title="Exercise 5 (3 points): fold batch norm into the Linear layer",
        points=3,
        cases=fold.fold_cases,
        judge=fold.fold_judge,
        shortcuts=("core.nn:fold_batchnorms", "core.nn:BatchNorm", "core.batched:Norm",
                   "core.data:torch_reference"),
        hint=("In evaluation mode batch norm is an affine map, a scale and a shift per unit; "
              "so is a Linear layer. Write evaluation-mode batch norm of the layer's output "
              "X·W + b out, and group the terms in X.",
              "scale = γ / √(running_var + ε) per output unit; W_folded = W·scale (each column "
              "j of W times scale_j); b_folded = (b − running_mean)·scale + β.",
              "scale = gamma / np.sqrt(running_var + eps); "
              "return W * scale, (b - running_mean) * scale + beta"),
    ),
    prediction(
        id="ex5_predict_scale",
        function="predict_scale",
        title="Exercise 6 (0 points, predict): weights ×10 before a normalization",
        options={"a": "10 times larger", "b": "unchanged", "c": "10 times smaller",
                 "d": "100 times smaller"},
        observed="9b864948f034eedd3d7e99a16862a0ce5cc15b65c51ad73b982436cc774a495b",
    ),
    Exercise(
        id="ex5_scale_invariance",
        function="scale_invariance",
        title="Exercise 7 (3 points, experiment): measure scale invariance",
        points=3,
        cases=fold.scale_cases,
        judge=fold.scale_judge,
        shortcuts=("core.nn:LayerNorm", "core.nn:Linear", "core.nn:Sequential",
                   "core.batched:Norm", "core.batched:Linear",
                   "core.gradcheck:numerical_gradient", "core.gradcheck:gradient_check"),
        hint=("Run your layer norm forward and backward twice, once with W and once with c·W, "
              "on the same X and dout, and compare.",
              "For each V of W and c·W: the layer's output and cache from your layer norm of "
              "X·V, its dZ from your backward pass (dout given), and the weights' gradient "
              "dV = Xᵀ·dZ. output_change = max |out₂ − out₁| over all entries, grad_ratio = "
              "‖dV₂‖ / ‖dV₁‖ with the Frobenius norm. Do not assume the theory's 0 and 1/c: "
              "when ε is not negligible, the measurement differs.",
              "outs, grads = [], []\nfor V in (W, c * W):\n    out, cache = "
              "layernorm_forward(X @ V, gamma, beta)\n    outs.append(out); grads.append(X.T @ "
              "layernorm_backward(dout, cache)[0])\nreturn float(np.abs(outs[1] - outs[0])."
              "max()), float(np.linalg.norm(grads[1]) / np.linalg.norm(grads[0]))"),
    ),
]
