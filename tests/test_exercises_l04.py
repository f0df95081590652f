"""Lesson 4's exercises: the backward pass (derived, then compact), the centred difference
and the step-size experiment; right answers pass, each classic mistake is rejected by name."""

import numpy as np
import pytest

from helpers.answers import l04 as course
from helpers.answers.l04 import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_backward_staged,
    centered_difference,
    step_size_experiment,
)
from helpers.checking.verdict import failed_messages
from helpers.exercises import evaluate, get_exercise, lesson_exercises
from helpers.exercises.l04_steps import TEXTBOOK_H, judge_errors, step_cases

_report = evaluate
_messages = failed_messages
LESSON = "04_batch_norm_backward"


def _fails_with(exercise_id, fn, *phrases, mistake=None):
    report = _report(exercise_id, fn)
    assert report.status == "failed", report.to_text()
    text = _messages(report)
    for phrase in phrases:
        assert phrase in text, text
    if mistake:
        assert any(r.mistake == mistake for r in report.results), report.to_text()


# --------------------------------------------------------------------------- right answers


def batchnorm_backward_by_steps(dout, cache):
    """The staged derivation (through mean and variance), written another way."""
    X, x_hat, mean, var, gamma, eps = cache
    n = len(X)
    std = np.sqrt(var + eps)
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * (X - mean) * -0.5 * std**-3, axis=0)
    dmean = np.sum(-dx_hat / std, axis=0) + dvar * np.mean(-2 * (X - mean), axis=0)
    dX = dx_hat / std + dvar * 2 * (X - mean) / n + dmean / n
    return dX, np.sum(dout * x_hat, axis=0), np.sum(dout, axis=0)


def interpret_step_sizes():
    return ("Large steps carry the truncation error of the difference quotient, which shrinks "
            "like h squared; small steps lose digits to round-off, which grows like 1/h.")


RIGHT = [("ex4_bn_backward", batchnorm_backward), ("ex4_bn_backward", batchnorm_backward_staged),
         ("ex4_bn_backward", batchnorm_backward_by_steps),
         ("ex4_bn_backward", batchnorm_backward_alt),
         ("ex4_bn_backward_alt", batchnorm_backward_alt),
         ("ex4_bn_backward_alt", batchnorm_backward),
         ("ex4_centered_difference", centered_difference),
         ("ex4_step_sizes", step_size_experiment),
         ("ex4_interpret", interpret_step_sizes), ("ex4_predict_step", lambda: "a")]


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_right_answers_pass_for_any_seed(seed):
    for ex_id, fn in RIGHT:
        report = _report(ex_id, fn, seed)
        assert report.status == "passed", report.to_text()


def test_exercise_list_points_and_kinds():
    exercises = lesson_exercises(LESSON)
    assert [e.function for e in exercises] == [
        "batchnorm_backward", "batchnorm_backward_alt", "centered_difference", "predict_step",
        "step_size_experiment", "interpret_step_sizes"]
    assert sum(e.points for e in exercises) == 13 and len(exercises) <= 10
    kinds = ["derive", "implement from your derivation", "implement",
             "predict", "experiment", "written"]
    for number, (ex, kind) in enumerate(zip(exercises, kinds, strict=True), 1):
        unit = "point" if ex.points == 1 else "points"
        assert ex.title.startswith(f"Exercise {number} ({ex.points} {unit}, {kind})"), ex.title
        assert len(ex.hints) == (1 if ex.kind in ("prediction", "written") else 3), ex.id
    assert get_exercise("ex4_predict_step").observed_letter() == "b"


def test_no_formula_before_the_second_hint_tier():
    """The derivation is the exercise: its first tier names no formula."""
    first = get_exercise("ex4_bn_backward").hints[0]
    for formula in ("dout·γ", "/σ", "mean_i", "Σ", "="):
        assert formula not in first, formula


def test_not_done_yet():
    def batchnorm_backward(dout, cache):
        raise NotImplementedError()
    assert _report("ex4_bn_backward", batchnorm_backward).status == "not_done"


# --------------------------------------------------------------------------- backward mistakes


