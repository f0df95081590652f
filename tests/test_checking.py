"""The checker: outcomes as plain data, verdicts that explain, exceptions that don't shout."""

import numpy as np
import pytest

import helpers.exercises as checks
from helpers.checking.calling import Case, Opaque, Outcome, run_case, to_plain
from helpers.checking.expect import (
    Mismatch,
    expect_array,
    expect_choice,
    expect_close,
    expect_number,
    expect_tuple,
)
from helpers.checking.verdict import CheckFailed, NotDoneYet, judge
from helpers.exercises import all_exercises, get_exercise
from helpers.exercises.spec import Exercise, answer_digest, choice_judge
from normcourse.grading import inkernel, probe, wire


def _square_judge(case, value):
    (x,) = case.args
    expect_close(expect_array(value, x.shape, "x²"), x**2, "x²")


SQUARE = Exercise("t_square", "square", "square it", 1,
                  lambda rng: [Case("small", (np.array([1.0, 2.0]),)),
                               Case("negative", (np.array([-3.0]),))],
                  _square_judge, hint="multiply x by itself")


def _run(fn, ex=SQUARE):
    cases = ex.cases(np.random.default_rng(0))
    return judge(ex, cases, [run_case(fn, c) for c in cases])


def test_right_answer_passes():
    report = _run(lambda x: x * x)
    assert report.status == "passed" and report.n_passed == 2


def test_not_implemented_is_not_done_yet():
    def square(x):
        raise NotImplementedError()
    report = _run(square)
    assert report.status == "not_done"
    assert "not done yet" in report.summary()


def test_raising_is_a_verdict_not_a_crash():
    report = _run(lambda x: 1 / 0)
    assert report.status == "failed"
    assert "ZeroDivisionError" in report.results[0].message


def test_mutating_input_is_named():
    def square(x):
        x *= x
        return x
    report = _run(square)
    assert report.status == "failed"
    assert "changes its input x in place" in report.results[0].message


def test_wrong_value_says_how_far_off():
    report = _run(lambda x: 2 * x**2)
    assert "yours is 2× the expected value in every entry" in report.results[0].message
    assert "off by up to" in report.results[0].message


@pytest.mark.parametrize("value, words", [
    (None, "None"), ("abc", "string"), ([[1.0, 4.0]], "shape (1, 2)"),
    (np.array([np.nan, 4.0]), "NaN"), (np.array([np.inf, 4.0]), "inf"),
    (object(), "not an array"),
])
def test_odd_returns_get_readable_messages(value, words):
    report = _run(lambda x: value)
    assert report.status == "failed"
    assert words in report.results[0].message


def test_a_list_is_accepted_when_values_are_right():
    assert _run(lambda x: list(x * x)).status == "passed"


def test_case_inputs_are_never_mutated_by_the_learner():
    cases = SQUARE.cases(None)
    def square(x):
        x[:] = 0
        return x
    run_case(square, cases[0])
    np.testing.assert_array_equal(cases[0].args[0], [1.0, 2.0])


def test_outcome_survives_the_wire_and_hostile_dicts():
    out = run_case(lambda x: x * x, SQUARE.cases(None)[0])
    text = wire.encode(inkernel.outcome_to_plain(out), Opaque)
    back = probe._outcome(wire.decode(text, Opaque))
    assert back.status == "returned" and back.arg_names == ("x",)
    np.testing.assert_array_equal(back.value, [1.0, 4.0])
    np.testing.assert_array_equal(back.inputs_after[0], [1.0, 2.0])
    assert probe._outcome({"status": "passed!!"}).status == "unreadable"
    assert probe._outcome("junk").status == "unreadable"
    assert probe._outcome({"status": "returned", "inputs_after": 3}).status == "unreadable"
    report = judge(SQUARE, SQUARE.cases(None)[:1], [probe._outcome("junk")])
    assert report.results[0].message == "the grader could not read what your function returned"


def test_judge_that_crashes_on_odd_value_still_gives_verdict():
    def bad_judge(case, value):
        return value["key"]  # TypeError for most values
    ex = Exercise("t", "f", "t", 1, lambda rng: [Case("c")], bad_judge)
    report = judge(ex, ex.cases(None), [Outcome("returned", 3)])
    assert report.status == "failed" and "could not read" in report.results[0].message


def test_check_raises_friendly_exceptions(monkeypatch):
    monkeypatch.setattr(checks, "get_exercise", lambda i: SQUARE)
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    checks.check("t_square", lambda x: x * x)
    assert shown[-1].passed
    with pytest.raises(CheckFailed) as info:
        checks.check("t_square", lambda x: x)
    assert info.value._render_traceback_()[0].startswith("CheckFailed: ✗ t_square: 0 of 2")
    assert isinstance(info.value, AssertionError)  # nbgrader scores the cell as failed

    def square(x):
        raise NotImplementedError
    with pytest.raises(NotDoneYet) as info:
        checks.check("t_square", square)
    assert "not done yet" in info.value._render_traceback_()[0]
    with pytest.raises(CheckFailed):
        checks.check("t_square", None)
    assert "pass the function itself" in shown[-1].results[0].message


