"""Exercises of lesson 6 (06_modern_normalization): normalization in modern networks.

One ``normalize(X, axes)``, batch norm for conv feature maps and group norm (cases and
judges in :mod:`helpers.exercises.l06_norms`), the axes of batch, layer, instance and
group norm (:mod:`helpers.exercises.l06_axes`), RMSNorm forward and backward
(:mod:`helpers.exercises.l06_rms`), the batch-coupling experiment the learner designs
(:mod:`helpers.exercises.l06_coupling`), and three predictions (0 points, recorded as
made: :mod:`helpers.exercises.predict`). Every function exercise has three hint tiers:
a nudge (no formula), the formula (no code), near-code.
"""

from __future__ import annotations

import helpers.exercises.l06_axes as axes
import helpers.exercises.l06_coupling as coupling
import helpers.exercises.l06_norms as norms
import helpers.exercises.l06_rms as rms
from helpers.exercises.predict import prediction
from helpers.exercises.spec import Exercise
from helpers.exercises.written import written

#: course functions that compute these answers (``Exercise.shortcuts``): the layers that
#: normalize over any axes (lesson 6's batched ``Norm``, lessons 3-5's ``BatchNorm`` and
#: ``LayerNorm`` on a reshaped block), PyTorch's stored numbers, the finite-difference tools
NORM_LAYERS = ("core.batched:Norm", "core.nn:BatchNorm", "core.nn:LayerNorm")
TORCH = ("core.data:torch_reference",)
NUMERICAL = ("core.gradcheck:numerical_gradient", "core.gradcheck:gradient_check")