def test_backward_ignoring_mean_and_variance_dependence():
    def constant_stats(dout, cache):
        X, x_hat, mean, var, gamma, eps = cache
        return dout * gamma / np.sqrt(var + eps), (dout * x_hat).sum(0), dout.sum(0)
    _fails_with("ex4_bn_backward", constant_stats, "treats the mean and variance as constants",
                mistake="statistics-constant")

    def mean_only(dout, cache):
        X, x_hat, mean, var, gamma, eps = cache
        dx_hat = dout * gamma
        return (dx_hat - dx_hat.mean(0)) / np.sqrt(var + eps), (dout * x_hat).sum(0), dout.sum(0)
    _fails_with("ex4_bn_backward", mean_only, "not the one through the variance")


def test_backward_other_mistakes():
    def sums_on_wrong_axis(dout, cache):
        dX, dgamma, dbeta = batchnorm_backward(dout, cache)
        return dX, dgamma, dout.sum(axis=1)
    _fails_with("ex4_bn_backward", sums_on_wrong_axis, "dbeta")

    def dgamma_mean(dout, cache):
        dX, dgamma, dbeta = batchnorm_backward(dout, cache)
        return dX, dgamma / len(dout), dbeta
    _fails_with("ex4_bn_backward", dgamma_mean, "dgamma is averaged over the batch",
                mistake="averaged-not-summed")

    def unsummed(dout, cache):
        dX, dgamma, dbeta = batchnorm_backward(dout, cache)
        return dX, dout * cache[1], dbeta
    _fails_with("ex4_bn_backward", unsummed, "add up the contributions", mistake="not-summed")

    def forgot_gamma(dout, cache):
        X, x_hat, mean, var, gamma, eps = cache
        dX = (dout - dout.mean(0) - x_hat * (dout * x_hat).mean(0)) / np.sqrt(var + eps)
        return dX, (dout * x_hat).sum(0), dout.sum(0)
    _fails_with("ex4_bn_backward", forgot_gamma, "you forgot γ in dX")

    def two_values(dout, cache):
        return batchnorm_backward(dout, cache)[:2]
    _fails_with("ex4_bn_backward", two_values, "expected a tuple of 3 values")


def test_backward_named_mistakes():
    def variance_only(dout, cache):
        X, x_hat, mean, var, gamma, eps = cache
        dx_hat = dout * gamma
        dX = (dx_hat - x_hat * (dx_hat * x_hat).mean(0)) / np.sqrt(var + eps)
        return dX, (dout * x_hat).sum(0), dout.sum(0)
    _fails_with("ex4_bn_backward", variance_only, "not the one through the mean")

    def sums(dout, cache):
        X, x_hat, mean, var, gamma, eps = cache
        dx_hat = dout * gamma
        dX = (dx_hat - dx_hat.sum(0) - x_hat * (dx_hat * x_hat).sum(0)) / np.sqrt(var + eps)
        return dX, (dout * x_hat).sum(0), dout.sum(0)
    _fails_with("ex4_bn_backward", sums, "not sums")

    def rows(dout, cache):
        X, x_hat, mean, var, gamma, eps = cache
        dx_hat = dout * gamma
        dX = (dx_hat - dx_hat.mean(1, keepdims=True)
              - x_hat * (dx_hat * x_hat).mean(1, keepdims=True)) / np.sqrt(var + eps)
        return dX, (dout * x_hat).sum(0), dout.sum(0)
    _fails_with("ex4_bn_backward", rows, "means over the other axis (axis 1)")

    def no_eps(dout, cache):
        X, x_hat, mean, var, gamma, eps = cache
        dx_hat = dout * gamma
        dX = (dx_hat - dx_hat.mean(0) - x_hat * (dx_hat * x_hat).mean(0)) / np.sqrt(var)
        return dX, (dout * x_hat).sum(0), dout.sum(0)
    _fails_with("ex4_bn_backward", no_eps, "you forgot ε")

    def swapped(dout, cache):
        dX, dgamma, dbeta = batchnorm_backward(dout, cache)
        return dX, dbeta, dgamma
    _fails_with("ex4_bn_backward", swapped, "dgamma and dbeta are swapped")

    def wrong_unpacking(dout, cache):
        X, x_hat, var, mean, gamma, eps = cache  # mean and var swapped
        return batchnorm_backward(dout, (X, x_hat, mean, var, gamma, eps))
    _fails_with("ex4_bn_backward", wrong_unpacking, "contains NaN", "Unpack the cache")


