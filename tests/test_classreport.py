"""normcourse report (issue 21): a synthetic class with known mistake shares, exactly shown.

The class is graded by the grader's own code in this process (the same cases, judge, result
and JSON writer as ``normcourse grade``; only the kernel is left out, see test_shards.py
for a class graded with kernels): lesson 1's gradient written by 20 students, 10 right, 6
with the corpus's named mistake (the factor 2 forgotten), 3 with the wrong sign, 1 that
raises with a hostile message; lesson 6's first prediction made by 20 students in known
shares; two files that could not be graded, with hostile errors.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from helpers.checking.calling import run_case
from helpers.checking.verdict import judge
from helpers.exercises import get_exercise
from normcourse import classreport
from normcourse.cli import main
from normcourse.grading.report import to_json
from normcourse.grading.results import SubmissionResult
from normcourse.grading.results import exercise_result as _exercise_result

sys.path.insert(0, str(Path(__file__).parent / "grading_corpus"))
import corpus  # noqa: E402

HOSTILE = '<img src="http://example.com/x.png"><script>fetch("http://example.com")</script>'
WRONG_SIGN = '''def mse_gradient(X, y, w, b):
    r = y - X @ w - b
    return 2 * X.T @ r / len(y), 2 * float(r.mean())
'''
RAISES = f'''def mse_gradient(X, y, w, b):
    raise ValueError({HOSTILE!r} * 50)
'''
GRADIENTS = [(corpus.GOOD_GRADIENT, 10), (corpus.WRONG_GRADIENT, 6), (WRONG_SIGN, 3), (RAISES, 1)]
PREDICTIONS = [("a", 5), ("b", 3), ("c", 9), ("d", 0), (HOSTILE, 2), ("b ", 1)]


def _fn(source: str):
    namespace = {"np": np}
    exec(source, namespace)
    return namespace["mse_gradient"]


def _graded(path: str, lesson: str, ex_id: str, fn) -> SubmissionResult:
    ex = get_exercise(ex_id)
    cases = ex.cases(np.random.default_rng(3))
    outcomes = [run_case(fn, c) for c in cases]
    res = _exercise_result(ex, judge(ex, cases, outcomes), outcomes)
    return SubmissionResult(path, lesson, True, score=res.points, max_score=ex.points,
                            exercises=[res], seconds=2.0, seed=3, sandboxed=True)


def write_class(folder: Path) -> list[str]:
    """The synthetic class's two grades files in ``folder``."""
    results, k = [], 0
    for source, count in GRADIENTS:
        for _ in range(count):
            k += 1
            results.append(_graded(f"class/alice{k:02d}/01_feature_scale.ipynb",
                                   "01_feature_scale", "ex1_gradient", _fn(source)))
    (folder / "lesson1.json").write_text(to_json(results), encoding="utf-8")
    results = []
    for letter, count in PREDICTIONS:
        for _ in range(count):
            k += 1
            results.append(_graded(f"class/bob{k:02d}/06.ipynb", "06_modern_normalization",
                                   "ex6_predict_depth", lambda letter=letter: letter))
    results += [SubmissionResult(f"class/{HOSTILE}.ipynb", error=f"not JSON {HOSTILE}",
                                 seconds=0.5),
                SubmissionResult("class/zed/empty.ipynb", error="empty file", seconds=0.5)]
    (folder / "lesson6.json").write_text(to_json(results), encoding="utf-8")
    return [str(folder / "lesson1.json"), str(folder / "lesson6.json")]


@pytest.fixture(scope="module")
def grade_files(tmp_path_factory):
    return write_class(tmp_path_factory.mktemp("class"))


def test_summary_has_the_class_proportions(grade_files):
    s = classreport.summarize(classreport.load(grade_files))
    assert (s["submissions"], s["graded"]) == (42, 40)
    les1, les6 = s["lessons"]
    (grad,) = les1["exercises"]
    assert (grad["passed"], grad["n"]) == (10, 20)
    ranked = [(m["id"], m["count"], m["share"]) for m in grad["mistakes"]]
    assert ranked == [("ex1_gradient/missing-factor-2", 6, 0.3),
                      ("ex1_gradient/wrong-sign", 3, 0.15), ("ex1_gradient/other", 1, 0.05)]
    assert les1["scores"] == [0.0] * 10 + [2.0] * 10
    pred = les6["exercises"][0]["prediction"]
    assert [(o["letter"], o["count"], o["share"]) for o in pred["options"]] == [
        ("a", 5, 0.25), ("b", 4, 0.2), ("c", 9, 0.45), ("d", 0, 0.0)]  # "b " is b
    assert [o["letter"] for o in pred["options"] if o["observed"]] == ["c"]
    assert pred["none"] == 2
    assert len(s["ungradable"]) == 2 and s["time"]["total"] == pytest.approx(81.0)


def test_markdown_shows_exact_shares_and_escapes(grade_files, tmp_path):
    out = tmp_path / "r.md"
    assert main(["report", *grade_files, "--format", "md", "--out", str(out)]) == 0
    md = out.read_text(encoding="utf-8")
    assert "| ex1\\_gradient/missing\\-factor\\-2 | 6 of 20 | 30.0 % |" in md
    assert "| ex1\\_gradient/wrong\\-sign | 3 of 20 | 15.0 % |" in md
    assert "| c: post\\-LN" in md and "| 9 of 20 | 45.0 % | observed |" in md
    assert not re.search(r"(?<!\\)<", md) and "\\<script\\>" in md  # shown as typed
    assert "alice" not in md and "<student>" not in md
    assert max(len(line) for line in md.splitlines()) < 2 * classreport.CAP + 200


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.srcs = set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.srcs += [v for k, v in attrs if k in ("src", "href")]


#: a 1x1 PNG standing for the figures (matplotlib's are drawn in the browser test,
#: tests/browser/test_class_report.py, which checks that each one loads)
DOT = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def test_html_is_self_contained_and_escaped(grade_files):
    summary = classreport.summarize(classreport.load(grade_files))
    names = ["lesson-0", "lesson-1"]
    page = classreport.page(summary, {n: (DOT, f"{n} <alt>") for n in names})
    parsed = _Tags()
    parsed.feed(page)
    assert parsed.tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3",
                           "p", "img", "table", "tr", "th", "td", "span", "ul", "li"}
    assert parsed.srcs and all(s.startswith("data:image/png;base64,") for s in parsed.srcs)
    assert len(parsed.srcs) == len(names)
    assert "<td>6 of 20</td><td>30.0 %</td>" in page and "<td>9 of 20</td><td>45.0 %</td>" in page
    assert "&lt;script&gt;" in page and "alice" not in page  # anonymised, escaped
    assert "default-src 'none'" in page  # the page itself may fetch nothing


def test_a_bad_grades_file_is_named(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert main(["report", str(bad)]) == 2
    assert "bad.json: not a grades file" in capsys.readouterr().err


def test_example_messages_are_anonymised():
    said = classreport.anonymised("NameError: name 'alice07' is not defined in "
                                  "/home/t/class/alice07/01.ipynb", "/home/t/class/alice07/01.ipynb")
    assert "alice07" not in said and "NameError" in said