def test_report_renders_text_and_html():
    report = _run(lambda x: x)
    text, html = report.to_text(), report._repr_html_()
    assert "✗" in text and "Hint: multiply x by itself" in text
    assert "<table>" in html and "Hint:" in html
    assert "Hint" not in _run(lambda x: x * x).to_text()


def test_expect_helpers():
    assert expect_tuple([1, 2], 2, "(a, b)") == (1, 2)
    with pytest.raises(Mismatch, match="tuple of 2"):
        expect_tuple((1,), 2, "(a, b)")
    assert expect_number(np.array([2.0])) == 2.0
    with pytest.raises(Mismatch, match="one number"):
        expect_number(np.ones(3))
    with pytest.raises(Mismatch, match="number"):
        expect_number(True)
    assert expect_choice(" (B) ", "abcd") == "b"
    with pytest.raises(Mismatch, match="one of a, b, c, d"):
        expect_choice("e", "abcd")


def test_multiple_choice_answers_are_stored_as_digests():
    digest = answer_digest("x", "c")
    j = choice_judge("x", "abcd", digest, wrong={"a": "because"})
    j(None, "C")
    with pytest.raises(Mismatch, match="because"):
        j(None, "a")
    # every concept question of the course accepts exactly one letter
    concept = [ex for ex in all_exercises().values() if ex.function.startswith("answer_")]
    # none left in the course (every one became a 0-point prediction); the mechanism stays
    for ex in concept:
        right = []
        for letter in "abcd":
            try:
                ex.judge(None, letter)
                right.append(letter)
            except Mismatch:
                pass
        assert len(right) == 1, ex.id


def test_exercise_ids_are_unique_and_resolvable():
    exercises = all_exercises()
    for ex_id, ex in exercises.items():
        assert get_exercise(ex_id) is ex
        assert (ex.points > 0 or ex.kind in ("prediction", "written")) and ex.hint  # 0 points
    with pytest.raises(KeyError, match="no exercise called"):
        get_exercise("nope")


def test_common_errors_get_a_pointer():
    def answer():
        return b  # noqa: F821 - the learner forgot the quotes
    ex = Exercise("t_q", "answer", "q", 1, lambda rng: [Case("your answer")],
                  choice_judge("t_q", "abcd", answer_digest("t_q", "b")))
    report = judge(ex, ex.cases(None), [run_case(answer, c) for c in ex.cases(None)])
    assert "as a string, in quotes" in report.results[0].message


def test_mutation_message_names_the_changed_argument():
    def scale(x, s):
        s *= 2
        return x * s
    ex = Exercise("t_m", "scale", "m", 1, lambda rng: [Case("c", (np.ones(2), np.ones(2)))],
                  lambda case, value: None)
    report = judge(ex, ex.cases(None), [run_case(scale, c) for c in ex.cases(None)])
    assert "changes its input s in place" in report.results[0].message
    assert "-=" in report.results[0].message and "`" not in report.results[0].message


def test_mutation_is_judged_from_the_copies_sent_back():
    """A write into an input fails (the inputs are arrays over immutable bytes); the outcome
    also carries the inputs after the call, which the judging process compares."""
    def grad(x):
        x += 1  # changes the caller's array
        return x * 0 + np.array([1.0, 4.0])
    case = SQUARE.cases(None)[0]
    out = run_case(grad, case)
    assert out.status == "raised" and out.error == "WritesInput: x"
    assert "changes its input x in place" in judge(SQUARE, [case], [out]).results[0].message
    list_case = Case("a list", ([1.0, 2.0],))
    def append(x):
        x.append(3.0)
        return np.array([1.0, 4.0])
    out = run_case(append, list_case)
    assert out.inputs_after == ([1.0, 2.0, 3.0],)
    assert "changes its input x in place" in judge(SQUARE, [list_case], [out]).results[0].message
    # a kernel that claims nothing changed, but sends back changed copies, is caught
    forged = Outcome("returned", np.array([1.0, 4.0]), inputs_after=(np.array([9.0, 9.0]),),
                     arg_names=("x",))
    assert not judge(SQUARE, [case], [forged]).passed