def _staged(n_var=None, half=0.5, two=2.0, power=2, mean_n=None):
    """The node-by-node derivation with one node's mistake (the removed node exercises)."""
    def staged(dout, cache):
        X, x_hat, mean, var, gamma, eps = cache
        n = len(X)
        xc, std = X - mean, np.sqrt(var + eps)
        dx_hat = dout * gamma
        dstd = -(dx_hat * xc).sum(0) / std**power
        dvar = half * dstd / std
        dxc = dx_hat / std + two * xc * dvar / (n_var(n) if n_var else n)
        dX = dxc - dxc.sum(0) / (mean_n(n) if mean_n else n)
        return dX, (dout * x_hat).sum(0), dout.sum(0)
    return staged


@pytest.mark.parametrize("fn, phrase, mistake", [
    (_staged(), None, None),
    (_staged(n_var=lambda n: n - 1), "unbiased variance", "sample-variance"),
    (_staged(half=1.0), "with a ½", "sqrt-missing-half"),
    (_staged(two=1.0), "derivative of xc² is 2·xc", "missing-factor-2"),
    (_staged(power=1), "not −1/σ", "one-over-sigma"),
    (_staged(mean_n=lambda n: 1), "1/N of its own change", "mean-missing-1-over-n"),
])
def test_node_mistakes_of_the_derivation_are_named(fn, phrase, mistake):
    """The mistakes of lesson 3's former node exercises, seen in the whole dX."""
    if phrase is None:
        assert _report("ex4_bn_backward", fn).passed
    else:
        _fails_with("ex4_bn_backward", fn, phrase, mistake=mistake)


def _full(dout, cache, s=None, k=1.0, sign=(1, 1, 1), over_n=False):
    X, x_hat, mean, var, gamma, eps = cache
    d, std = dout * gamma, np.sqrt(var + eps) if s is None else s(var, eps)
    dX = sign[0] * d - sign[1] * k * d.mean(0) - sign[2] * k * x_hat * (d * x_hat).mean(0)
    dX = dX / std / (len(X) if over_n else 1)
    return dX, (dout * x_hat).sum(0), dout.sum(0)


@pytest.mark.parametrize("name, fn, phrase", [
    ("eps outside the square root", lambda d, c: _full(d, c, s=lambda v, e: np.sqrt(v) + e),
     "ε goes inside the square root"),
    ("divides by N twice", lambda d, c: _full(d, c, over_n=True), "divided by N"),
    ("means divided by N again", lambda d, c: _full(d, c, k=1 / len(c[0])), "divided by N"),
    ("wrong sign", lambda d, c: _full(d, c, sign=(-1, -1, -1)), "wrong sign"),
    ("mean term's sign", lambda d, c: _full(d, c, sign=(1, -1, 1)),
     "term through the mean has the wrong sign"),
    ("variance term's sign", lambda d, c: _full(d, c, sign=(1, 1, -1)),
     "term through the variance has the wrong sign"),
    ("hard-coded eps", lambda d, c: _full(d, c, s=lambda v, e: np.sqrt(v + 1e-5)),
     "ε = 1e-5 instead of the cache's eps"),
])
@pytest.mark.parametrize("exercise_id", ["ex4_bn_backward", "ex4_bn_backward_alt"])
def test_backward_mistakes_of_issue_18_are_named(exercise_id, name, fn, phrase):
    _fails_with(exercise_id, fn, phrase)


def _numerical_backward(dout, cache):
    """A finite-difference dX with the course's own gradcheck tool: no backward pass."""
    from helpers.core.gradcheck import numerical_gradient
    X, x_hat, mean, var, gamma, eps = cache
    X = np.array(X, dtype=float)

    def loss():
        xc = X - X.mean(axis=0)
        return float((dout * gamma * xc / np.sqrt(xc.var(axis=0) + eps)).sum())
    return numerical_gradient(loss, X), (dout * x_hat).sum(0), dout.sum(0)


def test_a_numerical_gradient_fails_on_its_cost():
    report = _report("ex4_bn_backward", _numerical_backward)
    assert report.status == "failed"
    big = report.results[0]
    assert not big.passed and big.mistake == "numerical-gradient", big
    assert "looks like a numerical gradient" in big.message


def test_backward_shortcuts_are_listed_and_exist():
    import importlib

    from helpers.exercises import all_exercises
    assert "core.gradcheck:numerical_gradient" in all_exercises()["ex4_bn_backward"].shortcuts
    for ex in lesson_exercises(LESSON):
        for name in ex.shortcuts:
            module, attr = name.split(":")
            assert hasattr(importlib.import_module(f"helpers.{module}"), attr), (ex.id, name)


