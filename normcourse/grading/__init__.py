"""Parts of ``normcourse grade``: reading submissions (:mod:`.load`, in a limited child
process: :mod:`.scan`), what their code defines (:mod:`.code`), a limited throw-away
kernel (:mod:`.kernel`, :mod:`.launch`), the code sent into it (:mod:`.probe`), the
output formats (:mod:`.report`), the GitHub Classroom workflow (:mod:`.classroom`) and
Gradescope's ``run_autograder`` (:mod:`.gradescope`). The command and the grading loop
live in :mod:`normcourse.grade`.
"""
