"""Lesson 1's exercises: the solutions pass; classic wrong answers fail with the right message."""

import numpy as np
import pytest

from helpers.answers import l01 as course
from helpers.checking.verdict import CheckFailed, NotDoneYet, failed_messages
from helpers.core.data import age_income
from helpers.core.linreg import gradient_descent
from helpers.exercises import check, evaluate, get_exercise, lesson_exercises
from helpers.exercises.spec import answer_digest

_report = evaluate
_messages = failed_messages


# --------------------------------------------------------------------------- solutions


def mse_gradient(X, y, w, b):
    r = X @ w + b - y
    return 2 * X.T @ r / len(y), float(2 * r.mean())


def max_stable_learning_rate(X):
    return float(2 / np.linalg.eigvalsh(2 * X.T @ X / len(X))[-1])


def measure_max_lr(X, y, lo, hi, rtol=1e-3, n_steps=500):
    while hi > lo * (1 + rtol):
        mid = np.sqrt(lo * hi)
        if gradient_descent(X, y, mid, n_steps).diverged:
            hi = mid
        else:
            lo = mid
    return lo


def _hessian_eigs(X, n=None):
    return np.linalg.eigvalsh(2 * X.T @ X / (n or len(X)))


def test_ids_points_and_order_are_stable():
    exs = lesson_exercises("01_feature_scale")
    assert [e.id for e in exs] == ["ex1_gradient", "ex1_measure_lr", "ex1_max_lr",
                                   "ex1_edge_steps", "ex1_interpret_edge", "ex1_predict_scale"]
    assert [e.points for e in exs] == [2, 2, 2, 1, 0, 0]
    assert [e.function for e in exs] == ["mse_gradient", "measure_max_lr",
                                         "max_stable_learning_rate", "edge_vs_steps",
                                         "interpret_edge", "predict_scale"]
    assert [e.kind for e in exs] == ["exercise"] * 4 + ["written", "prediction"]
    for number, e in enumerate(exs, 1):
        points = f"{e.points} point{'s' if e.points != 1 else ''}"
        kind = e.title.split(", ", 1)[1].split(")")[0]
        assert e.title.startswith(f"Exercise {number} ({points}, "), e.title
        assert kind in ("derive", "experiment", "written", "predict"), e.title


@pytest.mark.parametrize("exercise_id", ["ex0_ranges", "ex1_gradient", "ex1_measure_lr",
                                         "ex1_max_lr", "ex1_edge_steps"])
def test_hints_come_in_tiers_and_the_first_gives_no_formula(exercise_id):
    hints = get_exercise(exercise_id).hints
    assert len(hints) == 3
    for code in ("@", "axis=", "X.T", "eigvalsh", "np.", "sqrt", "= 2", "(2/n)", "√"):
        assert code not in hints[0], (exercise_id, code)
    assert len(set(hints)) == len(hints)


def test_ranges_hint_no_longer_hands_out_the_code_first():
    ex = get_exercise("ex0_ranges")
    assert "X.max(axis=0) - X.min(axis=0)" not in " ".join(ex.hints)
    assert "axis" not in ex.hints[0] and "axis 0" in ex.hints[1]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("exercise_id,fn", [("ex1_gradient", mse_gradient),
                                            ("ex1_measure_lr", measure_max_lr),
                                            ("ex1_measure_lr", course.measure_max_lr),
                                            ("ex1_max_lr", max_stable_learning_rate),
                                            ("ex1_edge_steps", course.edge_vs_steps),
                                            ("ex1_predict_scale", lambda: "b")])
def test_solutions_pass(exercise_id, fn, seed):
    report = _report(exercise_id, fn, seed)
    assert report.passed, _messages(report)


def test_the_prediction_records_any_letter_and_stores_what_was_measured():
    spec = get_exercise("ex1_predict_scale")
    assert spec.kind == "prediction" and spec.points == 0
    for letter in (" B ", "a", "d"):
        assert _report("ex1_predict_scale", lambda letter=letter: letter).passed
    assert "one of" in _messages(_report("ex1_predict_scale", lambda: "e"))
    assert spec.observed == answer_digest("ex1_predict_scale", "b")  # 10⁶× smaller, measured


