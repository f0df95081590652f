"""Whole-repository checks: lint, generated lessons, no leaks, README and environment in step."""

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from helpers.exercises import LESSONS, lesson_exercises

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


# ------------------------------------------------ the course map, read from the notebooks

MINUTES = re.compile(r"Estimated time:\s*\**\s*(\d+)\s*minutes", re.I)


@dataclass(frozen=True)
class Row:
    file: str
    title: str
    minutes: int | None
    exercises: int


def course_map(solutions: Path) -> list[Row]:
    rows = []
    for path in sorted(Path(solutions).glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0].source if nb.cells else ""
        title = next((ln.lstrip("# ").strip() for ln in first.splitlines() if ln.startswith("#")),
                     path.stem)
        m = MINUTES.search(first)
        n = sum(1 for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
        rows.append(Row(path.name, title, int(m.group(1)) if m else None, n))
    return rows



def _names(specs):
    out = {}
    for spec in specs:
        m = re.match(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*(.*)$", spec)
        name = re.sub(r"\[.*\]", "", m.group(1)).lower().replace("_", "-")
        out[name] = m.group(2).replace(" ", "")
    return out


def test_environment_yml_matches_pyproject():
    yaml = pytest.importorskip("yaml")
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["name"] == "normalization-course"
    assert "prefix" not in env
    assert env["channels"] == ["conda-forge"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip_section = [d for d in env["dependencies"] if isinstance(d, dict)]
    assert pip_section == [{"pip": ["-e ."]}]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _names(project["dependencies"] + project["optional-dependencies"]["test"])
    have = _names(conda)
    assert have.pop("python") == f">={project['requires-python'].lstrip('>=')}"
    assert have.pop("pip") == ""
    assert have == wanted, "environment.yml and pyproject.toml disagree about a dependency"


def test_readme_commands_are_what_ci_runs():
    blocks = re.findall(r"```bash\n(.*?)\n```", README, re.S)
    assert len(blocks) == 2, "set-up must be exactly two commands"
    open_cmd, test_cmd = blocks
    assert "jupyter lab" in open_cmd and "pip install -e ." in open_cmd
    assert test_cmd.endswith("pytest") and '".[test]"' in test_cmd
    assert test_cmd in (ROOT / ".ci" / "run").read_text()


def test_readme_course_map_matches_the_notebooks():
    rows = course_map(ROOT / "solutions")
    assert rows, "no solution notebooks"
    table = [ln for ln in README.splitlines() if "](lessons/" in ln and ln.startswith("|")]
    assert len(table) == len(rows)
    for row, line in zip(rows, table, strict=True):
        assert f"(lessons/{row.file})" in line
        assert f"| {row.minutes} min |" in line, f"{row.file}: time differs from the notebook"
        assert line.rstrip().endswith(f"| {row.exercises} |"), f"{row.file}: exercise count"


def test_readme_links_point_to_files():
    for target in re.findall(r"\]\(([^)#:]+)\)", README):
        assert (ROOT / target).exists(), f"README links to missing {target}"


def test_lessons_are_up_to_date():
    result = subprocess.run([sys.executable, "-m", "normcourse.cli", "build", "--check"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_solution_text_reaches_lessons():
    for path in sorted((ROOT / "lessons").glob("*.ipynb")):
        text = path.read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
            assert marker not in text, f"{path.name} contains {marker}"
        sol = nbformat.read(ROOT / "solutions" / path.name, as_version=4)
        lesson = nbformat.read(path, as_version=4)
        for s, c in zip(sol.cells, lesson.cells, strict=True):
            if s.metadata.get("nbgrader", {}).get("solution"):
                body = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", s.source, re.S)
                for chunk in body:
                    for line in chunk.strip().splitlines():
                        if len(line.strip()) > 12:
                            assert line.strip() not in c.source, f"{path.name}: solution leaked"
        for c in lesson.cells:
            assert c.cell_type != "code" or (not c.outputs and c.execution_count is None)


@pytest.mark.parametrize("lesson", list(LESSONS))
def test_every_exercise_has_its_cells_and_points(lesson):
    nb = nbformat.read(ROOT / "solutions" / f"{lesson}.ipynb", as_version=4)
    for words in ("What you will", "Prerequisites", "Estimated time", "Exercises"):
        assert words in nb.cells[0].source, f"{lesson}: first cell lacks {words!r}"
    specs = {ex.id: ex for ex in lesson_exercises(lesson)}
    solutions, checks = {}, {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta and meta["solution"]:
            solutions[meta["grade_id"]] = cell
        elif meta and meta["grade"]:
            checks[meta["grade_id"].removesuffix("_test")] = cell
    assert list(solutions) == list(specs) == list(checks), "notebook order = spec order"
    for number, (ex_id, ex) in enumerate(specs.items(), 1):
        assert f"def {ex.function}(" in solutions[ex_id].source
        if lesson != "00_start_here":
            assert ex.title.startswith(f"Exercise {number}"), ex.title
        check = checks[ex_id]
        meta = check.metadata["nbgrader"]
        assert meta["points"] == ex.points and meta["locked"], ex_id
        assert check.source.strip().splitlines()[-1] == f'check("{ex_id}", {ex.function})'
        assert "raises-exception" in check.metadata.get("tags", [])


def test_solutions_are_committed_with_outputs_and_light():
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.execution_count is not None for c in code), f"{path.name} not executed"
        assert path.stat().st_size < 2_500_000, f"{path.name} is too large"
        assert nb.metadata["kernelspec"]["name"] == "python3"


def test_helpers_do_no_work_at_import():
    """Importing every helpers module changes no matplotlib setting and imports no pyplot
    (the stored values are read: dict(rcParams) would resolve the backend, importing pyplot)."""
    code = ("import sys, importlib, pkgutil, matplotlib as mpl, helpers; "
            "snap = lambda: {k: dict.__getitem__(mpl.rcParams, k) for k in mpl.rcParams}; "
            "before = snap(); "
            "names = [m.name for m in pkgutil.walk_packages(helpers.__path__, 'helpers.')]; "
            "[importlib.import_module(n) for n in names]; "
            "assert len(names) > 20, names; "
            "assert snap() == before, 'rcParams changed at import'; "
            "assert 'matplotlib.pyplot' not in sys.modules, 'a helpers module imports pyplot'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.skipif(shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
                    reason="ruff is not installed: pip install ruff")
def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run([ruff, "check", "helpers", "normcourse", "tests", "solutions",
                             "benchmarks", "conftest.py"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_start_here_course_map_matches_the_notebooks():
    nb = nbformat.read(ROOT / "solutions" / "00_start_here.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for row in course_map(ROOT / "solutions"):
        line = next((ln for ln in text.splitlines() if f"]({row.file})" in ln), None)
        assert line is not None, f"00_start_here's course map lacks {row.file}"
        assert f"| {row.minutes} min |" in line, f"{row.file}: time differs in 00_start_here"
