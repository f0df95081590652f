"""Lesson 6's exercises: right answers pass on many seeds (also independent versions),
classic mistakes are rejected by name, PyTorch's numbers take part, the experiment's judge
re-runs the learner's settings, and predictions are recorded, never judged."""

import numpy as np
import pytest

from helpers.answers import l06
from helpers.checking.expect import Mismatch
from helpers.checking.verdict import CheckFailed, NotDoneYet, failed_messages
from helpers.exercises import check, evaluate, get_exercise, lesson_exercises, predict, reveal
from helpers.exercises.l06_coupling import coupling_cases
from helpers.exercises.l06_norms import bn2d_cases, gn_cases, normalize_cases
from helpers.exercises.l06_rms import backward_cases, forward_cases

LESSON = "06_modern_normalization"


def _fails_with(exercise_id, fn, *phrases, seed=0):
    report = evaluate(exercise_id, fn, seed)
    assert report.status == "failed", report.to_text()
    text = failed_messages(report)
    for phrase in phrases:
        assert phrase in text, text


# ------------------------------------------------------------------ independent right answers


def normalize_by_loops(X, axes, eps=1e-5):
    """Every slice over `axes` standardized one at a time (no keepdims broadcasting)."""
    axes = tuple(a % X.ndim for a in axes)
    others = [a for a in range(X.ndim) if a not in axes]
    moved = np.moveaxis(X, others, range(len(others)))
    out = np.empty_like(moved)
    for idx in np.ndindex(*moved.shape[:len(others)]):
        s = moved[idx]
        out[idx] = (s - s.sum() / s.size) / np.sqrt(((s - s.sum() / s.size) ** 2).sum() / s.size + eps)
    return np.moveaxis(out, range(len(others)), others)


def rmsnorm_backward_by_jacobian(dout, cache):
    """dX from the Jacobian of each example, J = I/r − x·xᵀ/(D·r³) (symmetric), applied to
    dout·γ one example at a time without forming it (a D × D matrix per example would take
    far more than the cost judge's forward passes on the large case); dgamma from the
    definition."""
    X, x_hat, rms, gamma = cache
    D = X.shape[-1]
    flat_x, flat_d, flat_r = X.reshape(-1, D), (dout * gamma).reshape(-1, D), rms.reshape(-1)
    dX = np.empty_like(flat_x)
    for i, (x, d, r) in enumerate(zip(flat_x, flat_d, flat_r, strict=True)):
        dX[i] = d / r - x * (x @ d) / (D * r**3)
    return dX.reshape(X.shape), (dout * x_hat).sum(axis=tuple(range(X.ndim - 1)))


RIGHT = [("ex6_normalize", l06.normalize), ("ex6_normalize", normalize_by_loops),
         ("ex6_axes", l06.family_axes), ("ex6_bn2d", l06.batchnorm2d_forward),
         ("ex6_groupnorm", l06.groupnorm_forward), ("ex6_rms_forward", l06.rmsnorm_forward),
         ("ex6_rms_backward", l06.rmsnorm_backward),
         ("ex6_rms_backward", rmsnorm_backward_by_jacobian),
         ("ex6_coupling", l06.coupling_experiment)]


@pytest.mark.parametrize("seed", range(12))
def test_right_answers_pass_for_any_seed(seed):
    for ex_id, fn in RIGHT:
        report = evaluate(ex_id, fn, seed)
        assert report.status == "passed", report.to_text()