@pytest.mark.parametrize("value, message", [
    ((i for i in range(2)), "is an object of type generator, not an array of numbers"),
    (object(), "is an object of type object, not an array of numbers"),
])
def test_objects_are_named_by_their_type(value, message):
    report = judge(SQUARE, SQUARE.cases(None)[:1], [run_case(lambda x: value, SQUARE.cases(None)[0])])
    assert message in report.results[0].message


def test_a_value_whose_repr_raises_is_read_without_calling_it():
    class Weird:
        def __repr__(self):
            raise RuntimeError("no")
        __str__ = __repr__
    assert to_plain(Weird()) == Opaque("an object of type Weird")
    assert to_plain([Weird()]) == [Opaque("an object of type Weird")]


def test_to_plain_normalises_arrays_and_limits_size_and_depth():
    big_endian = np.array([1.5, 2.5], dtype=">f8")
    out = to_plain(big_endian)
    assert out.dtype == np.float64 and out.dtype.isnative and out.tolist() == [1.5, 2.5]
    assert to_plain(np.array([1, 2], dtype=np.longdouble)).dtype == np.float64
    assert to_plain(np.float64(0.5)) == 0.5 and type(to_plain(np.float64(0.5))) is float
    half = to_plain(np.float32(0.5))  # float32 keeps its dtype: a judge may widen tolerances
    assert half.dtype == np.float32 and half.shape == () and half == 0.5
    assert to_plain(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert to_plain(np.str_("b")) == "b" and type(to_plain(np.str_("b"))) is str
    deep = []
    for _ in range(100_000):
        deep = [deep]
    assert "nested more than" in to_plain(deep).description
    assert "larger than" in to_plain(np.zeros(3_000_000)).description
    assert to_plain(np.array(["a"])).description.startswith("an array of dtype")


def test_hints_follow_tries_not_reruns(monkeypatch):
    """Issue 18: the tier advances only when the function changed (source or behaviour) and
    is still wrong; re-running the same cell shows the same hint; a pass starts over."""
    tiered = Exercise("t_tier", "square", "square it", 1, SQUARE.cases, _square_judge,
                      hint=("nudge: think of a product", "formula: x·x", "code: x * x"))
    monkeypatch.setattr(checks, "get_exercise", lambda i: tiered)
    monkeypatch.setattr(checks, "TRIES", {})
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)

    def wrong_1(x):
        return x

    def wrong_2(x):
        return x + x

    def right(x):
        return x * x

    def tier_after(fn):
        if fn is right:
            checks.check("t_tier", fn)
        else:
            with pytest.raises(CheckFailed):
                checks.check("t_tier", fn)
        return shown[-1].tier if not shown[-1].passed else "pass"

    tiers = [tier_after(f) for f in (wrong_1, wrong_1, wrong_1, wrong_2, wrong_2, wrong_1,
                                     wrong_2, right, wrong_1)]
    assert tiers == [0, 0, 0, 1, 1, 2, 3, "pass", 0]
    assert "Hint 3 of 3: code" in shown[-3].to_text() and "x²" in shown[-3].results[0].message
    assert "Hint 1 of 3 (run this cell again after your next try" in shown[-1].to_text()
    # a function redefined with the same source but another behaviour is a new try too
    exec_ns = {}
    exec("def same(x):\n    return x * k", exec_ns)  # no source to read: behaviour decides
    checks.TRIES.clear()
    exec_ns["k"] = 2.0
    with pytest.raises(CheckFailed):
        checks.check("t_tier", exec_ns["same"])
    exec_ns["k"] = 3.0
    with pytest.raises(CheckFailed):
        checks.check("t_tier", exec_ns["same"])
    assert shown[-1].tier == 1
    # a report judged elsewhere (the grader) shows the first tier, the nudge
    graded = judge(tiered, SQUARE.cases(None), [run_case(lambda x: x, c)
                                                for c in SQUARE.cases(None)])
    assert "Hint 1 of 3 (run this cell again after your next try" in graded.to_text()
    assert graded.hint == "nudge: think of a product"


# --------------------------------------------------------------------------- issue 18


def test_mutation_hidden_by_patching_to_plain_through_the_stack_is_caught():
    """On main a function that zeroed X and made the caller's to_plain send back a saved
    copy got full marks; the inputs are now arrays over immutable bytes, so the write
    itself fails, whatever is patched."""
    import sys

    def square(x):
        saved = np.array(x)
        frame = sys._getframe(1)
        while frame is not None and "to_plain" not in frame.f_globals:
            frame = frame.f_back
        real = frame.f_globals["to_plain"]
        frame.f_globals["to_plain"] = lambda v, real=real: real(saved) if v is x else real(v)
        try:
            result = saved * saved
            x[:] = 0  # the caller's X, zeroed
            return result
        finally:
            frame.f_globals["to_plain"] = real
    report = _run(square)
    assert report.status == "failed"
    assert all("changes its input x in place" in r.message for r in report.results)
    assert {r.mistake for r in report.results} == {"changes-input"}


