"""Exercises of lesson 4 (04_batch_norm_backward): batch norm's backward pass, and checking it.

The learner derives dX, dγ and dβ of lesson 3's training-mode forward pass (no formula
given before the exercise; the hint tiers offer the node-by-node path, then near-code),
writes the compact form of the derivation (``batchnorm_backward_alt``, timed against the
staged form in the lesson), then checks the gradient against centred finite differences and
measures which step size h is best on problems where the textbook h = 1e-5 is not
(:mod:`helpers.exercises.l04_steps`). Cases and judges of the backward passes:
:mod:`helpers.exercises.l04_backward`. A prediction and a written interpretation are
recorded, 0 points (:mod:`helpers.exercises.predict`, :mod:`helpers.exercises.written`).
"""

from __future__ import annotations

import helpers.exercises.l04_backward as backward
import helpers.exercises.l04_steps as steps
from helpers.exercises.predict import prediction
from helpers.exercises.spec import Exercise
from helpers.exercises.written import written

#: course functions that compute a backward pass (or its finite-difference stand-in)
BACKWARD_SHORTCUTS = ("core.nn:BatchNorm", "core.batched:Norm",
                      "core.gradcheck:numerical_gradient", "core.gradcheck:gradient_check",
                      "core.data:torch_reference")
NUMERICAL = ("core.gradcheck:numerical_gradient", "core.gradcheck:gradient_check")

EXERCISES = [
    Exercise(
        id="ex4_bn_backward",
        function="batchnorm_backward",
        title="Exercise 1 (5 points, derive): batch norm's backward pass",
        points=5,
        cases=backward.backward_cases,
        judge=backward.backward_judge,
        shortcuts=BACKWARD_SHORTCUTS,
        hint=("Follow the forward pass backwards, one operation at a time, from out to X. Two "
              "things need care: a value of one number per feature (γ, β, μ, σ², σ) is used by "
              "every example of the batch, and X reaches the output along more than one path.",
              "Node by node: out = γ·x̂ + β gives dx̂ = dout·γ, dγ = Σ_i dout·x̂, dβ = Σ_i dout; "
              "x̂ = xc/σ gives dxc = dx̂/σ and dσ = −Σ_i dx̂·xc/σ²; σ = √(σ² + ε) gives "
              "dσ² = dσ/(2σ); σ² = mean xc² adds 2·xc·dσ²/N to dxc; xc = x − μ gives "
              "dX = dxc and dμ = −Σ_i dxc; μ = mean x adds dμ/N to dX. Where a value "
              "feeds two nodes, add the two gradients.",
              "xc, std = X - mean, np.sqrt(var + eps); dx_hat = dout * gamma; "
              "dstd = -(dx_hat * xc).sum(axis=0) / std**2; dvar = dstd / (2 * std); "
              "dxc = dx_hat / std + 2 * xc * dvar / len(X); "
              "dX = dxc - dxc.sum(axis=0) / len(X); "
              "return dX, (dout * x_hat).sum(axis=0), dout.sum(axis=0)"),
    ),
    Exercise(
        id="ex4_bn_backward_alt",
        function="batchnorm_backward_alt",
        title="Exercise 2 (3 points, implement from your derivation): the compact form",
        points=3,
        cases=backward.backward_cases,
        judge=backward.backward_judge,
        shortcuts=BACKWARD_SHORTCUTS,
        not_calling=("batchnorm_backward",),  # the staged form of Exercise 1
        hint=("Write each path's contribution to dX with xc = σ·x̂ and dx̂ = dout·γ, and use "
              "Σ_i xc_i = 0: the path from σ² back through μ contributes nothing.",
              "Through x̂: dx̂/σ. Through σ²: −x̂·mean_i(dx̂·x̂)/σ. Through μ: −mean_i(dx̂)/σ "
              "(means over the batch, per feature).",
              "dx_hat = dout * gamma; dX = (dx_hat - dx_hat.mean(axis=0) - x_hat * "
              "(dx_hat * x_hat).mean(axis=0)) / np.sqrt(var + eps)"),
    ),
    Exercise(
        id="ex4_centered_difference",
        function="centered_difference",
        title="Exercise 3 (2 points, implement): finite differences",
        points=2,
        cases=steps.difference_cases,
        judge=steps.difference_judge,
        precision="float64's round-off is what the step-size experiment measures",
        shortcuts=NUMERICAL + ("core.nn:BatchNorm", "core.batched:Norm"),
        hint=("Nudge one entry of X up by h and down by h, recompute the whole loss (batch "
              "statistics included) each time, and see how much it moved.",
              "For each entry (i, j): (L(X + h·e_ij) − L(X − h·e_ij)) / (2h), where e_ij is 1 at "
              "(i, j) and 0 elsewhere, and L(X) = Σ G·x̂ with x̂ = (X − mean)/√(var + ε).",
              "for i in np.ndindex(X.shape): Xp = X.copy(); Xp[i] += h; Xm = X.copy(); "
              "Xm[i] -= h; grad[i] = (loss(Xp) - loss(Xm)) / (2 * h)"),
    ),
    prediction(
        id="ex4_predict_step",
        function="predict_step",
        title="Exercise 4 (0 points, predict): the best step on features of size 0.001",
        options={
            "a": "h = 1e-5, as on standard-normal data: a good step does not depend on the data",
            "b": "a smaller h than on standard-normal data",
            "c": "a larger h than on standard-normal data",
            "d": "the smallest h float64 allows: the error shrinks with h all the way down"},
        observed="ada45a5b80ea282ff25bdddb3552b4ce54ff7aa0d38e7a3e06192c5df260e459",
    ),
    Exercise(
        id="ex4_step_sizes",
        function="step_size_experiment",
        title="Exercise 5 (3 points, experiment): which step size h?",
        points=3,
        cases=steps.step_cases,
        judge=steps.step_judge,
        precision="float64's round-off is what this experiment measures",
        shortcuts=NUMERICAL + ("core.nn:BatchNorm", "core.batched:Norm"),
        hint=("Choose step sizes over many decades (from about 1e-11 to 1e-1, say); at each, "
              "compare your centred difference with your analytic dX and keep the relative "
              "error. Do not assume which h wins: measure.",
              "error(h) = max|a − n| / max(|a| + |n|), a = your batchnorm_backward's dX with "
              "γ = 1 and the cache of X, n = your centred difference at step h; the best h is "
              "the one with the smallest error.",
              "mean, var = X.mean(axis=0), X.var(axis=0); x_hat = (X - mean) / np.sqrt(var + "
              "eps); cache = (X, x_hat, mean, var, np.ones(X.shape[1]), eps) (built here: the "
              "course's batchnorm_forward is refused); a = batchnorm_backward(G, cache)[0]; "
              "hs = [10.0**k for k in range(-11, 0)]; errors = [rel(a, centered_difference(X, "
              "G, h, eps)) for h in hs]; k = int(np.argmin(errors)); return {'hs': hs, "
              "'errors': errors, 'best_h': hs[k], 'best_error': errors[k]}"),
    ),
    written(
        id="ex4_interpret",
        function="interpret_step_sizes",
        title="Exercise 6 (0 points, written): why is there a best step?",
        hint="Return your answer as a string in quotes (a few sentences, at least 15 words): "
             "why does the error grow on both sides of the best h, and why does the best h "
             "move with the scale of the features?"),
]
