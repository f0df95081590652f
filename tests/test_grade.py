"""Unit and command-line tests of ``normcourse grade`` (reading files, formats, exit status).

The adversarial corpus is graded in test_grade_corpus.py; nbgrader in test_nbgrader.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).parent / "grading_corpus"))
import corpus  # noqa: E402

from helpers.checking import calling  # noqa: E402
from helpers.checking.calling import Case  # noqa: E402
from helpers.exercises import lesson_exercises  # noqa: E402
from normcourse.grade import ExerciseResult, SubmissionResult  # noqa: E402
from normcourse.grading import classroom, code, inkernel, load, probe, report, wire  # noqa: E402
from normcourse.grading.exercise import selected as _selected  # noqa: E402

NORMCOURSE = str(Path(sys.executable).with_name("normcourse"))

GRADES_SCHEMA = {
    "type": "object", "required": ["format", "version", "submissions"],
    "properties": {
        "format": {"const": "normcourse-grades"}, "version": {"const": 1},
        "submissions": {"type": "array", "items": {
            "type": "object",
            "required": ["submission", "lesson", "graded", "error", "score", "max_score",
                         "exercises", "notes", "seconds", "seed"],
            "properties": {
                "submission": {"type": "string"}, "lesson": {"type": ["string", "null"]},
                "graded": {"type": "boolean"}, "error": {"type": "string"},
                "score": {"type": "number", "minimum": 0},
                "max_score": {"type": "number", "minimum": 0},
                "notes": {"type": "array", "items": {"type": "string"}},
                "seed": {"type": ["integer", "null"]},
                "exercises": {"type": "array", "items": {
                    "type": "object",
                    "required": ["id", "title", "function", "points", "max_points", "status",
                                 "summary", "cases", "hint"],
                    "properties": {
                        "status": {"enum": ["passed", "failed", "not_done", "error"]},
                        "points": {"type": "number"}, "max_points": {"type": "number"},
                        "cases": {"type": "array", "items": {
                            "type": "object", "required": ["name", "passed", "message", "mistake"],
                            "properties": {"mistake": {
                                "pattern": r"^$|^ex\d+_[a-z0-9_]+/[a-z0-9-]+$"}}}},
                        "choice": {"enum": ["", "a", "b", "c", "d"]}}}}}}}}}

#: Gradescope's results.json (fields from Gradescope's autograder specification)
GRADESCOPE_SCHEMA = {
    "type": "object", "required": ["tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"}, "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "stdout_visibility": {"enum": ["hidden", "after_due_date", "after_published",
                                       "visible"]},
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object", "required": ["name", "score", "max_score"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"}, "score": {"type": "number"},
                "max_score": {"type": "number"}, "status": {"enum": ["passed", "failed"]},
                "output": {"type": "string"},
                "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
                "visibility": {"enum": ["hidden", "after_due_date", "after_published",
                                        "visible"]},
                "number": {"type": "string"}, "tags": {"type": "array"}}}}}}


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize("case", [c for c in corpus.CASES if c.score is None],
                         ids=lambda c: c.name)
def test_bad_files_get_one_clear_error(case, tmp_path):
    path = tmp_path / case.file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(case.build())
    with pytest.raises(load.SubmissionError, match=re.escape(case.error)):
        sub = load.load(path, case.options.get("lesson"))
        _selected(sub.lesson, case.options.get("only"))


@pytest.mark.parametrize("name, lesson", [
    ("03_batch_norm.ipynb", "03_batch_norm"), ("03_batch_norm (1).ipynb", "03_batch_norm"),
    ("01-alice.ipynb", "01_feature_scale"), ("00_start_here.v2.ipynb", "00_start_here"),
    ("alice.ipynb", None), ("submission.ipynb", None), ("2023_hw.ipynb", None),
    ("007.ipynb", None)])
def test_the_lesson_a_file_name_claims(name, lesson):
    assert load.lesson_named(name) == lesson


def test_lesson_from_metadata_and_from_ids(tmp_path):
    lesson = corpus.lesson_notebook()
    assert load.identify(json.loads(corpus._dump(lesson))) == corpus.LESSON
    solution = json.loads(corpus._dump(corpus.solution_notebook()))
    assert "normcourse" not in solution["metadata"]  # solutions are found by their ids
    assert load.identify(solution) == corpus.LESSON


def test_lesson_option_does_not_override_foreign_ids():
    foreign = json.loads(corpus._foreign())
    with pytest.raises(load.SubmissionError, match="missing"):
        load.identify(foreign, lesson=corpus.LESSON)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(load.SubmissionError, match="not found"):
        load.load(tmp_path / "nope.ipynb")
    with pytest.raises(load.SubmissionError, match="folder"):
        load.load(tmp_path)


# --------------------------------------------------------------------------- probe


def test_snippet_sends_inputs_but_never_the_expected_values():
    secret = "the-stored-answer-4242"
    cases = [Case("c", (1.0,), {"k": 2}, expected=secret)]
    code = probe.snippet("f", cases, probe.new_nonce(), 7, "/nowhere/code.bin")
    assert secret not in code
    assert "from helpers" not in code and "import helpers" not in code  # self-contained


def test_the_kernel_runs_the_learner_checks_own_module_sent_whole():
    """What runs in the grading kernel is calling.py itself (the learner's check uses it),
    with wire.py, inkernel.py and the learner's own-work guard: whole files, so the two
    paths cannot drift apart."""
    from helpers.answers import guard

    sources = dict(probe._sources())
    for module in (calling, wire, inkernel, guard):
        name = module.__name__.rsplit(".", 1)[-1]
        assert sources[name] == Path(module.__file__).read_text(encoding="utf-8")


def _reply(nonce, obj) -> bytes:
    return inkernel.frame(nonce, wire.encode(obj))


GOOD = {"status": "ok", "outcomes": [{"status": "returned", "value": 1.5, "error": "",
                                      "inputs_after": [], "arg_names": []}]}


def test_parse_reply_takes_exactly_one_reply_to_this_request():
    nonce = probe.new_nonce()
    out = probe.parse_reply(_reply(nonce, GOOD), nonce, 1)
    assert out[0].status == "returned" and out[0].value == 1.5
    with pytest.raises(probe.ProbeError, match="no reply"):
        probe.parse_reply(b"", nonce, 1)
    with pytest.raises(probe.ProbeError, match="does not belong to this request"):
        probe.parse_reply(_reply("0" * 32, GOOD), nonce, 1)
    with pytest.raises(probe.ProbeError, match="does not belong to this request"):
        probe.parse_reply(_reply(nonce, GOOD) + _reply("0" * 32, GOOD), nonce, 1)
    with pytest.raises(probe.ProbeError, match="2 replies arrived"):  # a forged one too
        probe.parse_reply(_reply(nonce, GOOD) * 2, nonce, 1)
    with pytest.raises(probe.ProbeError, match="not one outcome per test case"):
        probe.parse_reply(_reply(nonce, GOOD), nonce, 2)


@pytest.mark.parametrize("payload", [
    b'{"py/object": "os.system"}',  # a pickle-like payload is refused
    b'{"__dict__": {"status": "ok", "outcomes": [{"__int__": "12x"}]}}',
    b'{"__dict__": {"status": "ok", "outcomes": [{"__complex__": ["1", "j"]}]}}',
    b'{"__dict__": {"status": "ok", "outcomes": [{"__ndarray__": ["float64", [1], "@@@"]}]}}',
    b'{"__dict__": {"status": "ok", "outcomes": [{"__ndarray__": ["float64", [1], "AA"]}]}}',
    b'\xff\xfe not utf-8', b"[" * 100_000, b'{"__dict__": {"status": {"__int__": "x"}}}',
])
def test_an_unreadable_reply_fails_that_exercise_with_a_message_that_says_so(payload):
    nonce = probe.new_nonce()
    data = f"NCREPLY {nonce} {len(payload):012d}\n".encode() + payload
    with pytest.raises(probe.ProbeError, match="reply from your notebook was unreadable"):
        probe.parse_reply(data, nonce, 1)


@pytest.mark.parametrize("data", [b"garbage", b"NCREPLY abc 000000000099\n{}", b"NCREPLY x"])
def test_a_broken_frame_is_unreadable(data):
    with pytest.raises(probe.ProbeError, match="unreadable"):
        probe.parse_reply(data, "abc", 1)


def test_an_outcome_whose_fields_are_not_plain_is_unreadable_not_a_crash():
    nonce = probe.new_nonce()
    bad = {"status": "ok", "outcomes": [{"status": "returned", "value": 1.0, "error": "",
                                         "inputs_after": 5, "arg_names": []}]}
    assert probe.parse_reply(_reply(nonce, bad), nonce, 1)[0].status == "unreadable"


# --------------------------------------------------------------------------- formats


def _results():
    ok = SubmissionResult("alice/01_feature_scale.ipynb", "01_feature_scale", True, "", 2, 3,
                          [ExerciseResult("ex1_gradient", "Exercise 1", "mse_gradient", 2, 2,
                                          "passed", "✓ ex1_gradient: correct.",
                                          [{"name": "a | b", "passed": True, "message": "",
                                            "mistake": ""}],
                                          "hint 1"),
                           ExerciseResult("ex1_max_lr", "Exercise 3",
                                          "max_stable_learning_rate", 0, 1, "failed",
                                          "✗ ex1_max_lr: 0 of 1 test cases pass.",
                                          [{"name": "your answer", "passed": False,
                                            "message": "'a' is not right.",
                                            "mistake": "ex1_max_lr/other"}], "hint 3")],
                          ["code cell 4: stopped after 5 s"], 1.5, 7)
    ok.sandboxed = True  # graded in its sandbox (without, the table opens with a warning)
    bad = SubmissionResult("bob/01_feature_scale.ipynb", error="empty file")
    return [ok, bad]


def test_json_matches_its_schema():
    data = json.loads(report.to_json(_results()))
    jsonschema.validate(data, GRADES_SCHEMA)


def test_gradescope_matches_its_schema():
    data = json.loads(report.gradescope(_results()))
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    assert data["score"] == 2
    assert {t["status"] for t in data["tests"]} == {"passed", "failed"}
    assert "could not be graded: empty file" in data["output"]


def test_csv_is_one_row_per_submission():
    rows = list(csv.DictReader(io.StringIO(report.to_csv(_results()))))
    assert [r["submission"] for r in rows] == ["alice/01_feature_scale.ipynb",
                                               "bob/01_feature_scale.ipynb"]
    assert rows[0]["ex1_gradient"] == "2" and rows[0]["score"] == "2"
    assert rows[1]["status"] == "error" and rows[1]["error"] == "empty file"


def test_feedback_lists_every_exercise_and_names_do_not_collide(tmp_path):
    paths = report.write_feedback(_results(), tmp_path)
    assert len({p.name for p in paths}) == 2
    text = paths[0].read_text()
    assert "Exercise 1" in text and "Exercise 3" in text and "hint 3" in text
    assert "a \\| b" in text  # table cells escaped
    assert "could not be graded" in paths[1].read_text()


def _named(*names):
    ok, _ = _results()
    out = []
    for name in names:
        r = SubmissionResult(**{**ok.to_dict(), "exercises": ok.exercises})
        r.submission = name
        out.append(r)
    return out


EVIL = "alice\nbob  01_feature_scale  7 of 7\u202e=cmd|' C calc'!A0_*x*.ipynb"


def test_a_file_name_is_shown_safely_in_every_format(tmp_path):
    results = _named(EVIL, "=1+1.ipynb")
    table = report.table(results)
    assert "alice\\nbob" in table and "\\u202e" in table
    assert len(table.splitlines()) == 2 + 2 * 2 + 2  # header, 2 rows + a note each, footer
    rows = list(csv.reader(io.StringIO(report.to_csv(results))))
    assert len(rows) == 3 and rows[1][0].startswith("alice\\nbob")
    assert rows[2][0] == "'=1+1.ipynb"  # never a spreadsheet formula
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    md = report.feedback_markdown(results[0])
    title = md.splitlines()[0]  # one line, rendered as typed: alice\nbob ...
    assert title.startswith("# Feedback on alice") and "bob" in title and "\u202e" not in md
    assert "\\_\\*x\\*" in md.splitlines()[0]  # Markdown shown as typed
    data = json.loads(report.gradescope(results))
    assert "\u202e" not in json.dumps(data, ensure_ascii=False)
    assert json.loads(report.to_json(results))["submissions"][0]["submission"] == EVIL


def test_gradescope_test_names_are_unique_per_submission():
    results = _named("a/01_feature_scale.ipynb", "b/01_feature_scale.ipynb",
                     "b/01_feature_scale.ipynb")
    names = [t["name"] for t in json.loads(report.gradescope(results))["tests"]]
    assert len(names) == len(set(names)) == 3 * 2


def test_table_shows_errors_and_notes():
    text = report.table(_results())
    assert "ERROR" in text and "empty file" in text and "note: code cell 4" in text
    assert "1 graded, 1 could not be graded" in text


#: what a submission can put in an exception's message: a lone surrogate (no UTF-8 file can
#: hold it), a terminal escape, a right-to-left override, a fake heading and score line, a
#: remote image, HTML, a table cell break
HOSTILE = ("\ud800 boom\x1b[2J\u202e\n# Score: 100/100\n![](http://evil.example/p.png) "
           "<img src=x onerror=alert(1)> **bold** | cell")


def _hostile(text=HOSTILE):
    ok, bad = _results()
    ok.exercises[1].summary += " " + text
    ok.exercises[1].cases[0]["message"] = text
    ok.notes.append(f"code cell 5 raised ValueError: {text}")
    bad.error = text
    return [ok, bad]


def _no_raw_controls(text: str) -> None:
    text.encode("utf-8")  # every character can be written
    assert not {"\ud800", "\x1b", "\u202e"} & set(text)


def _render(markdown: str) -> str:
    """HTML from a Markdown renderer (mistune, raw HTML allowed, as Gradescope may)."""
    mistune = pytest.importorskip("mistune")
    return mistune.create_markdown(escape=False, plugins=["table", "url", "strikethrough"])(
        markdown)


def _shown_as_text(markdown: str, plain: str) -> None:
    """``markdown`` holds HOSTILE where ``plain`` (the same output) holds harmless words: it
    renders to the same elements, and HOSTILE is in its text as typed."""
    import html

    _no_raw_controls(markdown)
    rendered = _render(markdown)
    assert re.findall(r"<(\w+)", rendered) == re.findall(r"<(\w+)", _render(plain)), rendered
    text = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    assert "\\n# Score: 100/100\\n![](http://evil.example/p.png) " \
           "<img src=x onerror=alert(1)> **bold** | cell" in text, text


def test_every_format_shows_hostile_text_as_text(tmp_path):
    """Found by attack: ValueError("\\ud800") left the JSON and Gradescope files at 0 bytes,
    and a fake heading, score line and remote image appeared as such in Gradescope."""
    results = _hostile()
    data = json.loads(report.to_json(results))
    jsonschema.validate(data, GRADES_SCHEMA)
    _no_raw_controls(report.to_json(results))
    assert data["submissions"][1]["error"].startswith("\\ud800 boom\\x1b[2J\\u202e\n# Score")
    gradescope = report.gradescope(results)
    jsonschema.validate(json.loads(gradescope), GRADESCOPE_SCHEMA)
    outputs, plain = json.loads(gradescope), json.loads(report.gradescope(_hostile("words")))
    _shown_as_text(outputs["output"], plain["output"])
    _shown_as_text(outputs["tests"][1]["output"], plain["tests"][1]["output"])
    for r, p in zip(results, _hostile("words"), strict=True):
        _shown_as_text(report.feedback_markdown(r), report.feedback_markdown(p))
    _no_raw_controls(report.table(results))
    _no_raw_controls(report.to_csv(results))
    assert [p.name for p in report.write_feedback(results, tmp_path)] == [
        "alice__01_feature_scale.md", "bob__01_feature_scale.md"]


def test_an_output_file_is_the_old_one_or_the_whole_new_one(tmp_path):
    from normcourse.files import write_atomic

    target = tmp_path / "out" / "grades.json"
    write_atomic(target, "old\n")
    target.chmod(0o640)
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "new \ud800")
    assert target.read_text() == "old\n"
    write_atomic(target, "new ✓\n")
    assert target.read_text(encoding="utf-8") == "new ✓\n"
    assert target.stat().st_mode & 0o777 == 0o640  # its permissions are kept
    assert [p.name for p in target.parent.iterdir()] == ["grades.json"]  # no temporary left


# --------------------------------------------------------------------------- command line


@pytest.fixture(scope="module")
def small_batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch")
    for name in ("solution", "partial", "empty"):
        case = next(c for c in corpus.CASES if c.name == name)
        (folder / f"{name}.ipynb").write_bytes(case.build())
    return folder


def _grade(*args, cwd):
    return subprocess.run([NORMCOURSE, "grade", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_cli_formats_and_exit_status(small_batch, tmp_path):
    p = _grade("solution.ipynb", "partial.ipynb", "empty.ipynb", "--jobs", "2", "--format",
               "json", "--out", str(tmp_path / "g.json"), "--feedback", str(tmp_path / "fb"),
               cwd=small_batch)
    assert p.returncode == 1, p.stderr  # one file could not be graded
    data = json.loads((tmp_path / "g.json").read_text())
    jsonschema.validate(data, GRADES_SCHEMA)
    scores = {Path(s["submission"]).stem: s["score"] for s in data["submissions"]}
    assert scores == {"solution": corpus.MAX, "partial": 2, "empty": 0}
    fb = (tmp_path / "fb" / "partial.md").read_text()
    assert "### BEGIN SOLUTION" not in fb and "2 * X.T @ r" not in fb  # never the solution
    assert fb.count("## Exercise") == len(corpus.IDS)
    p = _grade("solution.ipynb", "--format", "gradescope", cwd=small_batch)
    assert p.returncode == 0, p.stderr
    jsonschema.validate(json.loads(p.stdout), GRADESCOPE_SCHEMA)
    p = _grade("partial.ipynb", "--exercise", "ex1_gradient", "--require-full",
               "--format", "csv", cwd=small_batch)
    assert p.returncode == 0, p.stderr
    assert "ex1_max_lr" not in p.stdout
    p = _grade("partial.ipynb", "--exercise", "ex1_max_lr", "--require-full", cwd=small_batch)
    assert p.returncode == 3
    assert "0/2" in p.stdout


RAISES_HOSTILE = f"""def mse_gradient(X, y, w, b):
    raise ValueError({HOSTILE!r})
"""


@pytest.mark.slow
def test_cli_one_hostile_message_breaks_no_output(small_batch, tmp_path):
    """Found by attack: a function raising ValueError("\\ud800") beside an honest 7/7 left the
    JSON and Gradescope files at 0 bytes, no feedback after it, and exit status 1."""
    (tmp_path / "hostile.ipynb").write_bytes(corpus._sol(
        lambda nb: corpus._answer(nb, "ex1_gradient", RAISES_HOSTILE))())
    (tmp_path / "solution.ipynb").write_bytes((small_batch / "solution.ipynb").read_bytes())
    for fmt in ("json", "gradescope"):
        out, fb = tmp_path / f"grades.{fmt}", tmp_path / f"feedback-{fmt}"
        p = _grade("hostile.ipynb", "solution.ipynb", "--jobs", "2", "--format", fmt,
                   "--out", str(out), "--feedback", str(fb), cwd=tmp_path)
        assert p.returncode == 0, p.stderr  # every submission was graded
        data = json.loads(out.read_text(encoding="utf-8"))
        if fmt == "json":
            jsonschema.validate(data, GRADES_SCHEMA)
            assert [s["score"] for s in data["submissions"]] == [corpus.MAX - 2, corpus.MAX]
        else:
            jsonschema.validate(data, GRADESCOPE_SCHEMA)
            assert data["score"] == 2 * corpus.MAX - 2
            _no_raw_controls(json.dumps(data, ensure_ascii=False))
        assert sorted(f.name for f in fb.iterdir()) == ["hostile.md", "solution.md"]
        text = (fb / "hostile.md").read_text(encoding="utf-8")
        _no_raw_controls(text)
        assert "\\# Score\\: 100/100" in text and "![](" not in text


def test_cli_exit_status_when_an_output_cannot_be_written(small_batch, tmp_path):
    """As docs/teachers.md says: 4 when an output file cannot be written (wins over 1), the
    other outputs still written; 1 when a file could not be graded."""
    (tmp_path / "blocker").write_text("a file where a folder should be")
    p = _grade("empty.ipynb", "--format", "json", "--out", str(tmp_path / "blocker" / "g.json"),
               "--feedback", str(tmp_path / "fb"), cwd=small_batch)
    assert p.returncode == 4, p.stderr
    assert "error: could not write the grades to" in p.stderr and "Traceback" not in p.stderr
    assert (tmp_path / "fb" / "empty.md").is_file()
    p = _grade("empty.ipynb", "--format", "json", "--out", str(tmp_path / "g.json"),
               cwd=small_batch)
    assert p.returncode == 1, p.stderr
    assert json.loads((tmp_path / "g.json").read_text())["submissions"][0]["graded"] is False


def test_cli_usage_errors(small_batch):
    p = _grade("solution.ipynb", "--exercise", "nope", cwd=small_batch)
    assert p.returncode == 2 and "unknown exercise" in p.stderr
    p = _grade("solution.ipynb", "--lesson", "09_nope", cwd=small_batch)
    assert p.returncode == 2 and "unknown lesson" in p.stderr


def test_cli_every_classroom_step_fails_on_another_lessons_notebook(tmp_path):
    """The start-here notebook renamed 03_batch_norm.ipynb: each step of the printed
    workflow exits non-zero (before: 0 of 0 graded, and --require-full accepted it)."""
    import shlex

    from normcourse.grading import modes

    mode = modes.choose("auto")  # the steps pass --require-sandbox: bwrap or a separate user
    if not mode.isolated:
        pytest.skip(f"needs an isolating mode (bwrap or a separate user): {mode.reason}")

    (tmp_path / "03_batch_norm.ipynb").write_bytes(corpus._dump(
        corpus.stub_notebook("00_start_here")))
    workflow = classroom.classroom_workflow("03_batch_norm", "pip install .")
    commands = re.findall(r"command: normcourse grade (.*)", workflow)
    assert len(commands) == len(lesson_exercises("03_batch_norm"))  # one step per exercise
    for command in commands[:2]:  # each step is the same command with another --exercise
        p = _grade(*shlex.split(command), cwd=tmp_path)
        assert p.returncode == 1, (command, p.stdout, p.stderr)
        assert "its content (notebook metadata and exercise cells) is lesson 00_start_here" \
            in p.stdout


# --------------------------------------------------------------------------- teachers' docs

DOCS = Path(__file__).resolve().parents[1] / "docs" / "teachers.md"


def _grade_parser():
    import argparse

    from normcourse.cli import _add_grade

    parser = argparse.ArgumentParser(prog="normcourse")
    _add_grade(parser.add_subparsers())
    return parser


def test_every_option_in_the_teachers_docs_exists():
    import re

    text = DOCS.read_text()
    options = set(re.findall(r"`(--[a-z-]+)", text))
    from normcourse.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    platforms = commands["autograder"]._subparsers._group_actions[0].choices
    known = set()
    for parser in (commands["grade"], platforms["gradescope"]):
        for action in parser._actions:
            known.update(action.option_strings)
    missing = {o for o in options if o not in known} - {"--to", "--nbformat", "--create"}  # nbconvert, nbgrader
    assert not missing, f"docs/teachers.md names options that do not exist: {missing}"
    for line in re.findall(r"^normcourse grade .*$", text, flags=re.M):
        args = [a for a in line.split()[2:] if a != "\\"]
        if "--github-classroom" not in line:  # each documented command parses
            _grade_parser().parse_args(["grade", *args])
    for line in re.findall(r"^normcourse autograder .*$", text, flags=re.M):
        build_parser().parse_args(line.split()[1:])


def test_github_classroom_workflow_has_one_step_per_exercise_with_its_points():
    from helpers.exercises import lesson_exercises

    text = classroom.classroom_workflow(corpus.LESSON, "pip install .")
    for ex in lesson_exercises(corpus.LESSON):
        # the lesson is passed explicitly: another lesson's notebook renamed is an error
        assert (f"normcourse grade {corpus.LESSON}.ipynb --lesson {corpus.LESSON} "
                f"--exercise {ex.id} --require-full") in text
        assert f"test-name: {ex.id}\n" in text
    yaml = pytest.importorskip("yaml")
    steps = yaml.safe_load(text)["jobs"]["run-autograding-tests"]["steps"]
    graders = [s for s in steps if "autograding-command-grader" in s.get("uses", "")]
    assert [s["with"]["max-score"] for s in graders] == [
        ex.points for ex in lesson_exercises(corpus.LESSON)]
    reporter = steps[-1]
    assert reporter["with"]["runners"].split(",") == [s["id"] for s in graders]
    assert set(reporter["env"]) == {f"{s['id'].upper()}_RESULTS" for s in graders}


def _workflow_commands(node) -> list[str]:
    """Every ``normcourse ...`` command line in a parsed workflow's strings."""
    if isinstance(node, dict):
        return [c for v in node.values() for c in _workflow_commands(v)]
    if isinstance(node, list):
        return [c for v in node for c in _workflow_commands(v)]
    return re.findall(r"(?:^|&&|;|\|\|)\s*(normcourse\s[^;&|\n]*)", str(node))


def test_github_classroom_workflow_grades_in_the_sandbox():
    """Found by attack: the printed workflow installed no bubblewrap and did not pass
    --require-sandbox, so every step graded without isolation."""
    import shlex

    from normcourse.cli import build_parser

    yaml = pytest.importorskip("yaml")
    steps = yaml.safe_load(classroom.classroom_workflow("03_batch_norm", "pip install 'a: b' #x")
                           )["jobs"]["run-autograding-tests"]["steps"]
    names = [s["name"] for s in steps]
    install = next(i for i, s in enumerate(steps) if "bubblewrap" in s.get("run", ""))
    assert "apt-get install -y bubblewrap" in steps[install]["run"]
    sysctl = next(i for i, s in enumerate(steps) if "sysctl" in s.get("run", ""))
    assert ("sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
            in steps[sysctl]["run"])
    assert "if [ -e /proc/sys/kernel/apparmor_restrict_unprivileged_userns ]" \
        in steps[sysctl]["run"]  # older runners have no such setting: the step passes
    assert steps[names.index("Install the course")]["run"] == "pip install 'a: b' #x"
    graders = [i for i, s in enumerate(steps) if "autograding-command-grader" in s.get("uses", "")]
    n_exercises = len(lesson_exercises("03_batch_norm"))  # one step per exercise
    assert install < sysctl < graders[0] and len(graders) == n_exercises
    commands = _workflow_commands(steps)
    assert len(commands) == n_exercises
    for command in commands:
        args = build_parser().parse_args(shlex.split(command)[1:])
        assert args.require_sandbox and args.require_full and args.lesson == "03_batch_norm"


@pytest.mark.slow
@pytest.mark.full  # seen once in CI (2026-12-07, fresh clone, 4 workers): the grader had not
# exited 60 s after Ctrl-C (a race, open: passes alone); CI's budget cannot absorb a retry
def test_ctrl_c_stops_every_kernel(small_batch, tmp_path):
    import signal
    import time

    import psutil

    endless = next(c for c in corpus.CASES if c.name == "endless_cell")
    (tmp_path / "a.ipynb").write_bytes(endless.build())
    (tmp_path / "b.ipynb").write_bytes(endless.build())
    p = subprocess.Popen([NORMCOURSE, "grade", "a.ipynb", "b.ipynb", "--jobs", "2",
                          "--cell-timeout", "100"], cwd=tmp_path, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    grader = psutil.Process(p.pid)

    def command(process) -> str:
        try:
            return " ".join(process.cmdline())
        except psutil.Error:  # gone meanwhile (the reader of a submission exits quickly)
            return "reaper"

    def kernels():  # the grader's children but its reaper, its readers and the zygote (which
        # forks the kernels: they are its children), and what they all started
        children = grader.children()
        top = [c for c in children
               if not any(w in command(c) for w in ("reaper", "scan.main()", "grading.zygote"))]
        return top, children + [d for c in children for d in descendants(c)]

    def descendants(process) -> list:
        try:
            return process.children(recursive=True)
        except psutil.Error:  # it exited between the two calls (a busy machine)
            return []

    deadline = time.monotonic() + 60
    while len(kernels()[0]) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)
    top, everything = kernels()
    assert len(top) == 2
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "interrupted" in err
    gone, alive = psutil.wait_procs(everything, timeout=10)
    assert alive == []


def test_the_kernel_environment_is_an_allowlist(monkeypatch):
    """Issue 17: GH_PAT, DATABASE_URL, SENTRY_DSN, OPENAI_KEY and OLDPWD passed the old
    name filter; now only named variables pass, and the teacher's --pass-env."""
    from normcourse.grading.isolation import passed_environment

    teacher = {"GH_PAT": "ghp_x", "DATABASE_URL": "postgres://u:pw@db/x", "OLDPWD": "/srv",
               "SENTRY_DSN": "https://k@sentry.io/1", "OPENAI_KEY": "sk-x", "HOME": "/root",
               "PATH": "/usr/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "MY_DATA": "/data"}
    monkeypatch.setattr(os, "environ", teacher)
    assert passed_environment() == {"PATH": "/usr/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    extra = passed_environment(["MY_DATA", "SEED=3", "NOT_SET"])
    assert extra["MY_DATA"] == "/data" and extra["SEED"] == "3" and "NOT_SET" not in extra


# --------------------------------------------------------------------------- what the code defines


def _sub(nb, tmp_path, name="sub.ipynb"):
    """The notebook saved and loaded as the grader loads it (read and analysed)."""
    path = tmp_path / name
    path.write_bytes(corpus._dump(nb))
    return load.load(path)


def test_why_a_function_is_missing_says_what_its_cell_is(tmp_path):
    def why(nb):
        return code.why_missing(_sub(nb, tmp_path), "ex1_gradient", "mse_gradient")

    assert "is a markdown cell, not a code cell" in why(
        corpus._to_markdown(corpus.solution_notebook(), "ex1_gradient"))
    renamed = corpus._answer(corpus.solution_notebook(), "ex1_gradient",
                             corpus.GOOD_GRADIENT.replace("mse_gradient", "mse_grad"))
    assert "defines mse_grad instead: was the function renamed?" in why(renamed)
    emptied = corpus._answer(corpus.solution_notebook(), "ex1_gradient", "%matplotlib inline")
    assert "does not define mse_gradient" in why(emptied)
    assert "defines it, but the definition was lost" in why(corpus.solution_notebook())
    broken = corpus._answer(corpus.solution_notebook(), "ex1_gradient",
                            corpus.GOOD_GRADIENT.replace("):", ")", 1))
    assert "has a syntax error (expected ':' (line 1)), so it was not run" in why(broken)


def test_a_definition_after_the_check_cell_is_found(tmp_path):
    def again(nb):
        return code.redefined_after_check(_sub(nb, tmp_path), "ex1_gradient", "mse_gradient")

    nb = corpus.solution_notebook()
    assert again(nb) == []
    nb = corpus._append(nb, "x = 1", "mse_gradient = lambda *a: None",
                        "from mymod import mse_gradient")
    assert again(nb) == [15, 16]
    no_checks = corpus._append(corpus._drop_checks(corpus.solution_notebook()),
                               corpus.WRONG_GRADIENT)
    assert again(no_checks) == [8]


def test_a_restart_gets_only_what_is_left_of_the_submissions_time(monkeypatch):
    """Found by attack: a planted startup file made each restart wait 3 x 60 s past --timeout."""
    import time

    from normcourse.grading import session
    from normcourse.grading.kernel import GradingKernel, KernelStartError

    asked = []

    def slow_restart(self, timeout=60.0):
        asked.append(timeout)
        raise KernelStartError("the kernel did not answer within the start-up time")

    monkeypatch.setattr(GradingKernel, "restart", slow_restart)
    sub = load.Submission(Path("x.ipynb"), corpus.LESSON, [], {"cells": []})
    run = session.Run(sub, session.Limits(timeout=600), time.monotonic())
    try:
        run.deadline = time.monotonic() + 5  # 5 s left of the submission's time
        with pytest.raises(KernelStartError):
            run.start(restart=True)
        assert len(asked) == session.START_TRIES and all(0 < t <= 5 for t in asked), asked
        asked.clear()
        run.deadline = time.monotonic() - 1  # none left: no restart at all
        with pytest.raises(KernelStartError, match="time limit"):
            run.start(restart=True)
        assert asked == []
    finally:
        run.close()


@pytest.mark.slow
def test_a_notebook_that_closes_its_kernels_shell_socket_does_not_hang_the_grader(tmp_path):
    """Found in a -m full run (a grader still waiting an hour after Ctrl-C): a request sent
    to a kernel whose shell socket has no peer blocked its thread for ever (zmq's send on a
    DEALER with no connection). A notebook can close that socket itself; the next request
    used to hang the whole batch. Now a send fails after channels.SEND_TIMEOUT_MS and the
    kernel counts as stopped: the submission is graded, its exercise gets the reason."""
    import nbformat
    nb = nbformat.read(Path(__file__).parents[1] / "solutions" / "00_start_here.ipynb", 4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "k = get_ipython().kernel\nk.shell_stream.socket.close()"))
    nbformat.write(nb, tmp_path / "00_start_here.ipynb")
    p = subprocess.run([NORMCOURSE, "grade", "00_start_here.ipynb", "--format", "json",
                        "--out", "g.json"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    (r,) = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))["submissions"]
    assert p.returncode in (0, 1) and r["graded"], (p.stderr, r)
    assert "took no request" in r["exercises"][0]["summary"], r
