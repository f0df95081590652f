"""The Gradescope autograder zip (``normcourse autograder gradescope``), run as Gradescope runs it.

The zip is unpacked into a fake ``/autograder`` (a temporary root: the templates honour
``NORMCOURSE_AUTOGRADER_ROOT``), ``setup.sh`` installs the course from the zip's wheel into a
throw-away virtualenv (``NORMCOURSE_PYTHON``, ``--no-deps``: offline; the dependencies come
from this environment through a path file afterwards, as in tests/test_wheel.py), and
``run_autograder`` grades what a student uploads, writing ``results/results.json``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_grade import GRADESCOPE_SCHEMA  # noqa: E402

from helpers.exercises import lesson_exercises  # noqa: E402
from normcourse.grading import modes, sandbox, uidbox  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSON = "01_feature_scale"
NORMCOURSE = str(Path(sys.executable).with_name("normcourse"))


def _run(args, env=None, cwd="/", timeout=600):
    """Run from / by default: a `python -c` run from the checkout would import it."""
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """(the zip's path, the fake /autograder root, the environment run_autograder gets)."""
    tmp = tmp_path_factory.mktemp("gradescope")
    made = _run([NORMCOURSE, "autograder", "gradescope", LESSON, "--out",
                 str(tmp / "autograder.zip"), "--timeout", "300"], cwd=tmp)
    assert made.returncode == 0, made.stderr
    root = tmp / "autograder"
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    with zipfile.ZipFile(tmp / "autograder.zip") as z:
        z.extractall(root / "source")
    venv = tmp / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    env = dict(os.environ, NORMCOURSE_AUTOGRADER_ROOT=str(root),
               NORMCOURSE_PYTHON=str(venv / "bin" / "python"), NORMCOURSE_PIP_OPTIONS="--no-deps")
    setup = _run(["bash", str(root / "source" / "setup.sh")], env=env, cwd=root / "source")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    site = Path(_run([str(venv / "bin" / "python"), "-c", "import sysconfig; "
                      "print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope
    (root / "run_autograder").chmod(0o755)
    return tmp / "autograder.zip", root, env


@pytest.mark.slow
@pytest.mark.full  # the zip, built and installed (33 s): the suite's budget
def test_the_zip_holds_the_scripts_and_a_wheel_never_the_notebooks(autograder):
    path, root, env = autograder
    z = zipfile.ZipFile(path)
    names = z.namelist()
    wheel = next(n for n in names if n.endswith(".whl"))
    assert sorted(names) == sorted(["setup.sh", "run_autograder", wheel])
    inside = zipfile.ZipFile(io.BytesIO(z.read(wheel))).namelist()
    assert not [n for n in inside if n.endswith(".ipynb") or "solutions" in n.split("/")]
    assert "helpers/answers/l01.py" in inside and "normcourse/grading/gradescope.py" in inside
    for script in ("setup.sh", "run_autograder"):
        assert z.getinfo(script).external_attr >> 16 & 0o111  # executable
    run = z.read("run_autograder").decode()
    assert f"--lesson {LESSON}" in run and "--timeout 300" in run and "--memory 600" in run
    where = _run([env["NORMCOURSE_PYTHON"], "-c", "import normcourse; print(normcourse.__file__)"],
                 env=env)
    assert Path(where.stdout.strip()).is_relative_to(Path(env["NORMCOURSE_PYTHON"]).parents[1])


def _submit(root, env, files: dict) -> dict:
    """Upload ``files`` (name -> (notebook path, age in seconds)), run run_autograder."""
    for folder in ("submission", "results"):
        shutil.rmtree(root / folder)
        (root / folder).mkdir()
    now = time.time()
    for name, (source, age) in files.items():
        target = root / "submission" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
        os.utime(target, (now - age, now - age))
    p = _run([str(root / "run_autograder")], env=env, cwd=root)
    assert p.returncode == 0, p.stderr
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    return data


def _needs_sandbox():
    mode = modes.choose("auto")  # run_autograder's --require-sandbox: bwrap or a separate user
    if not mode.isolated:
        pytest.skip(f"needs an isolating mode (bwrap or a separate user): {mode.reason}")


MAX = sum(ex.points for ex in lesson_exercises(LESSON))


@pytest.mark.slow
@pytest.mark.full  # the zip, built and installed (33 s): the suite's budget
def test_the_solution_gets_full_marks(autograder):
    _needs_sandbox()
    _, root, env = autograder
    data = _submit(root, env, {f"{LESSON}.ipynb": (ROOT / "solutions" / f"{LESSON}.ipynb", 0)})
    assert data["score"] == MAX, data["output"]
    assert [t["score"] for t in data["tests"]] == [t["max_score"] for t in data["tests"]]
    assert data["output"].startswith("Graded 01\\_feature\\_scale.ipynb.")


@pytest.mark.slow
@pytest.mark.full  # the choice itself: test_the_runner_chooses_one_notebook
def test_one_notebook_is_graded_when_several_are_uploaded(autograder):
    """Found by attack: the documented run_autograder graded *.ipynb and added them up (lesson 3
    twice plus three warm-ups: 45 out of a fair 21). Now the newest file named like the lesson
    is graded alone, and the output names the others."""
    _needs_sandbox()
    _, root, env = autograder
    data = _submit(root, env, {
        f"{LESSON}.ipynb": (ROOT / "lessons" / f"{LESSON}.ipynb", 300),  # the old upload
        f"{LESSON} (1).ipynb": (ROOT / "solutions" / f"{LESSON}.ipynb", 200),
        "00_start_here.ipynb": (ROOT / "solutions" / "00_start_here.ipynb", 100),
        "warmups/02_standardization.ipynb": (ROOT / "solutions" / "02_standardization.ipynb", 0),
    })
    assert data["score"] == MAX, data["output"]
    assert sorted(t["name"] for t in data["tests"]) == sorted(
        f"{ex.title} [{ex.id}]" for ex in lesson_exercises(LESSON))
    said = data["output"].split("\n")[0]
    assert said.startswith("Graded 01\\_feature\\_scale \\(1\\).ipynb. Not graded: ")
    for other in ("01\\_feature\\_scale.ipynb", "00\\_start\\_here.ipynb",
                  "warmups/02\\_standardization.ipynb"):
        assert other in said


@pytest.mark.slow
@pytest.mark.full  # the choice itself: test_the_runner_chooses_one_notebook
def test_without_a_lesson_name_the_newest_notebook_is_graded(autograder):
    _needs_sandbox()
    _, root, env = autograder
    data = _submit(root, env, {"bob.ipynb": (ROOT / "lessons" / f"{LESSON}.ipynb", 100),
                               "alice.ipynb": (ROOT / "solutions" / f"{LESSON}.ipynb", 0)})
    assert data["score"] == MAX and data["output"].startswith("Graded alice.ipynb. Not graded: bob")


@pytest.mark.slow
@pytest.mark.full  # the zip, built and installed (33 s): the suite's budget
def test_a_result_is_written_when_nothing_can_be_graded(autograder):
    _, root, env = autograder
    data = _submit(root, env, {"notes.txt": (ROOT / "README.md", 0)})
    assert data["score"] == 0 and data["tests"] == []
    assert "No notebook (.ipynb file) was uploaded" in data["output"]
    data = _submit(root, env, {f"{LESSON}.ipynb": (ROOT / "README.md", 0)})  # not a notebook
    assert data["score"] == 0 and "could not be graded: not JSON" in data["output"]
    unisolated = dict(env, **{sandbox.OFF_VAR: "1"})  # found by attack: 7/7 for the handout
    data = _submit(root, unisolated, {f"{LESSON}.ipynb": (ROOT / "lessons" / f"{LESSON}.ipynb", 0)})
    assert data["score"] == 0 and data["tests"] == [] and "require\\-sandbox" in data["output"]
    broken = dict(env, NORMCOURSE_PYTHON=str(root / "no-such-python"))
    data = _submit(root, broken, {f"{LESSON}.ipynb": (ROOT / "solutions" / f"{LESSON}.ipynb", 0)})
    assert data["score"] == 0 and "failed before it could grade" in data["output"]


# --------------------------------------------------------------------------- the runner's choice


def test_the_runner_chooses_one_notebook(tmp_path):
    from normcourse.grading import gradescope

    def upload(*names):
        folder = tmp_path / f"up{len(list(tmp_path.iterdir()))}"
        for age, name in enumerate(names):  # the first name is the newest
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}")
            os.utime(path, (1e9 - age, 1e9 - age))
        return gradescope.choose(gradescope.notebooks(folder), LESSON)

    chosen, others = upload("alice.ipynb", f"{LESSON} (1).ipynb", f"{LESSON}.ipynb")
    assert chosen.name == f"{LESSON} (1).ipynb" and len(others) == 2
    chosen, others = upload("b.ipynb", "a.ipynb")
    assert chosen.name == "b.ipynb" and [p.name for p in others] == ["a.ipynb"]
    chosen, others = upload(".ipynb_checkpoints/x.ipynb")
    assert chosen is None and others == []
    folder = tmp_path / "links"
    folder.mkdir()
    (folder / f"{LESSON}.ipynb").symlink_to(ROOT / "solutions" / f"{LESSON}.ipynb")
    (folder / "more").symlink_to(ROOT / "solutions")
    assert gradescope.notebooks(folder) == []  # links are not followed, to files or folders


def test_the_runner_stops_a_grader_that_overruns_and_says_so(tmp_path):
    from normcourse.grading import gradescope

    data = gradescope._grade(ROOT / "solutions" / f"{LESSON}.ipynb", LESSON,
                             tmp_path / "results.json", [], timeout=0.05)
    assert data["score"] == 0 and data["tests"] == []
    assert "did not finish within 0.05 s" in data["output"]
    assert gradescope._time_allowed(["--memory", "600", "--timeout", "300"]) == 300 + 60 + 120


def test_the_runner_grades_as_a_separate_user_where_bwrap_is_refused(tmp_path, monkeypatch,
                                                                       capsys):
    """Gradescope runs as root in a container where bwrap may not make namespaces: the
    runner's command then isolates each kernel as a separate user, and never grades
    unisolated (the answers and solutions readable) when that cannot run either."""
    from normcourse import cli
    from normcourse.grading import gradescope

    seen = []
    monkeypatch.setattr(gradescope.subprocess, "run", lambda command, **_: seen.append(command)
                        or subprocess.CompletedProcess(command, 2, "", "error: not run"))
    gradescope._grade(tmp_path / "a.ipynb", LESSON, tmp_path / "results.json", [], timeout=9)
    command = seen[0][seen[0].index("normcourse.cli") + 1:]
    args = cli.build_parser().parse_args(command)
    assert args.require_sandbox and args.isolation == "auto"
    monkeypatch.delenv(sandbox.OFF_VAR, raising=False)
    monkeypatch.setattr(sandbox, "unavailable", lambda: "bwrap may not make namespaces here")
    monkeypatch.setattr(uidbox, "unavailable", lambda: "")
    assert modes.announce(args.isolation, required=args.require_sandbox).name == "uid"
    monkeypatch.setattr(uidbox, "unavailable", lambda: "the grader does not run as root")
    assert modes.announce(args.isolation, required=args.require_sandbox) is None
    assert "error: --require-sandbox" in capsys.readouterr().err