def test_the_written_interpretation_is_recorded_not_judged():
    spec = get_exercise("ex1_interpret_edge")
    assert spec.kind == "written" and spec.points == 0
    text = "The gap shrinks like one over the number of steps, " * 2
    assert _report("ex1_interpret_edge", lambda: text).passed
    assert "at least" in _messages(_report("ex1_interpret_edge", lambda: "too short"))
    assert "string" in _messages(_report("ex1_interpret_edge", lambda: 3))


def _horizons(edges_of):
    def fn(X, y):
        steps = [10, 100, 1000]
        return {"n_steps": steps, "edges": [edges_of(X, y, n) for n in steps]}
    return fn


def test_the_experiment_refuses_the_formula_and_a_fixed_horizon():
    formula = _report("ex1_edge_steps", _horizons(lambda X, y, n: max_stable_learning_rate(X)))
    assert "formula-not-measurement" in {r.mistake for r in formula.results}
    fixed = _report("ex1_edge_steps", _horizons(
        lambda X, y, n: course.measure_max_lr(X, y, 1e-13, 10.0, n_steps=500)))
    assert "n-steps-ignored" in {r.mistake for r in fixed.results}
    few = _report("ex1_edge_steps", lambda X, y: {"n_steps": [100, 200, 300], "edges": [1, 1, 1]})
    assert "bad-horizons" in {r.mistake for r in few.results}
    over = _report("ex1_edge_steps", _horizons(
        lambda X, y, n: 1.01 * course.measure_max_lr(X, y, 1e-13, 10.0, n_steps=n)))
    assert {r.mistake for r in over.results} & {"diverging-rate"}


def test_on_the_judges_cases_the_formula_misses_by_more_than_the_tolerance():
    """At the longest horizon allowed (1000 steps) the edge is still more than 2·rtol above
    2/λ_max, so no horizon lets the textbook number pass."""
    from helpers.exercises.l01_bisect import RTOL, measured_edge
    from helpers.exercises.l01_horizon import MAX_STEPS
    for seed in range(5):
        for case in get_exercise("ex1_edge_steps").cases(np.random.default_rng(seed)):
            theory, edge = measured_edge(*case.args, MAX_STEPS)
            assert theory < edge / (1 + 2 * RTOL), case.name


# --------------------------------------------------------------------------- gradient mistakes


def _scaled(k):
    return lambda X, y, w, b: tuple(np.asarray(g) * k for g in mse_gradient(X, y, w, b))


GRADIENT_MISTAKES = {
    "missing factor 2": (_scaled(0.5), "keep the factor 2"),
    "wrong sign": (_scaled(-1.0), "wrong sign"),
    "n - 1": (lambda X, y, w, b: tuple(np.asarray(g) * len(y) / (len(y) - 1)
                                      for g in mse_gradient(X, y, w, b)), "n − 1"),
    "sum instead of mean": (lambda X, y, w, b: tuple(np.asarray(g) * len(y)
                                                     for g in mse_gradient(X, y, w, b)),
                            "divide the sum by n"),
    "mean over the wrong axis": (lambda X, y, w, b: (2 * (X * (X @ w + b - y)[:, None]).mean(1),
                                                     2 * (X @ w + b - y).mean()),
                                 "one value per example"),
    "wrong shape (column vector)": (lambda X, y, w, b: (mse_gradient(X, y, w, b)[0][:, None],
                                                        mse_gradient(X, y, w, b)[1]), "shape"),
    "forgot return": (lambda X, y, w, b: None, "forget `return`"),
    "only grad_w": (lambda X, y, w, b: mse_gradient(X, y, w, b)[0], "expected a tuple"),
    "NaN": (lambda X, y, w, b: (np.full_like(w, np.nan), 0.0), "NaN"),
    "raises": (lambda X, y, w, b: X @ np.ones(len(w) + 1), "raised ValueError"),
    "forgot the bias": (lambda X, y, w, b: mse_gradient(X, y, w, 0.0), "ŷ = X·w + b"),
    "string": (lambda X, y, w, b: ("grad", 0.0), "string"),
}


@pytest.mark.parametrize("name", list(GRADIENT_MISTAKES))
def test_gradient_mistake_is_named(name):
    fn, phrase = GRADIENT_MISTAKES[name]
    report = _report("ex1_gradient", fn)
    assert report.status == "failed"
    assert phrase in _messages(report), _messages(report)


def test_gradient_mutation_is_caught():
    def mutating(X, y, w, b):
        X -= X.mean(axis=0)
        return mse_gradient(X, y, w, b)

    report = _report("ex1_gradient", mutating)
    assert not report.passed and "changes its input X in place" in _messages(report)


