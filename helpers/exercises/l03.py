"""Exercises of lesson 3 (03_batch_norm): batch normalization of hidden layers.

Convention (PyTorch's ``BatchNorm1d``): training mode normalizes each feature
(column) with the batch mean and the *biased* batch variance, ε inside the
square root; running = (1 − momentum)·running + momentum·batch with momentum
0.1 and the *unbiased* batch variance for running_var.

The forward pass: :mod:`helpers.exercises.l03_training`; the backward pass is lesson 4's
(:mod:`helpers.exercises.l04`). Running statistics,
evaluation mode and the batch-size experiment: :mod:`helpers.exercises.l03_modes`.
Every exercise has three hint tiers (a nudge, the formula, near-code); the three
predictions are recorded, 0 points (:mod:`helpers.exercises.predict`), and so is the
written interpretation of the experiment (:mod:`helpers.exercises.written`).
"""

from __future__ import annotations

import helpers.exercises.l03_modes as modes
from helpers.exercises.l03_training import CACHE_NAMES, forward_cases, forward_judge
from helpers.exercises.predict import prediction
from helpers.exercises.spec import Exercise
from helpers.exercises.written import written

#: the course's layers that compute batch norm in training or evaluation mode
BN_LAYERS = ("core.nn:BatchNorm", "core.batched:Norm")


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
                 'a': "the statistics of 2 examples are very noisy, and a unit's output depends on its "
                      "batch partner; the running statistics at test time do not match training",
                 'b': "dividing by the standard deviation of 2 examples makes the gradients below "
                      "batch norm so large that lr = 0.1 is too large",
                 'c': "x̂ is the same ±1 pattern in every unit, so γ's gradient nearly cancels "
                      "and γ cannot learn each unit's scale",
                 'd': "2 examples are too few to compute a variance from, so the layer's output "
                      "carries no information in training and at test time"},
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