def test_the_compact_and_staged_forms_agree():
    rng = np.random.default_rng(3)
    X, dout = rng.normal(size=(32, 5)), rng.normal(size=(32, 5))
    mean, var = X.mean(0), X.var(0)
    cache = (X, (X - mean) / np.sqrt(var + 1e-5), mean, var, rng.uniform(0.5, 2, 5), 1e-5)
    for a, b, c in zip(batchnorm_backward(dout, cache), batchnorm_backward_staged(dout, cache),
                       batchnorm_backward_alt(dout, cache), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- finite differences


def test_centered_difference_mistakes():
    def analytic(X, G, h, eps=1e-5):
        mean, var = X.mean(0), X.var(0)
        cache = (X, (X - mean) / np.sqrt(var + eps), mean, var, np.ones(X.shape[1]), eps)
        return batchnorm_backward(G, cache)[0]
    _fails_with("ex4_centered_difference", analytic, "analytic gradient", mistake="analytic")

    def one_sided(X, G, h, eps=1e-5):
        base, grad = course.bn_loss(X, G, eps), np.zeros(X.shape)
        for i in np.ndindex(X.shape):
            Xp = X.copy()
            Xp[i] += h
            grad[i] = (course.bn_loss(Xp, G, eps) - base) / h
        return grad
    _fails_with("ex4_centered_difference", one_sided, "one-sided", mistake="one-sided")

    def by_h(X, G, h, eps=1e-5):
        return 2 * centered_difference(X, G, h, eps)
    _fails_with("ex4_centered_difference", by_h, "divide by 2h", mistake="divides-by-h")

    def fixed_stats(X, G, h, eps=1e-5):
        return G / np.sqrt(X.var(0) + eps)
    _fails_with("ex4_centered_difference", fixed_stats, "kept from the unnudged X",
                mistake="statistics-fixed")

    def all_at_once(X, G, h, eps=1e-5):
        return np.full(X.shape, (course.bn_loss(X + h, G, eps) - course.bn_loss(X - h, G, eps))
                       / (2 * h))
    _fails_with("ex4_centered_difference", all_at_once, "one entry at a time",
                mistake="all-at-once")


# --------------------------------------------------------------------------- the experiment


def test_the_textbook_step_gives_the_wrong_number_on_two_cases():
    """Issue 19: on the judge's cases the textbook answer "h = 1e-5" fails; measured, it
    is at least 300 times worse than the best step on two of them."""
    def textbook(X, G, eps=1e-5):
        found = step_size_experiment(X, G, eps)
        k = found["hs"].index(TEXTBOOK_H)
        return {**found, "best_h": TEXTBOOK_H, "best_error": found["errors"][k]}
    report = _report("ex4_step_sizes", textbook)
    assert [r.passed for r in report.results] == [True, False, False], report.to_text()
    assert all(r.mistake == "textbook-h" for r in report.results[1:])
    for case in step_cases(np.random.default_rng(0))[1:]:
        hs = [10.0**k for k in range(-11, 0)]  # every decade: hs[6] is 1e-5
        errors = judge_errors(*case.args, hs, case.kwargs.get("eps", 1e-5))
        assert hs[6] == TEXTBOOK_H and errors[6] > 300 * errors.min()


def test_experiment_mistakes():
    def narrow(X, G, eps=1e-5):
        found = step_size_experiment(X, G, eps)
        keep = slice(4, 8)
        return {"hs": found["hs"][keep], "errors": found["errors"][keep], "best_h": 1e-6,
                "best_error": found["errors"][5]}
    _fails_with("ex4_step_sizes", narrow, "between 6 and 40")

    def made_up(X, G, eps=1e-5):
        found = step_size_experiment(X, G, eps)
        errors = [h**2 for h in found["hs"]]  # the truncation law alone, no round-off
        return {**found, "errors": errors, "best_h": found["hs"][0], "best_error": errors[0]}
    _fails_with("ex4_step_sizes", made_up, "re-running it gives", mistake="errors-off")

    def not_best(X, G, eps=1e-5):
        found = step_size_experiment(X, G, eps)
        return {**found, "best_h": found["hs"][-1], "best_error": found["errors"][-1]}
    _fails_with("ex4_step_sizes", not_best, "not where your measured errors are smallest",
                mistake="not-the-best")

    def not_a_dict(X, G, eps=1e-5):
        return 1e-5
    _fails_with("ex4_step_sizes", not_a_dict, "expected a dict")


def test_written_answer_is_recorded_not_judged(capsys):
    from helpers.checking.verdict import CheckFailed
    from helpers.exercises import check
    check("ex4_interpret", interpret_step_sizes)
    assert "recorded: your interpretation (25 words)" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="not recorded: 2 words"):
        check("ex4_interpret", lambda: "too short")


