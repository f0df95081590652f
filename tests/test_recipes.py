"""The scheduler recipes of docs/teachers.md (issue 21): their YAML parses, their shell
passes ``bash -n``, every ``normcourse`` command in them parses with the real command
line, and each grades N shards and merges them."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from normcourse import shards
from normcourse.cli import build_parser

DOCS = Path(__file__).resolve().parents[1] / "docs" / "teachers.md"
RECIPE = re.compile(r"<!-- recipe: ([a-z-]+) -->\n```(yaml|bash)\n(.*?)```", re.S)


def _recipes() -> dict:
    return {name: (lang, body) for name, lang, body in RECIPE.findall(DOCS.read_text())}


def _bash_n(script: str) -> None:
    p = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert p.returncode == 0, f"{p.stderr}\n{script}"


def _scripts(name: str, lang: str, body: str) -> list[str]:
    """The shell each recipe runs."""
    if lang == "bash":
        return [body]
    docs = list(yaml.safe_load_all(body))
    if name == "github-actions":
        return [step["run"] for job in docs[0]["jobs"].values() for step in job["steps"]
                if "run" in step]
    containers = docs[0]["spec"]["template"]["spec"]["containers"]
    return [c["args"][0] for c in containers if c["command"] == ["bash", "-c"]]


def _commands(script: str) -> list[list[str]]:
    """Each ``normcourse ...`` command, variables replaced by a value (shard 1); a quoted
    command (``--wrap "..."``, ``bash -c "..."``) is read too."""
    script = script.replace("\\\n", " ")
    script = re.sub(r"\$\{\{[^}]*\}\}|\$\(\([^)]*\)\)|\$\{?[A-Za-z_]+\}?", "1", script)
    out = []
    for line in script.splitlines():
        if line.lstrip().startswith("#"):
            continue
        command: list = []
        for word in shlex.split(line.replace(";", " ; ")) + [";"]:
            if word in ("&&", "||", ";", "|"):
                if command[:1] == ["normcourse"]:
                    out.append(command[1:])
                command = []
            elif " " in word and "normcourse " in word:
                out += _commands(word)
            else:
                command.append(word)
    return out


def test_the_recipes_are_there():
    assert set(_recipes()) == {"github-actions", "slurm", "slurm-submit", "kubernetes",
                               "kubernetes-merge"}


@pytest.mark.parametrize("name", ["github-actions", "slurm", "slurm-submit", "kubernetes",
                                  "kubernetes-merge"])
def test_recipe_syntax_and_real_flags(name):
    lang, body = _recipes()[name]
    used = set()
    for script in _scripts(name, lang, body):
        _bash_n(script)
        for argv in _commands(script):
            args = build_parser().parse_args(argv)  # exits (SystemExit) on an unknown flag
            used.add(args.command)
            if getattr(args, "shard", None):
                shards.parse(args.shard)
                assert args.format == "json" and args.seed is not None
    assert used, "no normcourse command found"


def test_each_scheduler_grades_n_shards_and_merges():
    recipes = _recipes()
    text = {k: b for k, (_, b) in recipes.items()}
    gh = yaml.safe_load(text["github-actions"])
    assert len(gh["jobs"]["grade"]["strategy"]["matrix"]["shard"]) == 4
    assert "--shard ${{ matrix.shard }}/4" in text["github-actions"]
    assert "#SBATCH --array=1-4" in text["slurm"] and '"$SLURM_ARRAY_TASK_ID/4"' in text["slurm"]
    k8s = yaml.safe_load(text["kubernetes"])["spec"]
    assert k8s["completions"] == 4 and k8s["completionMode"] == "Indexed"
    assert "--shard $((JOB_COMPLETION_INDEX + 1))/4" in text["kubernetes"]
    for merge in ("github-actions", "slurm-submit", "kubernetes-merge"):
        assert "normcourse merge" in text[merge] and "normcourse report" in text[merge]