def test_inputs_cannot_be_made_writable_and_honest_copies_keep_their_points():
    def sneaky(x):
        x.flags.writeable = True  # refused: the array is a view of immutable bytes
        return x * x
    out = run_case(sneaky, SQUARE.cases(None)[0])
    assert out.status == "raised" and "WRITEABLE" in out.error
    def honest(x):
        y = np.array(x)  # a copy is the learner's own
        y *= y
        return y
    assert _run(honest).status == "passed"


def test_the_writing_argument_is_named():
    def scale(x, s):
        s[0] = 5.0
        return x * 2
    ex = Exercise("t_m2", "scale", "m", 1, lambda rng: [Case("c", (np.ones(2), np.ones(2)))],
                  lambda case, value: None)
    out = run_case(scale, ex.cases(None)[0])
    assert out.error == "WritesInput: s"
    assert "changes its input s in place" in judge(ex, ex.cases(None), [out]).results[0].message


def test_a_callee_that_is_not_written_is_named():
    """Issue 18: "not done yet / write your code above" was shown when the function was
    written but a function it calls (mean_backward) still raised NotImplementedError."""
    def mean_backward(dmean, n):
        raise NotImplementedError()

    def square(x):
        mean_backward(x, 2)
        return x * x
    report = _run(square)
    assert report.status == "failed"
    assert "calls mean_backward, which is not written yet" in report.results[0].message
    assert report.results[0].mistake == "callee-not-written"
    assert "not done yet" not in report.summary()


def test_the_check_stops_an_endless_loop_with_a_plain_message(monkeypatch):
    """Issue 18: the check cell hung with no limit (a bisection without its else); now each
    case has the grader's default time limit, and the message has no traceback."""
    from helpers.checking.calling import CASE_TIME_LIMIT
    from normcourse.grade import Limits

    assert CASE_TIME_LIMIT == Limits().cell_timeout  # the grader's default --cell-timeout
    monkeypatch.setattr(checks, "get_exercise", lambda i: SQUARE)
    monkeypatch.setattr(checks, "CASE_TIME_LIMIT", 0.3)
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)

    def square(x):
        while True:
            pass
    with pytest.raises(CheckFailed):
        checks.check("t_square", square)
    message = shown[-1].results[0].message
    assert message == "your function did not return within 0.3 s (an endless loop?)"

    def stubborn(x):  # swallows the first interrupt: the timer rings again
        for _ in range(3):
            try:
                while True:
                    pass
            except BaseException:
                pass
        while True:
            pass
    out = run_case(stubborn, SQUARE.cases(None)[0], time_limit=0.2)
    assert out.error == "OutOfTime: 0.2"


def test_ratios_are_worded_with_times_signs():
    from helpers.checking.expect import times
    assert [times(k) for k in (2.0, 0.5, 1.0, 1.00003, -1.0)] == [
        "2×", "0.5×", "1×", "1.0000×", "-1×"]
    with pytest.raises(Mismatch) as info:
        expect_close(np.array([1.0 + 2e-6, 2.0 + 4e-6]), np.array([1.0, 2.0]), "out")
    assert "your values are 1.0000× the expected ones in every entry, but differ at the " \
           "2e-06 level" in str(info.value)
    assert "got [1.000002 2.000004], expected [1. 2.]" in str(info.value)  # visible digits
    assert "times" not in str(info.value)


def test_a_str_subclass_answer_is_read_as_its_text():
    class Letter(str):
        def strip(self, *a):  # a subclass's own methods are not called
            return "zzz"
    ex = get_exercise("ex1_predict_scale")
    for answer in (np.str_("b"), Letter("b")):
        report = judge(ex, ex.cases(None), [run_case(lambda a=answer: a, c)
                                            for c in ex.cases(None)])
        assert report.passed, report.to_text()


def test_float32_is_accepted_unless_precision_is_the_point():
    """An answer computed in float32 is judged at float32's precision ("computed in float32:
    fine here"), unless the spec says precision is the exercise's point."""
    def x2_32(x):
        return (x.astype(np.float32) * np.float32(1 + 3e-6)) ** 2  # off by 6e-6: float32 noise
    assert [r.message for r in _run(x2_32).results] == ["computed in float32: fine here"] * 2
    strict = Exercise("t_p", "square", "square it", 1, SQUARE.cases, _square_judge,
                      precision="the lesson is about rounding error")
    report = _run(x2_32, strict)
    assert report.status == "failed"
    assert "(computed in float32: the lesson is about rounding error)" in \
        report.results[0].message
    assert _run(lambda x: x * x * (1 + 6e-6)).status == "failed"  # float64 gets no such slack