def test_gradient_list_return_is_accepted():
    report = _report("ex1_gradient", lambda X, y, w, b: [list(mse_gradient(X, y, w, b)[0]),
                                                        mse_gradient(X, y, w, b)[1]])
    assert report.passed, _messages(report)


def test_gradient_small_error_says_how_far_off():
    def off(X, y, w, b):
        gw, gb = mse_gradient(X, y, w, b)
        return gw + 0.01 * np.arange(1, len(gw) + 1), gb

    msg = _messages(_report("ex1_gradient", off))
    assert "off by up to" in msg and "relative error" in msg


# --------------------------------------------------------------------------- learning-rate mistakes

LR_MISTAKES = {
    "1/lambda_max": (lambda X: max_stable_learning_rate(X) / 2, "1/λ_max"),
    "no factor 2 in the Hessian": (lambda X: float(2 / np.linalg.eigvalsh(X.T @ X / len(X))[-1]),
                                   "factor 2"),
    "n - 1": (lambda X: float(2 / _hessian_eigs(X, len(X) - 1)[-1]), "n − 1"),
    "no 1/n": (lambda X: float(2 / np.linalg.eigvalsh(2 * X.T @ X)[-1]), "factor 1/n"),
    "smallest eigenvalue": (lambda X: float(2 / _hessian_eigs(X)[0]), "smallest eigenvalue"),
    "all eigenvalues": (lambda X: 2 / _hessian_eigs(X), "one number"),
    "list": (lambda X: [max_stable_learning_rate(X)] * 2, "one number"),
    "None": (lambda X: None, "None"),
    "NaN": (lambda X: float("nan"), "NaN"),
    "negative": (lambda X: -max_stable_learning_rate(X), "positive"),
    "raises": (lambda X: np.linalg.inv(X), "raised"),
    "1% too large": (lambda X: 1.01 * max_stable_learning_rate(X), "diverges below your value"),
    "10% too small": (lambda X: 0.9 * max_stable_learning_rate(X), "still converges above it"),
    "lambda_max itself": (lambda X: float(_hessian_eigs(X)[-1]), "λ_max itself"),
    "centered (np.cov)": (lambda X: float(2 / np.linalg.eigvalsh(2 * np.atleast_2d(np.cov(X.T)))[-1]),
                          "you centered X"),
}


@pytest.mark.parametrize("name", list(LR_MISTAKES))
def test_lr_mistake_is_named(name):
    fn, phrase = LR_MISTAKES[name]
    report = _report("ex1_max_lr", fn)
    assert report.status == "failed"
    assert phrase in _messages(report), _messages(report)


def test_lr_mutation_is_caught():
    def mutating(X):
        X *= 2
        return max_stable_learning_rate(X / 2)

    assert "changes its input" in _messages(_report("ex1_max_lr", mutating))


# --------------------------------------------------------------------------- the experiment


def _bisect(midpoint=np.sqrt, swapped=False, relative=True, n_steps=500, returns="lo",
            diverged=lambda run: run.diverged):
    """A bisection with one knob turned the wrong way (or none)."""
    def fn(X, y, lo, hi, rtol=1e-3):
        while (hi > lo * (1 + rtol)) if relative else (hi - lo > rtol):
            mid = midpoint(lo * hi) if midpoint is np.sqrt else midpoint(lo, hi)
            if diverged(gradient_descent(X, y, mid, n_steps)) != swapped:
                hi = mid
            else:
                lo = mid
        return {"lo": lo, "hi": hi}[returns]
    return fn


@pytest.mark.parametrize("name,fn", [
    ("arithmetic midpoint", _bisect(midpoint=lambda lo, hi: (lo + hi) / 2)),
    ("a tighter rtol", lambda X, y, lo, hi: course.measure_max_lr(X, y, lo, hi, rtol=1e-6)),
])
def test_other_honest_bisections_pass(name, fn):
    for seed in range(4):
        report = _report("ex1_measure_lr", fn, seed)
        assert report.passed, (name, _messages(report))


def _bisect_last_mid():
    """Returns the last midpoint tried, converging or not."""
    def fn(X, y, lo, hi, rtol=1e-3):
        mid = lo
        while hi > lo * (1 + rtol):
            mid = np.sqrt(lo * hi)
            if gradient_descent(X, y, mid, 500).diverged:
                hi = mid
            else:
                lo = mid
        return mid
    return fn


