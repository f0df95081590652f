"""Mistake ids (issue 21): unique, well formed, and the same as the committed list, so that
renaming a mistake in a judge is a visible change in tests/data/mistake_ids.txt."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

from helpers.checking.calling import Outcome
from helpers.checking.verdict import CaseResult, judge
from helpers.exercises import evaluate, get_exercise
from normcourse.grading import mistakes

sys.path.insert(0, str(Path(__file__).parent))
import mistake_catalogue  # noqa: E402

LIST = Path(__file__).parent / "data" / "mistake_ids.txt"
FORM = re.compile(r"^ex\d+_[a-z0-9_]+/[a-z0-9]+(-[a-z0-9]+)*$")


def test_committed_list_is_what_the_judges_declare():
    committed = LIST.read_text(encoding="utf-8").splitlines()
    declared = mistake_catalogue.declared_ids()
    assert len(committed) == len(set(committed)), "an id is listed twice"
    added, removed = sorted(set(declared) - set(committed)), sorted(set(committed) - set(declared))
    assert not added and not removed, (
        f"mistake ids changed (a renamed id breaks reports across years): new {added}, gone "
        f"{removed}. If intended: python tests/mistake_catalogue.py > tests/data/mistake_ids.txt")
    assert committed == sorted(committed)


def test_ids_are_well_formed_and_cover_known_mistakes():
    ids = LIST.read_text(encoding="utf-8").splitlines()
    assert [i for i in ids if not FORM.match(i)] == []
    for known in ("ex2_zscore_fit/sample-std", "ex3_bn_eval/eps-outside-sqrt",
                  "ex5_fold/transposed", "ex3_bn_backward/divides-by-n-twice",
                  "ex1_gradient/missing-factor-2", "ex3_bn_eval/other",
                  "ex1_gradient/changes-input"):
        assert known in ids


def test_the_reader_refuses_an_id_it_cannot_read(monkeypatch):
    source = textwrap.dedent('''
        def judge(case, value):
            raise Mismatch("wrong", pick_an_id())
        ''')
    namespace = {"__name__": "helpers.exercises.fake"}
    exec(compile(source, "<fake>", "exec"), namespace)
    monkeypatch.setattr(mistake_catalogue, "_tree", lambda fn: __import__("ast").parse(source))
    with pytest.raises(mistake_catalogue.Unreadable, match="pick_an_id"):
        mistake_catalogue._ids_in(namespace["judge"], [])


def test_a_judged_mistake_gets_its_listed_id():
    ids = set(LIST.read_text(encoding="utf-8").splitlines())

    def eps_outside(X, gamma, beta, running_mean, running_var, eps=1e-5):
        return gamma * (X - running_mean) / (running_var ** 0.5 + eps) + beta

    report = evaluate("ex3_bn_eval", eps_outside)
    rows = mistakes.case_rows("ex3_bn_eval", report.results)
    failed = {r["mistake"] for r in rows if not r["passed"]}
    assert "ex3_bn_eval/eps-outside-sqrt" in failed and failed <= ids
    assert all(r["mistake"] == "" for r in rows if r["passed"])


def test_unnamed_failure_is_other_and_not_done_has_none():
    assert mistakes.mistake_id("ex1_gradient", CaseResult("c", False, "way off")) == \
        "ex1_gradient/other"
    assert mistakes.mistake_id("ex1_gradient", CaseResult("c", False, "x", "wrong-sign")) == \
        "ex1_gradient/wrong-sign"
    assert mistakes.mistake_id("ex1_gradient", CaseResult("c", True, "")) == ""
    not_done = judge(get_exercise("ex1_gradient"), get_exercise("ex1_gradient").cases(
        __import__("numpy").random.default_rng(0))[:1], [Outcome("not_done")])
    assert mistakes.case_rows("ex1_gradient", not_done.results)[0]["mistake"] == ""


@pytest.mark.parametrize("value, expected", [(" (C) ", "c"), ("b", "b"), ("e", ""), (3, "")])
def test_prediction_choice(value, expected):
    spec = get_exercise("ex6_predict_depth")
    assert mistakes.choice(spec, [Outcome("returned", value)]) == expected
    assert mistakes.choice(get_exercise("ex1_gradient"), [Outcome("returned", "b")]) == ""


def test_each_prediction_records_what_the_lesson_measures():
    """The observed option of each prediction is the one the solution notebook returns (its
    reveal cell prints the measurement that bears it out)."""
    import json

    from helpers.exercises import LESSONS

    root = Path(__file__).resolve().parents[1] / "solutions"
    for lesson, exercises in LESSONS.items():
        preds = [ex for ex in exercises if ex.kind == "prediction"]
        if not preds:
            continue
        cells = json.loads((root / f"{lesson}.ipynb").read_text(encoding="utf-8"))["cells"]
        sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        for ex in preds:
            body = next(s for s in sources if s.startswith(f"def {ex.function}("))
            letter = re.search(r'return "([a-d])"', body).group(1)
            assert ex.observed_letter() == letter, ex.id