# --------------------------------------------------------------------------- PyTorch


def test_every_form_of_the_backward_pass_reproduces_pytorch():
    """tests/data's BatchNorm1d numbers (tests/make_torch_reference.py, torch 2.13.0): dX,
    dgamma and dbeta of the course's three forms, to 1e-10."""
    from helpers.core.data import torch_reference

    for case in torch_reference()["batchnorm1d"]:
        X, gamma, eps = case["X"], case["gamma"], case["eps"]
        mean, var = X.mean(axis=0), X.var(axis=0)
        cache = (X, (X - mean) / np.sqrt(var + eps), mean, var, gamma, eps)
        for form in (batchnorm_backward, batchnorm_backward_alt, batchnorm_backward_staged):
            for got, key in zip(form(case["dout"], cache), ("dX", "dgamma", "dbeta"),
                                strict=True):
                np.testing.assert_allclose(got, case[key], rtol=1e-10, atol=1e-12,
                                           err_msg=f"{form.__name__} {key}")


def test_the_grader_keeps_a_written_answer_for_the_teacher():
    """The text travels in the grades JSON's ``text`` and is shown in the feedback."""
    from helpers.checking.calling import Outcome
    from helpers.checking.verdict import judge
    from normcourse.grading import mistakes, report
    from normcourse.grading.results import SubmissionResult, exercise_result

    ex = get_exercise("ex4_interpret")
    outcomes = [Outcome("returned", interpret_step_sizes())]
    result = exercise_result(ex, judge(ex, ex.cases(np.random.default_rng(0)), outcomes),
                             outcomes)
    assert result.text == " ".join(interpret_step_sizes().split()) and result.points == 0
    assert mistakes.choice(get_exercise("ex4_predict_step"), [Outcome("returned", "B")]) == "b"
    shown = report.feedback_markdown(SubmissionResult("s.ipynb", LESSON, True,
                                                      exercises=[result]))
    assert "> " in shown and "round\\-off" in shown


def test_the_compact_form_may_not_call_the_learners_staged_form():
    """Found by a learner's read-through: ``return batchnorm_backward(dout, cache)`` earned
    Exercise 2's 3 points for no new work. The check watches the learner's own Exercise 1
    function (``Exercise.not_calling``), however it is reached; the grader does the same
    in the kernel (corpus case l4_alt_calls_staged)."""
    import inspect
    space = {"np": np}
    exec(inspect.getsource(batchnorm_backward_by_steps).replace(
        "def batchnorm_backward_by_steps", "def batchnorm_backward"), space)
    exec("staged = batchnorm_backward\n"
         "def batchnorm_backward_alt(dout, cache):\n    return staged(dout, cache)\n", space)
    assert _report("ex4_bn_backward", space["batchnorm_backward"], own_work=True).passed
    report = _report("ex4_bn_backward_alt", space["batchnorm_backward_alt"], own_work=True)
    assert report.status == "failed", report.to_text()
    assert "calls your `batchnorm_backward`" in _messages(report)
    assert {r.mistake for r in report.results} == {"calls-own-answer"}
    exec("def batchnorm_backward_alt(dout, cache):\n    X, x_hat, mean, var, gamma, eps = cache\n"
         "    d = dout * gamma\n    dX = (d - d.mean(0) - x_hat * (d * x_hat).mean(0)) / "
         "np.sqrt(var + eps)\n    return dX, (dout * x_hat).sum(0), dout.sum(0)\n", space)
    assert _report("ex4_bn_backward_alt", space["batchnorm_backward_alt"], own_work=True).passed