EXERCISES = [
    Exercise(
        id="ex6_normalize",
        function="normalize",
        title="Exercise 1 (2 points, implement from your derivation): one normalization, any axes",
        points=2,
        cases=norms.normalize_cases,
        judge=norms.normalize_judge,
        shortcuts=NORM_LAYERS + TORCH,
        hint=("Lesson 2's z-score, with the axes it averages over given as an argument. numpy's "
              "mean and var accept a tuple of axes, and can keep the reduced axes with size 1 "
              "so that the result broadcasts against X.",
              "the mean and the biased variance over all the given axes at once, the reduced "
              "axes kept with size 1; then (X − mean) / √(var + eps).",
              "mean = X.mean(axis=axes, keepdims=True); var = X.var(axis=axes, keepdims=True); "
              "return (X - mean) / np.sqrt(var + eps)"),
    ),
    Exercise(
        id="ex6_axes",
        function="family_axes",
        title="Exercise 2 (2 points, derive): the axes of batch, layer, instance and group norm",
        points=2,
        cases=axes.axes_cases,
        judge=axes.axes_judge,
        hint=("For each layer ask which values share one mean and one variance. Batch norm "
              "(lesson 3) shares them over the examples of one unit, and a conv layer's unit is "
              "a channel, the same filter at every position. Layer norm (lesson 5) uses "
              "everything one example holds.",
              "batch: every axis but the channel's; layer: every axis but the example's; "
              "instance: the positions only; group, on (N, G, C/G, H, W): the channels of one "
              "group and the positions.",
              'return {"batch": (0, 2, 3), "layer": (1, 2, 3), "instance": (2, 3), '
              '"group": (2, 3, 4)}'),
    ),
    Exercise(
        id="ex6_bn2d",
        function="batchnorm2d_forward",
        title="Exercise 3 (2 points, implement from your derivation): batch norm for conv "
              "feature maps",
        points=2,
        cases=norms.bn2d_cases,
        judge=norms.bn2d_judge,
        shortcuts=NORM_LAYERS + TORCH,
        hint=("Your normalize with batch norm's axes from exercise 2, then one γ and one β per "
              "channel. Careful: an array of shape (C,) broadcasts against the *last* axis.",
              "mean and var: one per channel over the axes (0, 2, 3), shape (C,); x_hat: your "
              "normalize over the same axes with the same eps; out = γ·x_hat + β with γ and β "
              "reshaped to (1, C, 1, 1).",
              "mean, var = X.mean(axis=(0, 2, 3)), X.var(axis=(0, 2, 3)); x_hat = normalize(X, "
              "(0, 2, 3), eps); g, b = gamma.reshape(1, -1, 1, 1), beta.reshape(1, -1, 1, 1); "
              "return g * x_hat + b, (X, x_hat, mean, var, gamma, eps)"),
    ),
    Exercise(
        id="ex6_groupnorm",
        function="groupnorm_forward",
        title="Exercise 4 (2 points, implement from your derivation): group norm",
        points=2,
        cases=norms.gn_cases,
        judge=norms.gn_judge,
        shortcuts=NORM_LAYERS + TORCH,
        hint=("Give the groups an axis of their own with a reshape, normalize with group "
              "norm's axes from exercise 2, reshape back, then γ and β per channel.",
              "reshape X to (N, G, C/G, H, W), normalize over the axes (2, 3, 4), reshape back "
              "to (N, C, H, W), then out = γ·x_hat + β with γ and β as (1, C, 1, 1).",
              "N, C, H, W = X.shape; x_hat = normalize(X.reshape(N, G, C // G, H, W), (2, 3, 4), "
              "eps).reshape(X.shape); return gamma.reshape(1, -1, 1, 1) * x_hat + "
              "beta.reshape(1, -1, 1, 1)"),
    ),
    Exercise(
        id="ex6_rms_forward",
        function="rmsnorm_forward",
        title="Exercise 5 (1 point, implement from your derivation): RMSNorm",
        points=1,
        cases=rms.forward_cases,
        judge=rms.forward_judge,
        shortcuts=TORCH,
        hint=("Start from layer norm over the last axis and leave out the centering: what is "
              "left of 'the variance' when no mean is subtracted? There is no β.",
              "rms = √(mean of X² over the last axis + eps), the reduced axis kept with size 1 "
              "so that it divides each example; x_hat = X / rms; out = γ·x_hat; cache = "
              "(X, x_hat, rms, gamma).",
              "rms = np.sqrt((X ** 2).mean(axis=-1, keepdims=True) + eps); x_hat = X / rms; "
              "return gamma * x_hat, (X, x_hat, rms, gamma)"),
    ),
    Exercise(
        id="ex6_rms_backward",
        function="rmsnorm_backward",
        title="Exercise 6 (3 points, derive): RMSNorm's backward pass",
        points=3,
        cases=rms.backward_cases,
        judge=rms.backward_judge,
        shortcuts=NUMERICAL + TORCH,
        hint=("Lesson 3's derivation with one statistic instead of two: x_hat = X / rms, and "
              "rms depends on every feature of its example. Differentiate rms with respect to "
              "one feature x_j, then add the two ways x_j reaches the loss.",
              "∂rms/∂x_j = x_j / (D·rms). With dx_hat = dout·γ: dX = (dx_hat − x_hat · "
              "mean(dx_hat·x_hat)) / rms, the mean over the last axis; dγ = the sum of "
              "dout·x_hat over every axis but the last.",
              "dx_hat = dout * gamma; dX = (dx_hat - x_hat * (dx_hat * x_hat).mean(axis=-1, "
              "keepdims=True)) / rms; dgamma = (dout * x_hat).reshape(-1, X.shape[-1])"
              ".sum(axis=0)"),
    ),
    prediction(
        id="ex6_predict_depth",
        function="predict_depth",
        title="Exercise 7 (0 points, predict): gradients through a deep residual stack",
        options={"a": "post-LN: larger toward the output; pre-LN: about the same in every block",
                 "b": "post-LN: about the same in every block; pre-LN: smaller toward the output",
                 "c": "post-LN: larger toward the output; pre-LN: smaller toward the output",
                 "d": "both about the same in every block: the residual path carries the "
                      "gradient undiminished"},
        observed="1e6cdf753fee1d629b59321989f948ec410c7ab2a5179c8d95b516dbfaf965a1",
    ),
    prediction(
        id="ex6_predict_zero_gamma",
        function="predict_zero_gamma",
        title="Exercise 8 (0 points, predict): residual blocks that start as the identity",
        options={"a": "lower: every block starts as the identity, so the network starts shallow "
                      "and trains faster",
                 "b": "about the same: γ moves away from 0 within a few steps",
                 "c": "higher: with γ = 0 the branches get no gradient at first",
                 "d": "it never trains: with γ = 0 the branches' weights get zero gradient "
                      "forever"},
        observed="377188f6360fc06bf69fe761e9a109a9d512e928e723e5d5646983aca2a6f96d",
    ),
    Exercise(
        id="ex6_coupling",
        function="coupling_experiment",
        title="Exercise 9 (3 points, experiment): how much do batch-mates move one example?",
        points=3,
        cases=coupling.coupling_cases,
        judge=coupling.coupling_judge,
        shortcuts=NORM_LAYERS,
        hint=("Keep example i fixed and draw its batch-mates again and again; each time run batch "
              "norm on the batch and keep example i's output. How much do those outputs vary? "
              "Repeat for every batch size you chose.",
              "For each B: n_draws times, draw B − 1 different rows among the other rows "
              "(without replacement), put pool[i] first, normalize the batch over its examples "
              "(axis 0) and keep the first row. spread = the standard deviation over the draws, "
              "then the mean over the features.",
              "rng = np.random.default_rng(seed); others = np.delete(np.arange(len(pool)), i)\n"
              "for B in batch_sizes:\n    outs = [normalize(np.vstack([pool[i], pool[rng.choice("
              "others, B - 1, replace=False)]]), (0,))[0] for _ in range(n_draws)]\n"
              "    spread.append(float(np.std(outs, axis=0).mean()))"),
    ),
    written(
        id="ex6_interpret_coupling",
        function="interpret_coupling",
        title="Exercise 10 (0 points, written): what the coupling means",
    ),
    prediction(
        id="ex6_predict_dropout",
        function="predict_dropout",
        title="Exercise 11 (0 points, predict): dropout before batch norm",
        options={"a": "about the same: inverted dropout keeps the mean of every value",
                 "b": "smaller",
                 "c": "larger",
                 "d": "zero: without dropout nothing varies"},
        observed="9edbf2efde016409dacbc19181152d1595428448ff1e6aa879fbcacb5ba87e9c",
    ),
]