BISECT_MISTAKES = {
    "branches swapped": (_bisect(swapped=True), "unchanged: the bisection never moved it"),
    "absolute stopping rule": (_bisect(relative=False), "relative (hi / lo > 1 + rtol)"),
    "never counts a run as diverged": (_bisect(diverged=lambda run: not np.isfinite(
        run.losses[-1])), "does your loop trust run.diverged"),
    # issue 18: a rate where GD diverges is refused, and so is one well below the measured
    # edge (which lies 0.3-1 % above the theory's 2/λ_max)
    "returns hi after the loop": (_bisect(returns="hi"), "Return the largest rate you saw "
                                                         "converge (lo), not hi"),
    "returns the last midpoint": (_bisect_last_mid(), "gradient descent diverges at your value"),
    "300 steps per run": (_bisect(n_steps=300), "are your runs n_steps = 500 steps long"),
    "loss above its start counts as diverged": (
        _bisect(diverged=lambda run: run.diverged or run.losses[-1] > run.losses[0]),
        "gradient descent still converges above your value"),
    "the formula moved by 0.1 %": (lambda X, y, lo, hi: 1.001 * max_stable_learning_rate(X),
                                   "gradient descent still converges above your value"),
    "runs too short": (_bisect(n_steps=60), "are your runs n_steps = 500 steps long"),
    "stops too early": (_bisect(midpoint=lambda lo, hi: (lo + hi) / 2, relative=False),
                        "unchanged"),
    "formula instead of an experiment": (lambda X, y, lo, hi: max_stable_learning_rate(X),
                                         "a formula, not a measurement"),
    "returns hi unchanged": (lambda X, y, lo, hi: hi, "hi = 10 unchanged"),
    "outside the interval": (lambda X, y, lo, hi: 2 * hi, "outside the interval"),
    "half the edge": (lambda X, y, lo, hi: 0.5 * max_stable_learning_rate(X),
                      "still converges above your value"),
    "None": (lambda X, y, lo, hi: None, "forget `return`"),
    "both ends": (lambda X, y, lo, hi: (lo, hi), "one number"),
}


@pytest.mark.parametrize("name", list(BISECT_MISTAKES))
def test_bisect_mistake_is_named(name):
    fn, phrase = BISECT_MISTAKES[name]
    report = _report("ex1_measure_lr", fn)
    assert report.status == "failed"
    assert phrase in _messages(report), _messages(report)


def test_measured_edge_is_where_real_runs_start_to_diverge():
    """The judge's closed-form edge agrees with runs of gradient_descent itself: 500 steps
    converge just below it and diverge just above it; it lies above the theory's 2/λ_max."""
    from helpers.exercises.l01_bisect import measured_edge

    rng = np.random.default_rng(5)
    for X, y in [age_income(n=50, seed=2), (rng.normal(size=(20, 1)) * 3, rng.normal(size=20)),
                 (rng.normal(size=(30, 3)) * [1, 10, 100], rng.normal(size=30))]:
        theory, edge = measured_edge(X, y)
        assert theory == pytest.approx(2 / np.linalg.eigvals(2 * X.T @ X / len(X)).real.max())
        assert 1.002 < edge / theory < 1.02
        assert not gradient_descent(X, y, edge * (1 - 1e-9), 500).diverged
        assert gradient_descent(X, y, edge * (1 + 1e-9), 500).diverged


# --------------------------------------------------------------------------- the check cell


def test_check_raises_not_done_and_failed_and_passes(capsys):
    def stub(X, y, w, b):
        raise NotImplementedError()

    with pytest.raises(NotDoneYet):
        check("ex1_gradient", stub)
    with pytest.raises(CheckFailed):
        check("ex1_gradient", _scaled(0.5))
    check("ex1_gradient", mse_gradient)
    check("ex1_measure_lr", measure_max_lr)
    check("ex1_max_lr", max_stable_learning_rate)
    check("ex1_predict_scale", lambda: "b")


