"""``normcourse grade --github-classroom LESSON``: a GitHub Classroom autograding workflow.

The workflow installs bubblewrap, lifts Ubuntu 24.04's AppArmor restriction on user
namespaces where the runner has it, installs the course, then has one step per exercise
(with its points) that grades it in the sandbox (``--require-sandbox --require-full``).
"""

from __future__ import annotations

import json

from helpers.exercises import lesson_exercises

#: Ubuntu 24.04 (GitHub's ubuntu-latest) forbids unprivileged user namespaces to programs
#: without an AppArmor profile, bwrap included ("setting up uid map: Permission denied");
#: the documented fix, run only where the setting exists
APPARMOR_USERNS = "kernel.apparmor_restrict_unprivileged_userns"


def classroom_workflow(lesson: str, install: str) -> str:
    """A GitHub Classroom autograding workflow: bubblewrap installed (and allowed to make its
    namespaces), then one step per exercise, with its points, graded in the sandbox
    (``--require-sandbox``: a runner without it fails the step instead of grading unisolated)."""
    exercises = lesson_exercises(lesson)
    setting = "/proc/sys/" + APPARMOR_USERNS.replace(".", "/")
    lines = ["name: Autograding Tests",
             "on: [push, workflow_dispatch, repository_dispatch]",
             "permissions:", "  checks: write", "  actions: read", "  contents: read",
             "jobs:", "  run-autograding-tests:", "    runs-on: ubuntu-latest",
             "    if: github.actor != 'github-classroom[bot]'", "    steps:",
             "    - name: Checkout code", "      uses: actions/checkout@v4",
             "    - name: Set up Python", "      uses: actions/setup-python@v5",
             "      with:", "        python-version: '3.11'",
             "    - name: Install bubblewrap (the grader's sandbox)",
             "      run: sudo apt-get update && sudo apt-get install -y bubblewrap",
             "    - name: Let bubblewrap make its namespaces (Ubuntu 24.04 AppArmor)",
             f"      run: if [ -e {setting} ]; then sudo sysctl -w {APPARMOR_USERNS}=0; fi",
             "    - name: Install the course", f"      run: {json.dumps(install)}"]
    for ex in exercises:
        step = ex.id.replace("_", "-")
        lines += [f"    - name: {ex.id}", f"      id: {step}",
                  "      uses: classroom-resources/autograding-command-grader@v1",
                  "      with:", f"        test-name: {ex.id}",
                  f"        command: normcourse grade {lesson}.ipynb --lesson {lesson} "
                  f"--exercise {ex.id} --require-full --require-sandbox",
                  "        timeout: 10", f"        max-score: {ex.points:g}"]
    ids = [ex.id.replace("_", "-") for ex in exercises]
    lines += ["    - name: Autograding Reporter",
              "      uses: classroom-resources/autograding-grading-reporter@v1", "      env:"]
    lines += [f"        {i.upper()}_RESULTS: \"${{{{steps.{i}.outputs.result}}}}\"" for i in ids]
    lines += ["      with:", f"        runners: {','.join(ids)}"]
    return "\n".join(lines) + "\n"
