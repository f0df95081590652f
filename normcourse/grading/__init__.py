"""Parts of ``normcourse grade``: reading submissions (:mod:`.load`), a limited
throw-away kernel (:mod:`.kernel`, :mod:`.launch`), the code sent into it
(:mod:`.probe`) and the output formats (:mod:`.report`). The command and the
grading loop live in :mod:`normcourse.grade`.
"""
