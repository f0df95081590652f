"""Every exercise's reference answer passes its own judge on every seed (issue 18).

The course's answers (``helpers.answers``) and the same answers computed in float32 (from
float64 inputs: right to float32 precision, "computed in float32: fine here") are judged
in this process, straight through the exercise's judge, on fresh cases for each seed.
A judge that fails its own reference on some seed fails an honest learner at random in
``normcourse grade``.

- in the suite (``slow``): CI_SEEDS seeds per exercise (fewer for the bisection, whose
  reference runs ~15 gradient descents per case);
- exhaustive (``-m exhaustive``, left out otherwise): 10,000 seeds per exercise for the
  references, 1,000 for them computed in float32, see CONTRIBUTING.md.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers.answers import l01, l02, l03, l04, l05, l06
from helpers.checking.calling import to_plain
from helpers.checking.expect import Mismatch
from helpers.checking.verdict import FLOAT32_FINE, _judged
from helpers.exercises import all_exercises, get_exercise

CI_SEEDS = 8  # the suite stays under its time budget; -m exhaustive runs 10,000
EXHAUSTIVE_SEEDS = 10_000
SLOW_EXERCISES = {"ex1_measure_lr": 8, "ex1_edge_steps": 6, "ex6_coupling": 8}
#: exercises whose point is float64's round-off (``Exercise.precision``): no float32 run
FLOAT64_ONLY = {"ex4_centered_difference", "ex4_step_sizes"}  # CI seeds where the reference itself is slow (~1 s per seed)


def feature_ranges(X):  # lesson 0's warm-up has no course module: the one-line answer
    return X.max(axis=0) - X.min(axis=0)


REFERENCES = {
    "ex0_ranges": feature_ranges,
    "ex1_gradient": l01.mse_gradient, "ex1_measure_lr": l01.measure_max_lr,
    "ex1_max_lr": l01.max_stable_learning_rate, "ex1_edge_steps": l01.edge_vs_steps,
    "ex2_zscore_fit": l02.zscore_fit, "ex2_zscore_transform": l02.zscore_transform,
    "ex2_weights_to_raw": l02.weights_to_raw, "ex2_rich_experiment": l02.rich_experiment,
    "ex3_bn_forward": l03.batchnorm_forward, "ex3_running_stats": l03.update_running_stats,
    "ex3_bn_eval": l03.batchnorm_eval, "ex3_train_eval_gap": l03.train_eval_gap,
    "ex4_bn_backward": l04.batchnorm_backward, "ex4_bn_backward_alt": l04.batchnorm_backward_alt,
    "ex4_centered_difference": l04.centered_difference,
    "ex4_step_sizes": l04.step_size_experiment,
    "ex5_ln_forward": l05.layernorm_forward, "ex5_ln_backward": l05.layernorm_backward,
    "ex5_fold": l05.fold_batchnorm, "ex5_scale_invariance": l05.scale_invariance,
    "ex6_normalize": l06.normalize, "ex6_axes": l06.family_axes,
    "ex6_bn2d": l06.batchnorm2d_forward, "ex6_groupnorm": l06.groupnorm_forward,
    "ex6_rms_forward": l06.rmsnorm_forward, "ex6_rms_backward": l06.rmsnorm_backward,
    "ex6_coupling": l06.coupling_experiment,
}


def _f32(value):
    """Floats (also nested) as float32: what a learner computing in float32 hands back."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float32)
    if isinstance(value, float):
        return np.float32(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_f32(v) for v in value)
    return value


def in_float32(fn):
    """``fn`` computed in float32: float32 inputs (the references keep their dtype, except
    lessons 1-2's, which compute in float64 on the rounded inputs), float32 outputs."""
    def f32(*args, **kwargs):
        return _f32(fn(*_f32(args), **kwargs))
    f32.__name__ = fn.__name__
    return f32