def test_exercise_list_points_kinds_and_hints():
    exercises = lesson_exercises(LESSON)
    assert [e.function for e in exercises] == [
        "normalize", "family_axes", "batchnorm2d_forward", "groupnorm_forward",
        "rmsnorm_forward", "rmsnorm_backward", "predict_depth", "predict_zero_gamma",
        "coupling_experiment", "interpret_coupling", "predict_dropout"]
    # at most 10, not counting the experiment's written interpretation
    assert sum(e.points for e in exercises) == 15
    assert len([e for e in exercises if e.kind != "written"]) <= 10
    for number, ex in enumerate(exercises, 1):
        unit = "point" if ex.points == 1 else "points"
        assert ex.title.startswith(f"Exercise {number} ({ex.points} {unit}, "), ex.title
        kind = ex.title.split(", ", 1)[1].split(")")[0]
        assert kind in ("derive", "implement from your derivation", "predict", "experiment",
                        "written")
        assert (ex.kind == "prediction") == (kind == "predict")
        assert (ex.kind == "written") == (kind == "written")
        assert (ex.points == 0) == (ex.kind in ("prediction", "written"))
        if ex.kind == "exercise":
            assert len(ex.hints) == 3, ex.id


def test_pytorch_numbers_are_among_the_cases():
    rng = np.random.default_rng(0)
    assert sum("PyTorch" in c.name for c in normalize_cases(rng)) == 4
    assert sum("PyTorch" in c.name for c in bn2d_cases(rng)) == 3
    assert sum("PyTorch" in c.name for c in gn_cases(rng)) == 4
    assert sum("PyTorch" in c.name for c in forward_cases(rng)) == 3
    assert sum(c.expected is not None for c in backward_cases(rng)) == 3


def test_not_done_yet():
    def normalize(X, axes, eps=1e-5):
        raise NotImplementedError()
    assert evaluate("ex6_normalize", normalize).status == "not_done"


# ------------------------------------------------------------------ named mistakes


def test_normalize_mistakes():
    _fails_with("ex6_normalize", lambda X, axes, eps=1e-5: (X - X.mean(axes, keepdims=True))
                / np.sqrt(X.var(axes, ddof=1, keepdims=True) + eps), "unbiased")
    _fails_with("ex6_normalize", lambda X, axes, eps=1e-5: (X - X.mean(axes, keepdims=True))
                / (X.std(axes, keepdims=True) + eps), "under the root")
    _fails_with("ex6_normalize", lambda X, axes, eps=1e-5: (X - X.mean()) / np.sqrt(X.var() + eps),
                "whole array")
    _fails_with("ex6_normalize", lambda X, axes, eps=1e-5: l06.normalize(X, axes[:1], eps),
                "only")
    _fails_with("ex6_normalize", lambda X, axes, eps=1e-5: l06.normalize(
        X, tuple(a for a in range(X.ndim) if a not in axes) or axes, eps), "*other* axes")
    _fails_with("ex6_normalize", lambda X, axes, eps=1e-5: (X - X.mean(axes, keepdims=True))
                / X.std(axes, keepdims=True), "NaN or inf")


def test_axes_mistakes():
    right = l06.family_axes()
    for key, wrong, phrase in [("batch", (0,), "per pixel"), ("batch", [0, 1, 2, 3], "whole batch"),
                               ("layer", (1,), "one position"), ("instance", (0, 2, 3), "batch norm"),
                               ("group", (2, 3), "instance norm"), ("group", (1, 2, 3, 4), "layer norm"),
                               ("group", (0, 2, 3, 4), "other examples"),
                               ("layer", (2, 3, 1), None), ("batch", (-4, -2, -1), None)]:
        answer = {**right, key: wrong}
        if phrase is None:  # the same axes, another order or negative numbers: right
            assert evaluate("ex6_axes", lambda a=answer: a).status == "passed"
        else:
            _fails_with("ex6_axes", lambda a=answer: a, phrase)
    _fails_with("ex6_axes", lambda: {**right, "batch": (0, 0, 2)}, "twice")
    _fails_with("ex6_axes", lambda: {**right, "group": (2, 3, 5)}, "outside")
    _fails_with("ex6_axes", lambda: {k: v for k, v in right.items() if k != "group"}, "'group'")
    _fails_with("ex6_axes", lambda: [(0, 2, 3)], "dict")
    _fails_with("ex6_axes", lambda: {**right, "layer": "1, 2, 3"}, "tuple of axis numbers")


