"""Exercises of lesson 3 (03_batch_norm): batch normalization of hidden layers.

Convention (PyTorch's ``BatchNorm1d``): training mode normalizes each feature
(column) with the batch mean and the *biased* batch variance, ε inside the
square root; running = (1 − momentum)·running + momentum·batch with momentum
0.1 and the *unbiased* batch variance for running_var.

The backward pass is derived node by node through the forward graph
X → mean → xc = X − mean → var → std → x_hat → out (:mod:`helpers.exercises.l03_nodes`),
assembled (staged), then simplified to the compact form ``batchnorm_backward``
(:mod:`helpers.exercises.l03_training`, with the forward pass). Running statistics,
evaluation mode and the batch-size experiment: :mod:`helpers.exercises.l03_modes`.
Every exercise has three hint tiers (a nudge, the formula, near-code); the three
predictions are recorded, 0 points (:mod:`helpers.exercises.predict`), and so is the
written interpretation of the experiment (:mod:`helpers.exercises.written`).
"""

from __future__ import annotations

import helpers.exercises.l03_modes as modes
import helpers.exercises.l03_nodes as nodes
from helpers.exercises.l03_training import (
    CACHE_NAMES,
    backward_cases,
    backward_judge,
    forward_cases,
    forward_judge,
)
from helpers.exercises.predict import prediction
from helpers.exercises.spec import Exercise
from helpers.exercises.written import written

#: course functions that compute a backward pass (or its finite-difference stand-in)
BACKWARD_SHORTCUTS = ("core.nn:BatchNorm", "core.batched:Norm",
                      "core.gradcheck:numerical_gradient", "core.gradcheck:gradient_check",
                      "core.data:torch_reference")
#: the course's layers that compute batch norm in training or evaluation mode
BN_LAYERS = ("core.nn:BatchNorm", "core.batched:Norm")


def _node(id, function, number, node, cases, judge, hint):
    return Exercise(id=id, function=function, cases=cases, judge=judge, points=1, hint=hint,
                    title=f"Exercise {number} (1 point): backward through the node {node}",
                    shortcuts=("core.gradcheck:numerical_gradient",
                               "core.gradcheck:gradient_check"))


