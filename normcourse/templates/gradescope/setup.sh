#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
# Made by `normcourse autograder gradescope {{lesson}}`: it installs the course from the
# wheel in this zip (built from the course's checkout: no notebook, no solutions/).
#
# Outside Gradescope (a test), three variables change where things are:
#   NORMCOURSE_AUTOGRADER_ROOT  instead of /autograder
#   NORMCOURSE_PYTHON           a Python to install into (no apt-get, no new venv)
#   NORMCOURSE_PIP_OPTIONS      extra options for pip (e.g. --no-deps)
set -euo pipefail
ROOT="${NORMCOURSE_AUTOGRADER_ROOT:-/autograder}"
if [ -z "${NORMCOURSE_PYTHON:-}" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y python3 python3-venv python3-pip
    # the grader's sandbox; Gradescope's container may still refuse it its namespaces when
    # it runs, and the grader then isolates each kernel as a separate user
    apt-get install -y bubblewrap || echo "setup.sh: bubblewrap could not be installed" >&2
    python3 -m venv /opt/normcourse
    PYTHON=/opt/normcourse/bin/python
else
    PYTHON="$NORMCOURSE_PYTHON"
fi
# shellcheck disable=SC2086  # the options are words
"$PYTHON" -m pip install ${NORMCOURSE_PIP_OPTIONS:-} "$ROOT/source/{{wheel}}"
"$PYTHON" -I -m normcourse.cli --help > /dev/null  # a broken install fails the build, here
