"""normcourse report (issue 21): a synthetic class with known mistake shares, exactly shown.

The class is graded by the grader's own code in this process (the same cases, judge, result
and JSON writer as ``normcourse grade``; only the kernel is left out, see test_shards.py
for a class graded with kernels): lesson 1's gradient written by 20 students, 10 right, 6
with the corpus's named mistake (the factor 2 forgotten), 3 with the wrong sign, 1 that
raises with a hostile message; lesson 6's first prediction made by 20 students in known
shares; two files that could not be graded, with hostile errors. Lesson 2's written answer
(ex2_interpret_rich) by 16 students (:func:`write_written_class`): 4 left it empty, 2
wrote too little, the rest wrote known texts, some hostile (markup, a Markdown image, a
web address, 1 MB of text as an edited grades file could hold).
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
from normcourse import classreport, classtext
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


# --------------------------------------------------------------------------- written answers

FILLER = " the spread of the other features stays as it was measured before"
WRITTEN = [  # (text, how many students wrote it)
    ("", 3), ("   ", 1),  # empty: not answered
    ("too short", 2),  # recorded in the JSON, not passed: still an answer
    ("The rich people shift the mean and inflate the standard deviation so" + FILLER, 5),
    ("<script>fetch('http://example.com/steal')</script> is what I think" + FILLER, 1),
    ("![x](http://evil.example/x.png) [click](http://evil.example) www.evil.example "
     "mail me at eve@evil.example" + FILLER, 1),
    ("I am carol13 and my z-scores all shrink" + FILLER, 1),  # class/carol13/: its own folder
    ("<img src=x onerror=alert(1)> | table | ` code ` **bold**" + FILLER, 1),
]
HUGE = "lorem ipsum " * 87382  # 1 MB (1,048,584 characters)


def write_written_class(folder: Path) -> list[str]:
    """Lesson 2's written answer by 16 students (WRITTEN), plus one grades file edited to
    hold 1 MB of text (the grader keeps 3000 characters; an edited file may hold more)."""
    ex_id, results = "ex2_interpret_rich", []
    texts = [t for t, count in WRITTEN for _ in range(count)]
    for k, t in enumerate(texts):
        results.append(_graded(f"class/carol{k:02d}/02_standardization.ipynb",
                               "02_standardization", ex_id, lambda t=t: t))
    huge = _graded("class/carol99/02_standardization.ipynb", "02_standardization", ex_id,
                   lambda: "a few words")
    huge.exercises[0].text = HUGE
    results.append(huge)
    (folder / "written.json").write_text(to_json(results), encoding="utf-8")
    return [str(folder / "written.json")]


@pytest.fixture(scope="module")
def written_files(tmp_path_factory):
    return write_written_class(tmp_path_factory.mktemp("written"))


def test_written_summary_has_the_exact_share_and_median(written_files):
    (les,) = classreport.summarize(classreport.load(written_files))["lessons"]
    (x,) = les["exercises"]
    w = x["written"]
    assert x["n"] == 16 and (w["answered"], w["share"]) == (12, 0.75)
    # words: 2, 2 (too short), 5 x 24, 16, 19, 20, 22 (the others), 500 (1 MB, read to the
    # 3000 characters the grader keeps: "lorem ipsum " * 250)
    assert w["median_words"] == (22 + 24) / 2
    assert len(w["examples"]) == classtext.EXAMPLES
    assert len(set(w["examples"])) == len(w["examples"])  # each text once
    again = classreport.summarize(classreport.load(written_files[::-1] * 2))
    assert again["lessons"][0]["exercises"][0]["written"]["examples"] == w["examples"]


def test_other_exercises_have_no_written_section(grade_files):
    s = classreport.summarize(classreport.load(grade_files))
    assert all(x["written"] is None for les in s["lessons"] for x in les["exercises"])


def _all_examples_report(written_files, monkeypatch, fmt):
    monkeypatch.setattr(classtext, "EXAMPLES", 100)  # every text shown, hostile ones too
    return classreport.render(written_files, fmt)


def test_written_markdown_escapes_every_text(written_files, monkeypatch):
    md = _all_examples_report(written_files, monkeypatch, "md")
    assert "### Written answers to ex2\\_interpret\\_rich" in md
    assert "12 of 16 answered (75.0 %); median 23 words per answer." in md
    examples = md.split("Examples (anonymised")[1].split("\n")[2:]
    examples = [line[2:] for line in examples if line.startswith("- ")]
    assert len(examples) == 7  # every text written (12 answers, 7 different ones)
    for line in examples:  # what is left once every backslash escape is taken out
        assert not set(re.sub(r"\\.", "", line)) & set("<>[]()!`*_|.@:#&"), line
    assert "\\<script\\>" in md and "\\!\\[x\\]\\(http\\:" in md
    assert "carol" not in md and "\\<student\\> and my z\\-scores" in md
    assert len(md) < 20_000 and max(map(len, md.splitlines())) < 2 * classtext.EXAMPLE_CAP


def test_written_markdown_renders_no_link_image_or_markup(written_files, monkeypatch):
    mistune = pytest.importorskip("mistune")  # nbconvert's Markdown (Jupyter's own)
    md = _all_examples_report(written_files, monkeypatch, "md")
    rendered = mistune.create_markdown(escape=False, plugins=["url", "table"])(md)
    assert "<a " not in rendered and "<img" not in rendered and "<script" not in rendered
    assert "&lt;script&gt;" in rendered and "![x](http://evil.example/x.png)" in rendered


def test_written_html_escapes_every_text_and_fetches_nothing(written_files, monkeypatch):
    page = _all_examples_report(written_files, monkeypatch, "html")
    parsed = _Tags()
    parsed.feed(page)
    assert parsed.tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3",
                           "p", "img", "table", "tr", "th", "td", "span", "ul", "li"}
    assert all(s.startswith("data:image/png;base64,") for s in parsed.srcs)
    assert "12 of 16 answered (75.0 %); median 23 words per answer." in page
    assert "<li>&lt;script&gt;fetch(&#x27;http://example.com/steal&#x27;)&lt;/script&gt;" in page
    assert "<li>&lt;img src=x onerror=alert(1)&gt;" in page and "carol" not in page
    assert f"<li>{HUGE[:classtext.EXAMPLE_CAP - 1]}…</li>" in page  # 1 MB cut to 300
    assert max(len(li) for li in re.findall(r"<li>(.*?)</li>", page)) < 6 * classtext.EXAMPLE_CAP
    assert len(page) < 200_000 and "default-src 'none'" in page