def test_batchnorm2d_mistakes():
    def gamma_last(X, gamma, beta, eps=1e-5):
        out, cache = l06.batchnorm2d_forward(X, np.ones_like(gamma), np.zeros_like(beta), eps)
        return gamma * out + beta, (X, out, *cache[2:4], gamma, eps)

    _fails_with("ex6_bn2d", gamma_last, "last axis")

    def per_pixel(X, gamma, beta, eps=1e-5):
        x_hat = l06.normalize(X, (0,), eps)
        return gamma.reshape(1, -1, 1, 1) * x_hat + beta.reshape(1, -1, 1, 1), None

    _fails_with("ex6_bn2d", per_pixel, "per pixel")

    def bad_cache(X, gamma, beta, eps=1e-5):
        out, cache = l06.batchnorm2d_forward(X, gamma, beta, eps)
        return out, cache[:4]

    _fails_with("ex6_bn2d", bad_cache, "cache = (X, x_hat, mean, var, gamma, eps)")

    def keepdims_cache(X, gamma, beta, eps=1e-5):  # (1, C, 1, 1) statistics are fine too
        out, (X_, x_hat, mean, var, g, e) = l06.batchnorm2d_forward(X, gamma, beta, eps)
        return out, (X_, x_hat, mean.reshape(1, -1, 1, 1), var.reshape(1, -1, 1, 1), g, e)

    assert evaluate("ex6_bn2d", keepdims_cache).status == "passed"


