"""`normcourse build`: strict markers, stubs that keep signatures, learner work protected."""

import json

import nbformat
import pytest

from normcourse.build import BuildError, lesson_from_solution
from normcourse.cli import main

SOL = {"schema_version": 3, "grade": False, "solution": True, "locked": False}
TEST = {"schema_version": 3, "grade": True, "solution": False, "locked": True}


def solution_cell(src, gid="ex1_a"):
    return nbformat.v4.new_code_cell(src, metadata={"nbgrader": {**SOL, "grade_id": gid}})


def check_cell(src, gid="ex1_a_test", points=1, tags=("raises-exception",)):
    return nbformat.v4.new_code_cell(src, metadata={"tags": list(tags), "nbgrader": {
        **TEST, "grade_id": gid, "points": points}})


FUNC = '''def f(x):
    """Double x."""
    ### BEGIN SOLUTION
    y = 2 * x
    return y
    ### END SOLUTION'''


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def lesson(*cells):
    return lesson_from_solution(notebook(*cells), "01_x.ipynb")


def test_stub_keeps_signature_and_docstring():
    out = lesson(solution_cell(FUNC)).cells[0].source
    assert out == ('def f(x):\n    """Double x."""\n    # YOUR CODE HERE\n'
                   '    raise NotImplementedError()')


def test_outputs_and_counts_cleared_and_tests_kept():
    cell = solution_cell(FUNC)
    cell.outputs = [nbformat.v4.new_output("stream", text="hi")]
    cell.execution_count = 3
    check = check_cell("check('ex1_a', f)")
    nb = lesson(cell, check)
    assert nb.cells[0].outputs == [] and nb.cells[0].execution_count is None
    assert nb.cells[1].source == "check('ex1_a', f)"
    assert nb.metadata["normcourse"]["lesson"] == "01_x"


def test_solution_cell_without_markers_is_replaced_whole_and_markdown_too():
    md = nbformat.v4.new_markdown_cell("The answer is 42.", metadata={"nbgrader": {
        **SOL, "grade": True, "grade_id": "q1", "points": 1}})
    nb = lesson(solution_cell("x = 42", "ex1_b"), md)
    assert nb.cells[0].source == "# YOUR CODE HERE\nraise NotImplementedError()"
    assert nb.cells[1].source == "YOUR ANSWER HERE"


def test_hidden_tests_removed():
    src = "check('a', f)\n### BEGIN HIDDEN TESTS\nassert f(1) == 2\n### END HIDDEN TESTS\nprint(1)"
    assert lesson(check_cell(src)).cells[0].source == "check('a', f)\nprint(1)"


@pytest.mark.parametrize("cell, words", [
    (solution_cell("def f():\n    ### BEGIN SOLUTION\n    return 1"), "unclosed"),
    (solution_cell("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"), "nested"),
    (solution_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTON"), "malformed marker"),
    (solution_cell("# BEGIN SOLUTION\nx = 1\n# END SOLUTION"), "malformed marker"),
    (solution_cell("###BEGIN  SOLUTION\nx = 1\n### END SOLUTION"), "malformed marker"),
    (solution_cell("# to remove solution\nx = 1"), "malformed marker"),
    (solution_cell("### END SOLUTION"), "without a matching BEGIN"),
    (nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
     "outside a solution cell"),
    (check_cell("### BEGIN SOLUTION\nx=1\n### END SOLUTION"), "outside a solution cell"),
    (solution_cell("### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS"), "outside an autograded"),
    (check_cell("check()", tags=()), "raises-exception"),
    (nbformat.v4.new_code_cell("x", metadata={"nbgrader": {**SOL, "grade_id": "a b"}}),
     "grade_id"),
    (nbformat.v4.new_code_cell("x", metadata={"nbgrader": {**SOL, "grade_id": "a", "x": 1}}),
     "unknown nbgrader metadata"),
    (nbformat.v4.new_code_cell("x", metadata={"nbgrader": {**TEST, "grade_id": "a",
                                                          "points": 1, "locked": False}}),
     "must be locked"),
])
def test_malformed_sources_are_errors(cell, words):
    with pytest.raises(BuildError, match=words):
        lesson(cell)


def test_duplicate_grade_ids_are_errors():
    with pytest.raises(BuildError, match="duplicate grade_id"):
        lesson(solution_cell(FUNC, "same"), check_cell("c", "same"))


@pytest.fixture
def course(tmp_path):
    (tmp_path / "solutions").mkdir()
    nb = notebook(nbformat.v4.new_markdown_cell("# Lesson"), solution_cell(FUNC),
                  check_cell("check('ex1_a', f)"))
    nbformat.write(nb, tmp_path / "solutions" / "01_demo.ipynb")
    return tmp_path


def test_build_check_and_cli(course, capsys):
    assert main(["build", "--check", "--root", str(course)]) == 1
    assert "01_demo.ipynb: missing" in capsys.readouterr().out
    assert main(["build", "--root", str(course)]) == 0
    assert main(["build", "--check", "--root", str(course)]) == 0
    text = (course / "lessons" / "01_demo.ipynb").read_text()
    assert "BEGIN SOLUTION" not in text and "2 * x" not in text
    # the solution changes: the lesson is stale, and rebuilding it is allowed
    sol = course / "solutions" / "01_demo.ipynb"
    sol.write_text(sol.read_text().replace("Double x.", "Twice x."))
    assert main(["build", "--check", "--root", str(course)]) == 1
    assert "01_demo.ipynb: out of date" in capsys.readouterr().out
    assert main(["build", "--root", str(course)]) == 0
    assert "Twice x." in (course / "lessons" / "01_demo.ipynb").read_text()


def test_orphan_lesson_is_named(course, capsys):
    main(["build", "--root", str(course)])
    (course / "lessons" / "02_orphan.ipynb").write_text("{}")
    assert main(["build", "--check", "--root", str(course)]) == 1
    assert "02_orphan.ipynb: out of date (has no solution notebook)" in capsys.readouterr().out


@pytest.mark.parametrize("touch", ["edit", "output"])
def test_learner_work_is_never_overwritten_without_force(course, capsys, touch):
    main(["build", "--root", str(course)])
    path = course / "lessons" / "01_demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    if touch == "edit":
        nb.cells[1].source = nb.cells[1].source.replace("raise NotImplementedError()", "return 2*x")
    else:
        nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="ok")]
    nbformat.write(nb, path)
    sol = course / "solutions" / "01_demo.ipynb"
    sol.write_text(sol.read_text().replace("# Lesson", "# Lesson one"))
    assert main(["build", "--root", str(course)]) == 1
    err = capsys.readouterr().err
    assert "01_demo.ipynb: not overwritten" in err and "--force" in err
    assert nbformat.read(path, as_version=4) == nb  # untouched
    assert main(["build", "--force", "--root", str(course)]) == 0
    assert "# Lesson one" in path.read_text()


def test_bad_source_notebook_exits_2_with_message(course, capsys):
    sol = course / "solutions" / "01_demo.ipynb"
    data = json.loads(sol.read_text())
    data["cells"][1]["source"] = "### BEGIN SOLUTION\nx = 1\n"
    sol.write_text(json.dumps(data))
    assert main(["build", "--root", str(course)]) == 2
    assert "unclosed" in capsys.readouterr().err
    assert not (course / "lessons").exists()
