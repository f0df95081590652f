"""A normal install works anywhere: the wheel, installed non-editable into a fresh virtualenv.

Classrooms install the course the way `pip install .` does (a JupyterHub image, a Gradescope
autograder, `pip install git+...`), not as this checkout's editable install. Here the wheel is
built from a copy of the sources, installed (without dependencies: the fresh virtualenv sees
this environment's packages through a path file, and no network is needed) and then, from
unrelated folders holding only the notebooks:

- every lesson runs top to bottom, and its only errors are "not done yet" verdicts;
- ``normcourse grade`` grades the solutions (full marks) and the untouched lessons (zero);
  (both per lesson: the default run takes conftest.CI_LESSONS, ``pytest -m full`` all);
- ``normcourse --help`` lists every command, and a missing dependency gets a clear message.

This also stands in for running the untouched lessons under nbval (lax) and for grading the
real notebooks elsewhere, so that each notebook is not executed once more.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

EXECUTE_LESSONS = r'''
import json, sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
report = {}
for path in sorted(Path(".").glob(sys.argv[1] + ".ipynb")):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": "."}}).execute()
    errors = [o["ename"] for c in nb.cells if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    report[path.name] = {"errors": errors, "last_ran": code[-1].execution_count is not None}
print(json.dumps(report))
'''


def _run(args, cwd, env=None, timeout=600):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh virtualenv holding the course's wheel (non-editable) and nothing else of it."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "artifacts", "build", "dist", "*.egg-info", "__pycache__"))
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                  "--no-build-isolation", "-w", str(tmp / "dist"), str(src)], cwd=tmp)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next((tmp / "dist").glob("normalization_course-*.whl"))
    env_dir = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], cwd=tmp)
    python = env_dir / "bin" / "python"
    installed = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                      "--no-deps", str(wheel)], cwd=tmp)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                      "['purelib'])"], cwd=tmp).stdout.strip())
    return {"tmp": tmp, "wheel": wheel, "python": python, "bin": env_dir / "bin", "site": site}


def _with_dependencies(venv) -> dict:
    """Let the fresh virtualenv import this environment's third-party packages."""
    pth = venv["site"] / "_test_dependencies.pth"
    if not pth.exists():
        pth.write_text(sysconfig.get_paths()["purelib"] + "\n")
    return dict(os.environ, PATH=f"{venv['bin']}{os.pathsep}{os.environ['PATH']}")


def test_the_wheel_carries_every_package_and_data_file(venv):
    names = set(zipfile.ZipFile(venv["wheel"]).namelist())
    packages = {p.parent.relative_to(ROOT).as_posix()
                for top in ("helpers", "normcourse") for p in (ROOT / top).rglob("__init__.py")}
    assert packages and all(f"{p}/__init__.py" in names for p in packages), \
        sorted(p for p in packages if f"{p}/__init__.py" not in names)
    data = {p.relative_to(ROOT).as_posix() for p in (ROOT / "helpers").rglob("*")
            if p.suffix in (".csv", ".json")}
    assert data and data <= names, sorted(data - names)


def test_the_course_is_imported_from_the_wheel_not_the_checkout(venv):
    env = _with_dependencies(venv)
    where = _run([str(venv["python"]), "-c", "import helpers, normcourse; "
                  "print(helpers.__file__); print(normcourse.__file__)"], cwd=venv["tmp"], env=env)
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert Path(line).is_relative_to(venv["site"]), line


LESSONS = sorted(p.stem for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.per_lesson(ci=())  # every lesson in -m full; the default run grades one below
@pytest.mark.parametrize("lesson", LESSONS)
def test_lessons_run_to_the_end_from_any_folder(venv, lesson):
    folder = venv["tmp"] / "a learner's folder"
    folder.mkdir(exist_ok=True)
    for nb in (ROOT / "lessons").glob("*.ipynb"):
        shutil.copy(nb, folder)
    done = _run([str(venv["python"]), "-c", EXECUTE_LESSONS, lesson], cwd=folder,
                env=_with_dependencies(venv), timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(report) == [f"{lesson}.ipynb"]
    for name, r in report.items():
        assert r["last_ran"], name
        assert r["errors"] and set(r["errors"]) == {"NotDoneYet"}, (name, r["errors"])


@pytest.mark.per_lesson(ci=("04_batch_norm_backward",))  # a short lesson (suite budget)
@pytest.mark.parametrize("lesson", LESSONS)
def test_normcourse_grade_from_the_wheel(venv, lesson):
    folder = venv["tmp"] / f"submissions-{lesson}"
    for kind in ("solutions", "lessons"):
        (folder / kind).mkdir(parents=True)
        shutil.copy(ROOT / kind / f"{lesson}.ipynb", folder / kind)
    graded = _run([str(venv["bin"] / "normcourse"), "grade", "--jobs", "2", "--format", "json",
                   *sorted(str(p.relative_to(folder)) for p in folder.rglob("*.ipynb"))],
                  cwd=folder, env=_with_dependencies(venv), timeout=900)
    assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr[-3000:]
    results = {r["submission"]: r for r in json.loads(graded.stdout)["submissions"]}
    assert len(results) == 2
    for name, r in results.items():
        assert r["graded"] and r["max_score"] > 0, (name, r["error"])
        if name.startswith("solutions"):
            assert r["score"] == r["max_score"], (name, [
                (e["id"], e["summary"]) for e in r["exercises"] if e["status"] != "passed"])
        else:
            assert r["score"] == 0, name
            assert {e["status"] for e in r["exercises"]} <= {"not_done", "failed"}, name


def test_the_command_lists_every_subcommand_and_names_a_missing_dependency(venv):
    bare = dict(os.environ, PYTHONNOUSERSITE="1")  # no path file: only the wheel, no numpy
    pth = venv["site"] / "_test_dependencies.pth"
    saved = pth.read_text() if pth.exists() else None
    if saved is not None:
        pth.unlink()
    try:
        helped = _run([str(venv["bin"] / "normcourse"), "--help"], cwd=venv["tmp"], env=bare)
        assert helped.returncode == 0, helped.stderr
        for command in ("build", "execute", "grade"):
            assert command in helped.stdout
        missing = _run([str(venv["bin"] / "normcourse"), "grade", "x.ipynb"], cwd=venv["tmp"],
                       env=bare)
        assert missing.returncode == 2
        assert "needs the Python package" in missing.stderr and "Traceback" not in missing.stderr
    finally:
        if saved is not None:
            pth.write_text(saved)
