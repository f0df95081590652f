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
    assert "changed its input x in place" in report.results[0].message


def test_wrong_value_says_how_far_off():
    report = _run(lambda x: 2 * x**2)
    assert "2 times the expected value" in report.results[0].message
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
    assert len(concept) >= 7
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
        assert (ex.points > 0 or ex.kind == "prediction") and ex.hint  # predictions: 0
    with pytest.raises(KeyError, match="no exercise called"):
        get_exercise("nope")


def test_common_errors_get_a_pointer():
    def answer():
        return b  # noqa: F821 - the learner forgot the quotes
    ex = Exercise("t_q", "answer", "q", 1, lambda rng: [Case("your answer")],
                  choice_judge("t_q", "abcd", answer_digest("t_q", "b")))
    report = judge(ex, ex.cases(None), [run_case(answer, c) for c in ex.cases(None)])
    assert "put it in quotes" in report.results[0].message


def test_mutation_message_names_the_changed_argument():
    def scale(x, s):
        s *= 2
        return x * s
    ex = Exercise("t_m", "scale", "m", 1, lambda rng: [Case("c", (np.ones(2), np.ones(2)))],
                  lambda case, value: None)
    report = judge(ex, ex.cases(None), [run_case(scale, c) for c in ex.cases(None)])
    assert "changed its input s in place" in report.results[0].message
    assert "`s -= ...`" in report.results[0].message


def test_mutation_is_judged_from_the_copies_sent_back():
    """The outcome carries the inputs after the call; the judging process compares them."""
    def grad(x):
        x += 1  # changes the caller's array
        return x * 0 + np.array([1.0, 4.0])
    case = SQUARE.cases(None)[0]
    out = run_case(grad, case)
    np.testing.assert_array_equal(out.inputs_after[0], [2.0, 3.0])
    assert "changed its input x in place" in judge(SQUARE, [case], [out]).results[0].message
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
    assert to_plain(np.float32(0.5)) == 0.5 and type(to_plain(np.float32(0.5))) is float
    deep = []
    for _ in range(100_000):
        deep = [deep]
    assert "nested more than" in to_plain(deep).description
    assert "larger than" in to_plain(np.zeros(3_000_000)).description
    assert to_plain(np.array(["a"])).description.startswith("an array of dtype")


def test_each_failed_run_of_a_check_shows_the_next_hint_tier(monkeypatch):
    tiered = Exercise("t_tier", "square", "square it", 1, SQUARE.cases, _square_judge,
                      hint=("nudge: think of a product", "formula: x·x", "code: x * x"))
    monkeypatch.setattr(checks, "get_exercise", lambda i: tiered)
    monkeypatch.setattr(checks, "FAILED_RUNS", {})
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    for expected in ("Hint 1 of 3 (run this cell again", "Hint 2 of 3", "Hint 3 of 3: code",
                     "Hint 3 of 3: code"):
        with pytest.raises(CheckFailed):
            checks.check("t_tier", lambda x: x)
        assert expected in shown[-1].to_text(), shown[-1].to_text()
        assert "x²" in shown[-1].results[0].message  # the case's own message stays
    # a report judged elsewhere (the grader) shows the first tier, the nudge
    graded = judge(tiered, SQUARE.cases(None), [run_case(lambda x: x, c)
                                                for c in SQUARE.cases(None)])
    assert "Hint 1 of 3 (run this cell again after your next try" in graded.to_text()
    assert graded.hint == "nudge: think of a product"