WRAPPED_STAGED = {  # S2: the staged function behind a wrapper, the compact form calls it
    "functools.partial": "import functools\nbatchnorm_backward = functools.partial(_bb)\n"
                         "def batchnorm_backward_alt(dout, cache):\n    return _bb(dout, cache)\n",
    "functools.wraps": "import functools\n@functools.wraps(_bb)\ndef batchnorm_backward(*a):\n"
                       "    return _bb(*a)\ndef batchnorm_backward_alt(dout, cache):\n"
                       "    return _bb(dout, cache)\n",
    "a bound method": "class K:\n    def run(self, dout, cache):\n        return _bb(dout, cache)\n"
                      "k = K()\nbatchnorm_backward = k.run\n"
                      "def batchnorm_backward_alt(dout, cache):\n    return k.run(dout, cache)\n",
    "a callable instance": "class K:\n    def __call__(self, dout, cache):\n"
                           "        return _bb(dout, cache)\nbatchnorm_backward = K()\n"
                           "def batchnorm_backward_alt(dout, cache):\n"
                           "    return batchnorm_backward.__call__(dout, cache)\n",
    "a staticmethod object": "batchnorm_backward = staticmethod(_bb)\n"
                             "def batchnorm_backward_alt(dout, cache):\n    return _bb(dout, cache)\n",
}
WRAPPED_OPEN = {  # S2, open: the same function object reached unseen
    # a wrapper that calls a global helper: not told apart from two answers sharing a helper
    "a lambda around a shared helper":
        "batchnorm_backward = lambda dout, cache: _bb(dout, cache)\n"
        "def batchnorm_backward_alt(dout, cache):\n    return _bb(dout, cache)\n",
    # a worker thread started before the watch: sys.setprofile and threading.setprofile
    # reach only this thread and threads started in the block (3.11: no all-threads hook)
    "a thread pool started before":
        "import concurrent.futures as cf\nbatchnorm_backward = _bb\n"
        "P = cf.ThreadPoolExecutor(1)\nP.submit(int).result()\n"
        "def batchnorm_backward_alt(dout, cache):\n"
        "    return P.submit(batchnorm_backward, dout, cache).result()\n",
}


def _staged_space(extra: str) -> dict:
    import inspect
    space = {"np": np}
    exec(inspect.getsource(batchnorm_backward_by_steps).replace(
        "def batchnorm_backward_by_steps", "def _bb"), space)
    exec(extra, space)
    return space


@pytest.mark.parametrize("extra", WRAPPED_STAGED.values(), ids=WRAPPED_STAGED.keys())
def test_the_compact_form_may_not_call_the_staged_form_behind_a_wrapper(extra):
    space = _staged_space(extra)
    assert _report("ex4_bn_backward", space["batchnorm_backward"], own_work=True).passed
    report = _report("ex4_bn_backward_alt", space["batchnorm_backward_alt"], own_work=True)
    assert {r.mistake for r in report.results} == {"calls-own-answer"}, report.to_text()


_OPEN = ("S2 hole (open): the staged function reached through a lambda's global helper, or "
         "run in a thread started before the watch, is not seen: Exercise 2 gets its 3 points "
         "for no new work")


@pytest.mark.parametrize("extra", [
    pytest.param(code, id=name, marks=pytest.mark.xfail(
        # the thread case was seen once (2026-12-07, clean-clone CI, 4 workers) as
        # caught: not strict, as a judge that sometimes sees it is no worse; cause not found
        strict="thread" not in name, reason=_OPEN)) for name, code in WRAPPED_OPEN.items()])
def test_the_compact_form_may_not_reach_the_staged_form_unseen(extra):
    space = _staged_space(extra)
    report = _report("ex4_bn_backward_alt", space["batchnorm_backward_alt"], own_work=True)
    assert not report.passed


def test_an_odd_object_as_the_staged_answer_does_not_break_the_compact_forms_check():
    """S2: the staged answer bound to objects the unwrapping must survive (a class whose
    __class__ raises, a builtin, a class, None): the honest compact form still passes."""
    compact = ("def batchnorm_backward_alt(dout, cache):\n    X, x_hat, mean, var, gamma, eps = "
               "cache\n    d = dout * gamma\n    dX = (d - d.mean(0) - x_hat * (d * x_hat)"
               ".mean(0)) / np.sqrt(var + eps)\n    return dX, (dout * x_hat).sum(0), dout.sum(0)\n")
    for odd in ("class W:\n    __class__ = property(lambda s: 1 / 0)\n"
                "    def __call__(self, *a):\n        return 1\nbatchnorm_backward = W()\n",
                "batchnorm_backward = len\n", "class batchnorm_backward:\n    pass\n",
                "batchnorm_backward = None\n"):
        space = _staged_space(odd + compact)
        report = _report("ex4_bn_backward_alt", space["batchnorm_backward_alt"], own_work=True)
        assert report.passed, (odd, report.to_text())