def test_groupnorm_mistakes():
    def interleaved(X, G, gamma, beta, eps=1e-5):
        N, C, H, W = X.shape
        x_hat = l06.normalize(X.reshape(N, C // G, G, H, W), (1, 3, 4), eps).reshape(X.shape)
        return gamma.reshape(1, -1, 1, 1) * x_hat + beta.reshape(1, -1, 1, 1)

    def per_channel(X, G, gamma, beta, eps=1e-5):
        return gamma.reshape(1, -1, 1, 1) * l06.normalize(X, (2, 3), eps) + beta.reshape(1, -1, 1, 1)

    def grouped_shape(X, G, gamma, beta, eps=1e-5):
        N, C, H, W = X.shape
        return l06.normalize(X.reshape(N, G, C // G, H, W), (2, 3, 4), eps)

    def layer(X, G, gamma, beta, eps=1e-5):
        return gamma.reshape(1, -1, 1, 1) * l06.normalize(X, (1, 2, 3), eps) + beta.reshape(1, -1, 1, 1)

    _fails_with("ex6_groupnorm", interleaved, "consecutive")
    _fails_with("ex6_groupnorm", per_channel, "instance norm")
    _fails_with("ex6_groupnorm", grouped_shape, "reshape it back")
    _fails_with("ex6_groupnorm", layer, "layer norm")


def test_rmsnorm_forward_mistakes():
    def centred(X, gamma, eps=1e-6):
        Xc = X - X.mean(-1, keepdims=True)
        return l06.rmsnorm_forward(Xc, gamma, eps)[0], l06.rmsnorm_forward(X, gamma, eps)[1]

    def by_sum(X, gamma, eps=1e-6):
        r = np.sqrt((X * X).sum(-1, keepdims=True) + eps)
        return gamma * X / r, (X, X / r, r, gamma)

    def eps_outside(X, gamma, eps=1e-6):
        r = np.sqrt((X * X).mean(-1, keepdims=True)) + eps
        return gamma * X / r, (X, X / r, r, gamma)

    def wrong_axis(X, gamma, eps=1e-6):
        r = np.sqrt((X * X).mean(0, keepdims=True) + eps)
        return gamma * X / r, (X, X / r, r, gamma)

    def flat_rms(X, gamma, eps=1e-6):
        out, (X_, x_hat, rms, g) = l06.rmsnorm_forward(X, gamma, eps)
        return out, (X_, x_hat, rms[..., 0], g)

    _fails_with("ex6_rms_forward", centred, "layer norm without β")
    _fails_with("ex6_rms_forward", by_sum, "*sum*")
    _fails_with("ex6_rms_forward", eps_outside, "inside the root")
    _fails_with("ex6_rms_forward", wrong_axis, "last axis")
    _fails_with("ex6_rms_forward", flat_rms, "with size 1")


def test_rmsnorm_backward_mistakes():
    def no_second_term(dout, cache):
        X, x_hat, rms, gamma = cache
        return dout * gamma / rms, (dout * x_hat).reshape(-1, X.shape[-1]).sum(0)

    def layer_norm_term(dout, cache):
        X, x_hat, rms, gamma = cache
        d = dout * gamma
        dX = (d - d.mean(-1, keepdims=True) - x_hat * (d * x_hat).mean(-1, keepdims=True)) / rms
        return dX, (dout * x_hat).reshape(-1, X.shape[-1]).sum(0)

    def no_eps(dout, cache):
        X, x_hat, rms, gamma = cache
        r = np.sqrt((X * X).mean(-1, keepdims=True))
        d = dout * gamma
        return (d - x_hat * (d * x_hat).mean(-1, keepdims=True)) / r, \
            (dout * x_hat).reshape(-1, X.shape[-1]).sum(0)

    def dgamma_axis0(dout, cache):
        dX, _ = l06.rmsnorm_backward(dout, cache)
        return dX, (dout * cache[1]).sum(axis=0)

    _fails_with("ex6_rms_backward", no_second_term, "as a constant")
    _fails_with("ex6_rms_backward", layer_norm_term, "term of the mean")
    _fails_with("ex6_rms_backward", no_eps, "ε out")
    _fails_with("ex6_rms_backward", dgamma_axis0, "every axis but the last")


# ------------------------------------------------------------------ the experiment


def _experiment(sizes=(2, 4, 8, 16, 32), n_draws=300, spread=None):
    def coupling_experiment(pool, i):
        measured = l06.coupling_spread(pool, i, list(sizes), n_draws, seed=5)
        return {"batch_sizes": list(sizes), "n_draws": n_draws, "seed": 5,
                "spread": measured if spread is None else spread(measured, pool, i)}
    return coupling_experiment


def test_coupling_accepts_the_learners_own_settings():
    for sizes, n in [((2, 3, 5, 40), 200), ((2, 8, 32, 64, 100), 1000)]:
        assert evaluate("ex6_coupling", _experiment(sizes, n)).status == "passed"


def test_coupling_rejects_the_rule_of_thumb_and_wrong_measurements():
    def rule(measured, pool, i):  # measured once at B = 32, then 1/√B
        return [measured[-1] * np.sqrt(32 / b) for b in (2, 4, 8, 16, 32)]

    _fails_with("ex6_coupling", _experiment(spread=rule), "rule of thumb, not a measurement")
    _fails_with("ex6_coupling", _experiment(spread=lambda m, p, i: [x * 1.6 for x in m]),
                "re-running your settings gives")
    _fails_with("ex6_coupling", _experiment(spread=lambda m, p, i: [0.0] * len(m)),
                "re-running your settings gives")


def test_coupling_settings_are_checked():
    _fails_with("ex6_coupling", _experiment(sizes=(4, 8, 16, 32)), "from 2")
    _fails_with("ex6_coupling", _experiment(sizes=(2, 4, 8)), "at least 4")
    _fails_with("ex6_coupling", _experiment(sizes=(2, 4, 8, 16)), "32 or more")
    _fails_with("ex6_coupling", _experiment(n_draws=50), "at least 200")
    _fails_with("ex6_coupling", lambda pool, i: {"batch_sizes": [2, 4, 8, 500], "n_draws": 200,
                                                 "seed": 0, "spread": [1.0, 0.5, 0.3, 0.0]},
                "between 2 and")
    _fails_with("ex6_coupling", lambda pool, i: {"spread": [0.1]}, "'batch_sizes'")
    _fails_with("ex6_coupling", _experiment(spread=lambda m, p, i: m[:-1]), "one number per batch")
    _fails_with("ex6_coupling", lambda pool, i: None, "None")


def test_coupling_cases_are_where_the_rule_fails():
    """On the judge's pools, 1/√B through the largest batch is far from the measurement."""
    for case in coupling_cases(np.random.default_rng(0))[:2]:
        pool, i = case.args
        sizes = [2, 4, 8, 16, 32, 64]
        measured = np.array(l06.coupling_spread(pool, i, sizes, 1000, seed=0))
        rule = measured[-1] * np.sqrt(64 / np.array(sizes))
        assert abs(rule[0] - measured[0]) > 0.3, (case.name, measured, rule)


# ------------------------------------------------------------------ predictions


PREDICTIONS = [e for e in lesson_exercises(LESSON) if e.kind == "prediction"]


@pytest.mark.parametrize("spec", PREDICTIONS, ids=lambda e: e.id)
def test_every_letter_is_recorded_and_nothing_else(spec):
    for letter, _text in spec.options:
        for form in (letter, letter.upper(), f" {letter} ", f"({letter})"):
            assert evaluate(spec.id, lambda f=form: f).status == "passed"
    _fails_with(spec.id, lambda: "e", "one of")
    _fails_with(spec.id, lambda: 2, "a letter in quotes")
    assert spec.points == 0 and isinstance(spec, predict.Prediction)


def test_prediction_check_says_what_was_recorded(capsys, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    check("ex6_predict_dropout", lambda: "B")
    assert repr(shown[-1]).splitlines()[-1] == "recorded: you predicted B (smaller)"
    assert "recorded: you predicted B" in shown[-1]._repr_html_()

    def predict_dropout():
        raise NotImplementedError()

    with pytest.raises(NotDoneYet, match="not done yet: make your prediction"):
        check("ex6_predict_dropout", predict_dropout)
    with pytest.raises(CheckFailed, match="no prediction recorded"):
        check("ex6_predict_dropout", lambda: "z")


def test_reveal_shows_the_prediction_next_to_what_happened(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    reveal("ex6_predict_zero_gamma", lambda: "a", "the loss was 0.674 against 2.432.")
    text = repr(shown[-1])
    assert text.startswith("You predicted A: lower:") and "What happened: the loss was 0.674" in text
    assert "0.674" in shown[-1]._repr_html_()

    def predict_zero_gamma():
        raise NotImplementedError()

    reveal("ex6_predict_zero_gamma", predict_zero_gamma, "it went down.")  # never raises
    assert repr(shown[-1]).startswith("No prediction recorded for Exercise 8 yet: make it there")
    reveal("ex6_predict_zero_gamma", lambda: 1 / 0, "it went down.")
    assert "its function raised ZeroDivisionError" in repr(shown[-1])
    reveal("ex6_predict_zero_gamma", lambda: "maybe", "it went down.")
    assert "'maybe' is not one of the letters a, b, c, d" in repr(shown[-1])


def test_a_prediction_is_an_ordinary_exercise_spec():
    spec = get_exercise("ex6_predict_depth")
    assert spec.kind == "prediction" and spec.points == 0 and spec.hints
    assert get_exercise("ex6_normalize").kind == "exercise"
    custom = predict.prediction("x_test", "f", "Exercise 1 (0 points, predict): t",
                                {"a": "yes", "b": "no"})
    assert custom.option("b") == "no" and custom.option("z") == ""
    assert "a" in custom.hints[0]


# ------------------------------------------------------------------ issue 18's rules


def _numerical_rmsnorm_backward(dout, cache):
    """Central differences moving one feature of every example at once (each example's loss
    kept apart): 2·D forward passes, the cheapest finite-difference dX there is."""
    X, x_hat, rms, gamma = cache
    X, D = np.array(X, dtype=float), X.shape[-1]
    eps = float((rms * rms - (X * X).mean(axis=-1, keepdims=True)).mean())

    def losses(A):
        return (dout * gamma * A / np.sqrt((A * A).mean(axis=-1, keepdims=True) + eps)).sum(-1)
    dX = np.zeros_like(X)
    for j in range(D):
        e = np.zeros(D)
        e[j] = 1e-5
        dX[..., j] = (losses(X + e) - losses(X - e)) / 2e-5
    return dX, (dout * x_hat).reshape(-1, D).sum(0)


def test_a_numerical_rmsnorm_backward_fails_on_its_cost():
    """Without the large first case a finite-difference dX passed every case (its error,
    ~1e-10, is far below the tolerance)."""
    report = evaluate("ex6_rms_backward", _numerical_rmsnorm_backward)
    assert report.status == "failed"
    big = report.results[0]
    assert not big.passed and big.mistake == "numerical-gradient", report.to_text()
    assert "looks like a numerical gradient" in big.message
    assert all(r.passed for r in report.results[1:]), report.to_text()


def _rms_backward(r=None, reduce=np.mean, sign=1.0, dgamma_of=None):
    """RMSNorm's backward pass with one piece changed: the rms used (from X, the cache's ε
    unknown), the reduction of the second term, the sign, what dgamma sums."""
    def rmsnorm_backward(dout, cache):
        X, x_hat, rms, gamma = cache
        s = rms if r is None else r(X)
        d = dout * gamma
        dX = sign * (d - x_hat * reduce(d * x_hat, axis=-1, keepdims=True)) / s
        return dX, (dout * (x_hat if dgamma_of is None else X)).reshape(-1, X.shape[-1]).sum(0)
    return rmsnorm_backward


@pytest.mark.parametrize("fn, mistake, phrase", [
    (_rms_backward(r=lambda X: np.sqrt((X * X).mean(-1, keepdims=True))), "no-eps", "ε out"),
    (_rms_backward(r=lambda X: np.sqrt((X * X).mean(-1, keepdims=True) + 1e-6)),
     "hard-coded-eps", "ε = 1e-6"),
    (_rms_backward(sign=-1.0), "wrong-sign", "sign is flipped"),
    (_rms_backward(reduce=np.sum), "sums-not-means", "should average"),
    (_rms_backward(dgamma_of="X"), "dgamma-uses-x", "sums dout·X"),
])
def test_rmsnorm_backward_mistakes_have_ids(fn, mistake, phrase):
    report = evaluate("ex6_rms_backward", fn)
    assert report.status == "failed"
    named = [r for r in report.results if r.mistake == mistake]
    assert named and phrase in named[0].message, report.to_text()


def test_named_mistakes_carry_ids():
    """Each named mistake of lesson 6 is reported with its short id (the grader's logs and
    the corpus count them)."""
    right = l06.family_axes()
    cases = [
        ("ex6_normalize", lambda X, axes, eps=1e-5: (X - X.mean()) / np.sqrt(X.var() + eps),
         "whole-array"),
        ("ex6_axes", lambda: {**right, "batch": (0,)}, "batch-per-pixel"),
        ("ex6_groupnorm", lambda X, G, gamma, beta, eps=1e-5: gamma.reshape(1, -1, 1, 1)
         * l06.normalize(X, (2, 3), eps) + beta.reshape(1, -1, 1, 1), "instance-norm"),
        ("ex6_rms_forward", lambda X, gamma, eps=1e-6: l06.rmsnorm_forward(X - X.mean(
            -1, keepdims=True), gamma, eps), "centred"),
    ]
    for exercise_id, fn, mistake in cases:
        report = evaluate(exercise_id, fn)
        assert mistake in {r.mistake for r in report.results}, report.to_text()


def test_lesson6_shortcuts_are_listed():
    """Issue 18, item 2 (listed for the guard; every name exists: test_exercises_l03)."""
    shortcuts = {e.id: e.shortcuts for e in lesson_exercises(LESSON)}
    assert "core.gradcheck:numerical_gradient" in shortcuts["ex6_rms_backward"]
    assert "core.batched:Norm" in shortcuts["ex6_normalize"]
    for ex_id in ("ex6_normalize", "ex6_bn2d", "ex6_groupnorm", "ex6_rms_forward",
                  "ex6_rms_backward"):
        assert "core.data:torch_reference" in shortcuts[ex_id], ex_id


def _textbook(kind, c):
    """A spread from a formula, no batches run: c/√B or c/√(B − 1), or the delta method's
    √((1 + z²/2)/B) for a normal pool (z: example i's z-score per feature)."""
    def coupling_experiment(pool, i):
        B = np.array([2, 4, 8, 16, 32, 64], dtype=float)
        if kind == "delta":
            z = (pool[i] - pool.mean(0)) / pool.std(0)
            spread = np.sqrt((1 + z[None] ** 2 / 2) / B[:, None]).mean(axis=1)
        else:
            spread = c / np.sqrt(B if kind == "B" else B - 1)
        return {"batch_sizes": [int(b) for b in B], "n_draws": 200, "seed": 0,
                "spread": [float(s) for s in spread]}
    return coupling_experiment


@pytest.mark.parametrize("seed", [0, 1, *(pytest.param(s, marks=pytest.mark.full) for s in (2, 3, 4))])
def test_the_textbook_formula_alone_fails_where_the_measurement_passes(seed):
    """Issue 18, item 4: a case where the formula gives the wrong number and the experiment
    the right one. On the extreme example (the largest in every feature) every formula
    c/√B or c/√(B − 1), whatever c, and the delta method are refused, at the loosest
    tolerance (200 draws); the measurement passes on the same case."""
    ex = get_exercise("ex6_coupling")
    extreme = next(c for c in ex.cases(np.random.default_rng(seed)) if "largest" in c.name)
    formulas = [_textbook("delta", 0)] + [_textbook(kind, c) for kind in ("B", "B-1")
                                          for c in np.linspace(0.05, 2.0, 40)]
    for fn in formulas:
        with pytest.raises(Mismatch):
            ex.judge(extreme, fn(*extreme.args))
    ex.judge(extreme, l06.coupling_experiment(*extreme.args))


@pytest.mark.parametrize("seed", range(5))
def test_the_judges_closed_form_matches_finite_differences(seed):
    """The judge's RMSNorm backward reference (closed form, no finite differences) against
    central differences of the forward pass, for X and for γ, on every small case's shapes
    and a large ε (where ε is not negligible against the mean square)."""
    from helpers.core.gradcheck import numerical_gradient, rel_error
    from helpers.exercises.l06_rms import closed_form_backward
    rng = np.random.default_rng(seed)
    for shape, eps in (((3, 4), 1e-6), ((2, 3, 5), 1e-6), ((4, 6), 0.5), ((1, 7), 1e-6)):
        X, dout = rng.normal(size=shape) * rng.uniform(0.2, 3.0), rng.normal(size=shape)
        gamma = rng.uniform(0.5, 2.0, size=shape[-1])

        def loss(X=X, dout=dout, gamma=gamma, eps=eps):  # reads X and γ, changed in place
            return float((dout * gamma * X / np.sqrt((X * X).mean(-1, keepdims=True) + eps)).sum())
        rms = np.sqrt((X * X).mean(-1, keepdims=True) + eps)
        dX, dgamma = closed_form_backward(dout, X, gamma, rms)
        assert rel_error(dX, numerical_gradient(loss, X)) < 1e-8
        assert rel_error(dgamma, numerical_gradient(loss, gamma)) < 1e-8