def test_check_shows_the_next_hint_tier_after_a_changed_try(monkeypatch):
    """Re-running the same wrong function keeps its hint; each changed, still wrong try shows
    the next tier; the specific message stays at every tier (issue 18)."""
    monkeypatch.setattr("helpers.exercises.TRIES", {})
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda report: shown.append(report))
    for factor in (0.5, 0.5, 0.5, 0.25, 0.125, 0.0625):
        with pytest.raises(CheckFailed):
            check("ex1_gradient", _scaled(factor))
    hints = get_exercise("ex1_gradient").hints
    assert [r.hint for r in shown] == [hints[0]] * 3 + [hints[1], hints[2], hints[2]]
    assert all("keep the factor 2" in _messages(r) for r in shown[:3])


# --------------------------------------------------------------------------- lesson 0's warm-up

RANGE_MISTAKES = {
    "one per example (axis=1)": (lambda X: X.max(axis=1) - X.min(axis=1), "one per example (row)"),
    "one number for all": (lambda X: X.max() - X.min(), "one number, the range of all"),
    "only the maximum": (lambda X: X.max(axis=0), "the array of ranges is off by up to"),
    "None": (lambda X: None, "forget `return`"),
}


@pytest.mark.parametrize("name", list(RANGE_MISTAKES))
def test_range_mistake_is_named(name):
    fn, phrase = RANGE_MISTAKES[name]
    report = _report("ex0_ranges", fn)
    assert report.status == "failed" and phrase in _messages(report), _messages(report)
    assert _report("ex0_ranges", lambda X: np.ptp(X, axis=0)).passed


def test_range_non_numbers_are_not_called_one_number():
    for value in ("abc", True, object()):
        msg = _messages(_report("ex0_ranges", lambda X, v=value: v))
        assert "one number" not in msg, msg


# --------------------------------------------------------------------------- the lesson's fallbacks


def test_lesson_1_demonstrations_fall_back_on_the_course_and_use_yours(capsys):
    from helpers.answers import fallback

    def stub(X, y, lo, hi, rtol=1e-3, n_steps=500):
        raise NotImplementedError()

    stub.__name__ = "measure_max_lr"
    assert fallback.yours_or_course(stub) is course.measure_max_lr
    assert "not written yet" in capsys.readouterr().out
    assert fallback.yours_or_course(measure_max_lr) is measure_max_lr
    assert "your measure_max_lr" in capsys.readouterr().out
    for fn in (mse_gradient, max_stable_learning_rate):
        assert fallback.yours_or_course(fn) is fn


def test_course_bisection_finds_the_edge_of_the_course_gradient_descent():
    """The course's numpy-only bisection and the lesson's gradient_descent agree on where
    gradient descent starts to diverge (same test: loss above 10^6 times its start)."""
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(40, 3)) * [1, 5, 50], rng.normal(size=40)
    ours = course.measure_max_lr(X, y, 1e-9, 10.0, rtol=1e-6)
    assert not gradient_descent(X, y, ours, 500).diverged
    assert gradient_descent(X, y, ours * (1 + 2e-6), 500).diverged


# --------------------------------------------------------------------------- issue 18


def test_float32_answers_are_right_to_float32_precision():
    """Lessons 0-1 computed in float32 from float64 inputs pass, and say so."""
    def ranges32(X):
        X = X.astype(np.float32)
        return X.max(axis=0) - X.min(axis=0)

    def lr32(X):
        X = X.astype(np.float32)
        return 2 / np.linalg.eigvalsh(2 * X.T @ X / np.float32(len(X)))[-1]

    def gradient32(X, y, w, b):
        X, y, w = (a.astype(np.float32) for a in (X, y, w))
        r = X @ w + np.float32(b) - y
        return 2 * X.T @ r / np.float32(len(y)), 2 * r.mean()
    for ex_id, fn in (("ex0_ranges", ranges32), ("ex1_max_lr", lr32),
                      ("ex1_gradient", gradient32)):
        for seed in (0, 1, 2):
            report = _report(ex_id, fn, seed)
            assert report.passed, report.to_text()
        assert any("computed in float32: fine here" in r.message for r in report.results)


def test_a_prediction_as_np_str_counts():
    report = _report("ex1_predict_scale", lambda: np.str_("b"))
    assert report.passed, report.to_text()


def test_max_lr_shortcut_is_listed_for_the_guard():
    """Issue 18, item 2 (listed only: the guard and the grader do not use the list yet)."""
    assert "core.linreg:hessian_eigenvalues" in get_exercise("ex1_max_lr").shortcuts
    assert "core.linreg:gradient_descent" in get_exercise("ex1_gradient").shortcuts