EXERCISES = [
    Exercise(
        id="ex3_bn_forward",
        function="batchnorm_forward",
        title="Exercise 1 (2 points, implement from your derivation): the forward pass",
        points=2,
        cases=forward_cases,
        judge=forward_judge,
        shortcuts=(*BN_LAYERS, "core.nn:mlp", "core.data:torch_reference"),
        hint=("Start from lesson 2's z-score: here the features are the units (columns) and "
              "the examples are the batch (rows). Which axis do you average over, which "
              "variance does the convention use, and what do γ and β do afterwards?",
              "Per column: mean, biased variance (divide by N), x_hat = (X − mean) / "
              "√(var + ε), out = γ·x_hat + β.",
              "mean = X.mean(axis=0); var = X.var(axis=0); x_hat = (X - mean) / "
              f"np.sqrt(var + eps); return gamma * x_hat + beta, {CACHE_NAMES}"),
    ),
    prediction(
        id="ex3_predict_gamma",
        function="predict_gamma_beta",
        title="Exercise 2 (0 points, predict): which γ and β give back the input?",
        options={
                 'a': 'γ = 1, β = 0 (the values batch norm starts with)',
                 'b': 'γ = √(σ² + ε), β = μ',
                 'c': 'γ = 1 / √(σ² + ε), β = −μ / √(σ² + ε)',
                 'd': 'none: once a unit is standardized, its mean and scale are lost'},
        observed="9e9efe1e6a269ad81c446a5046c82f089b8f4699bf767e77a6c9dbb284a864be",
    ),
    _node("ex3_node_out", "scale_shift_backward", 3, "out = γ·x_hat + β",
          nodes.scale_shift_cases, nodes.scale_shift_judge,
          ("Treat each entry as a scalar product and sum: a parameter of one unit (γ_j, "
           "β_j) is used by every example of the batch.",
           "dx_hat = dout·γ; dγ_j = Σ_i dout_ij·x_hat_ij; dβ_j = Σ_i dout_ij.",
           "return dout * gamma, (dout * x_hat).sum(axis=0), dout.sum(axis=0)")),
    _node("ex3_node_xhat", "divide_backward", 4, "x_hat = xc / std",
          nodes.divide_cases, nodes.divide_judge,
          ("Scalar case first: for q = a/s, what are ∂q/∂a and ∂q/∂s? Then remember that "
           "one std serves the whole column.",
           "∂(a/s)/∂a = 1/s and ∂(a/s)/∂s = −a/s²; so dxc = dx_hat/std and "
           "dstd_j = −Σ_i dx_hat_ij·xc_ij / std_j².",
           "return dx_hat / std, -(dx_hat * xc).sum(axis=0) / std**2")),
    _node("ex3_node_std", "sqrt_backward", 5, "std = √(var + ε)",
          nodes.sqrt_cases, nodes.sqrt_judge,
          ("One number per unit, no sum needed: what is the derivative of √u, and what is u "
           "here?",
           "d√u/du = 1/(2√u) with u = var + ε: dvar = dstd / (2·√(var + ε)).",
           "return dstd / (2 * np.sqrt(var + eps))")),
    _node("ex3_node_var", "variance_backward", 6, "var = mean(xc²)",
          nodes.variance_cases, nodes.variance_judge,
          ("var_j = (1/N)·Σ_i xc_ij²: how much does var_j move when one xc_ij moves?",
           "∂var_j/∂xc_ij = 2·xc_ij / N, so dxc_ij = dvar_j · 2·xc_ij / N.",
           "return 2 * xc * dvar / len(xc)")),
    _node("ex3_node_center", "center_backward", 7, "xc = X − mean",
          nodes.center_cases, nodes.center_judge,
          ("A difference passes the gradient on with a sign: +1 for X, −1 for the mean. The "
           "mean of a unit is subtracted from every example.",
           "dX = dxc; dmean_j = −Σ_i dxc_ij.",
           "return dxc.copy(), -dxc.sum(axis=0)")),
    _node("ex3_node_mean", "mean_backward", 8, "mean = X.mean(axis=0)",
          nodes.mean_cases, nodes.mean_judge,
          ("mean_j = (1/n)·Σ_i X_ij: how much does mean_j move when one X_ij moves? Every "
           "example gets a share.",
           "∂mean_j/∂X_ij = 1/n, so dX_ij = dmean_j / n for every example i.",
           "return np.tile(dmean / n, (n, 1))  # or np.ones((n, 1)) * dmean / n")),
    Exercise(
        id="ex3_bn_backward_staged",
        function="batchnorm_backward_staged",
        title="Exercise 9 (3 points): the backward pass, assembled node by node",
        points=3,
        cases=backward_cases,
        judge=nodes.staged_judge,
        shortcuts=BACKWARD_SHORTCUTS,
        hint=("Call your six node functions from out back to X. Two values feed two nodes: "
              "xc (x_hat and var) and X (xc and mean).",
              "Where a value feeds two nodes, its gradient is the sum of the two: "
              "dxc = (dxc through x_hat) + (dxc through var), dX = (dX through xc) + "
              "(dX through mean).",
              "dx_hat, dgamma, dbeta = scale_shift_backward(dout, x_hat, gamma); "
              "dxc1, dstd = divide_backward(dx_hat, xc, std); dvar = sqrt_backward(dstd, var, "
              "eps); dX1, dmean = center_backward(dxc1 + variance_backward(dvar, xc)); "
              "return dX1 + mean_backward(dmean, len(X)), dgamma, dbeta"),
    ),
    Exercise(
        id="ex3_bn_backward",
        function="batchnorm_backward",
        title="Exercise 10 (4 points): the compact backward pass",
        points=4,
        cases=backward_cases,
        judge=backward_judge,
        shortcuts=BACKWARD_SHORTCUTS,
        hint=("Write each node's gradient with x_hat = xc/σ and dx_hat = dout·γ, and use "
              "Σ_i xc_i = 0: the path var → mean contributes nothing.",
              "Through x_hat: dx_hat/σ. Through var: −x_hat·mean_i(dx_hat·x_hat)/σ. Through "
              "the mean: −mean_i(dx_hat)/σ (means over the batch, per unit).",
              "dx_hat = dout * gamma; dX = (dx_hat - dx_hat.mean(axis=0) - x_hat * "
              "(dx_hat * x_hat).mean(axis=0)) / np.sqrt(var + eps)"),
    ),
    prediction(
        id="ex3_predict_mode",
        function="predict_eval_mode",
        title="Exercise 3 (0 points, predict): forgetting evaluation mode",
        options={
                 'a': 'nothing: batch norm computes the same thing in both modes',
                 'b': 'every input gets the same output, whatever it is',
                 'c': 'slightly noisier predictions than in evaluation mode, but mostly right',
                 'd': 'training mode reads the running statistics, so nothing changes'},
        observed="8cf296a06c800807468d09454f3324f0fd39a6083a5182d5eb21743ec90d2527",
    ),
    Exercise(
        id="ex3_running_stats",
        function="update_running_stats",
        title="Exercise 4 (2 points, derive): running statistics (PyTorch's convention)",
        points=2,
        cases=modes.running_cases,
        judge=modes.running_judge,
        shortcuts=BN_LAYERS,
        hint=("Each call moves each unit's estimate part of the way toward this batch's "
              "statistic: how far (which value gets the weight momentum), and which batch "
              "variance does PyTorch store, divided by N or by N − 1?",
              "new = (1 − momentum)·running + momentum·(batch statistic), with the batch mean "
              "and the unbiased batch variance (divide by N − 1).",
              "return ((1 - momentum) * running_mean + momentum * X.mean(axis=0), "
              "(1 - momentum) * running_var + momentum * X.var(axis=0, ddof=1))"),
    ),
    Exercise(
        id="ex3_bn_eval",
        function="batchnorm_eval",
        title="Exercise 5 (1 point, implement from your derivation): evaluation mode",
        points=1,
        cases=modes.eval_cases,
        judge=modes.eval_judge,
        shortcuts=(*BN_LAYERS, "core.training:predict_eval"),
        hint=("The training-mode formula, with fixed statistics in place of the batch's.",
              "out = γ·(X − running_mean)/√(running_var + ε) + β.",
              "return gamma * (X - running_mean) / np.sqrt(running_var + eps) + beta"),
    ),
    prediction(
        id="ex3_predict_batch",
        function="predict_batch_size",
        title="Exercise 6 (0 points, predict): batches of 2 examples",
        options={
                 'a': "the statistics of 2 examples are very noisy, and a unit's output depends on its batch partner",
                 'b': 'small batches make the learning rate too large for batch norm',
                 'c': 'with batches of 2 the gradient of γ is zero, so γ cannot learn',
                 'd': 'batch norm needs the whole data set in every batch'},
        observed="e2bdee9603a583dfc2fcb2f1dc0fd9ce0ba44b20974d40e7c3b3b304f4ab0950",
    ),
    Exercise(
        id="ex3_train_eval_gap",
        function="train_eval_gap",
        title="Exercise 7 (3 points, experiment): the train/eval gap by batch size",
        points=3,
        cases=modes.gap_cases,
        judge=modes.gap_judge,
        shortcuts=BN_LAYERS,
        hint=("Shuffle the row indices with your seed and cut them into batches of each size; "
              "normalize each batch with its own statistics, all of Z with Z's, and compare "
              "the two entry by entry.",
              "For batch size b: x_hat_train = (batch − its mean)/√(its biased var + ε) for "
              "each block of b shuffled rows; x_hat_eval = (Z − Z's mean)/√(Z's biased var + "
              "ε) for the same rows; gap = mean of |x_hat_train − x_hat_eval| over all "
              "entries. Sizes: 2, a few more that divide len(Z), and len(Z).",
              "order = np.random.default_rng(seed).permutation(len(Z)); S = Z[order]; "
              "B = S.reshape(-1, b, Z.shape[1]); train = (B - B.mean(axis=1, keepdims=True)) "
              "/ np.sqrt(B.var(axis=1, keepdims=True) + eps); then compare "
              "train.reshape(Z.shape) with the evaluation-mode x_hat of S"),
    ),
    written(
        id="ex3_interpret_gap",
        function="interpret_gap",
        title="Exercise 8 (0 points, written): what the gap means for training",
        min_words=15,
    ),
]