def honest_float32_answers() -> dict:
    """Lessons 0-2's answers written in float32 throughout, as a learner would."""
    def mse_gradient(X, y, w, b):
        X, y, w = (np.asarray(a, np.float32) for a in (X, y, w))
        r = X @ w + np.float32(b) - y
        return 2 * X.T @ r / np.float32(len(y)), 2 * r.mean()

    def max_stable_learning_rate(X):
        X = np.asarray(X, np.float32)
        return 2 / np.linalg.eigvalsh(2 * X.T @ X / np.float32(len(X)))[-1]

    def zscore_fit(X):
        X = np.asarray(X, np.float32)
        return X.mean(axis=0), X.std(axis=0)

    def zscore_transform(X, mean, std):
        X, mean, std = (np.asarray(a, np.float32) for a in (X, mean, std))
        return (X - mean) / np.where(std == 0, np.float32(1), std)

    def weights_to_raw(w, b, mean, std):
        w, mean, std = (np.asarray(a, np.float32) for a in (w, mean, std))
        w_raw = w / np.where(std == 0, np.float32(1), std)
        return w_raw, np.float32(b) - w_raw @ mean

    return {"ex0_ranges": lambda X: feature_ranges(np.asarray(X, np.float32)),
            "ex1_gradient": mse_gradient, "ex1_max_lr": max_stable_learning_rate,
            "ex2_zscore_fit": zscore_fit, "ex2_zscore_transform": zscore_transform,
            "ex2_weights_to_raw": weights_to_raw}


def failures(exercise_id: str, fn, seeds, float32: bool = False) -> list:
    """(seed, case, message) of every case the judge refuses; a float32 answer is judged as
    the verdict does (again at float32's precision when float64's fails)."""
    ex, found = get_exercise(exercise_id), []
    for seed in seeds:
        for case in ex.cases(np.random.default_rng(seed)):
            value = to_plain(fn(*case.call_args, **case.call_kwargs))
            if float32:
                result = _judged(ex, case, value)
                if not result.passed:
                    found.append((seed, case.name, result.message))
            else:
                try:
                    ex.judge(case, value)
                except Mismatch as m:
                    found.append((seed, case.name, str(m)))
    return found


def _seeds(exercise_id: str, n: int) -> range:
    return range(1000, 1000 + n)  # the notebooks use seed 0: these are fresh cases


def test_every_exercise_with_code_has_a_reference():
    """Concept questions (``answer_*``), predictions (0 points, every letter recorded) and
    written answers (0 points, a text) have no code to judge."""
    coded = {i for i, ex in all_exercises().items()
             if not ex.function.startswith("answer_")
             and ex.kind not in ("prediction", "written")}
    assert coded == set(REFERENCES)


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", sorted(REFERENCES))
def test_reference_passes_its_judge(exercise_id):
    n = SLOW_EXERCISES.get(exercise_id, CI_SEEDS)
    assert failures(exercise_id, REFERENCES[exercise_id], _seeds(exercise_id, n)) == []


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", sorted(set(REFERENCES) - FLOAT64_ONLY))
def test_reference_in_float32_passes_at_float32_precision(exercise_id):
    n = min(SLOW_EXERCISES.get(exercise_id, CI_SEEDS), 10)
    fns = [in_float32(REFERENCES[exercise_id])]
    fns += [honest_float32_answers()[exercise_id]] if exercise_id in honest_float32_answers() \
        else []
    for fn in fns:
        assert failures(exercise_id, fn, _seeds(exercise_id, n), float32=True) == []


def test_a_float32_answer_says_so():
    ex = get_exercise("ex2_zscore_fit")
    case = ex.cases(np.random.default_rng(0))[1]  # age and income: float32 is off at 1e-7
    value = to_plain(honest_float32_answers()["ex2_zscore_fit"](*case.args))
    with pytest.raises(Mismatch):
        ex.judge(case, value)  # at float64's precision it is off ...
    assert _judged(ex, case, value).message == FLOAT32_FINE  # ... and fine at float32's


@pytest.mark.exhaustive
@pytest.mark.parametrize("exercise_id", sorted(REFERENCES))
def test_reference_passes_its_judge_on_10000_seeds(exercise_id):
    assert failures(exercise_id, REFERENCES[exercise_id],
                    _seeds(exercise_id, EXHAUSTIVE_SEEDS)) == []


@pytest.mark.exhaustive
@pytest.mark.parametrize("exercise_id", sorted(set(REFERENCES) - {"ex1_measure_lr"} - FLOAT64_ONLY))
def test_reference_in_float32_passes_on_1000_seeds(exercise_id):
    """(The bisection computes in float64 whatever its inputs: left out.)"""
    assert failures(exercise_id, in_float32(REFERENCES[exercise_id]),
                    _seeds(exercise_id, EXHAUSTIVE_SEEDS // 10), float32=True) == []
