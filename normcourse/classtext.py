"""Texts from a grades file in the class report (:mod:`normcourse.classreport`).

Everything in a grades file may come from a submission, so each string is shown cut
(:func:`cap`: ``CAP`` characters, on one line) and without the submission's path or
folder names (:func:`anonymised`: often a student's name; a name a student typed in a
text is not found). A written answer (:mod:`helpers.exercises.written`) is summarised by
:func:`written`: the share of the class that wrote one, the median word count and up to
``EXAMPLES`` different texts, chosen by a hash of the text (two runs show the same ones),
each cut to ``EXAMPLE_CAP`` characters. Each text is read to the first ``MAX_CHARS``
characters, as the grader keeps it: an edited grades file may hold megabytes. In
Markdown (:func:`md_prose`) a text's dots and at signs are escaped too, so that no web
or mail address in it becomes a link.
"""

from __future__ import annotations

import hashlib
import re
import statistics
from pathlib import Path

from helpers.exercises import all_exercises
from helpers.exercises.written import MAX_CHARS
from normcourse.grading.report import safe_md, safe_text

CAP = 160  # characters of any text from a grades file shown in the report
EXAMPLES = 5  # written answers shown per exercise
EXAMPLE_CAP = 300  # characters of each


def cap(text, n: int = CAP) -> str:
    raw = str(text)
    text = safe_text(raw[:n])  # cut first: a grades file may hold megabytes
    return text if len(raw) <= n and len(text) <= n else text[:n - 1] + "…"


def anonymised(message: str, submission: str) -> str:
    """``message`` without the submission's path, file name or folder names (often a
    student's name)."""
    parts = Path(str(submission)).parts
    for word in sorted({str(submission), *parts, Path(str(submission)).stem}, key=len,
                       reverse=True):
        if len(word) > 2 and word not in ("/", "."):
            message = message.replace(word, "<student>")
    return message


def written(ex_id: str, rows: list) -> dict | None:
    """A written answer's share of the class, median word count and a few examples."""
    spec = all_exercises().get(ex_id)
    texts = [(str(sub), ex.get("text")) for sub, ex in rows]  # read as the grader keeps them:
    texts = [(sub, t[:MAX_CHARS]) for sub, t in texts if isinstance(t, str) and t.strip()]
    if getattr(spec, "kind", "") != "written" and not texts:
        return None
    first = {}  # text -> the first submission (by path) that wrote it
    for sub, t in sorted(texts, key=lambda st: st[0]):
        first.setdefault(t, sub)
    chosen = sorted(first, key=lambda t: (hashlib.sha256(t.encode("utf-8", "replace"))
                                          .hexdigest(), t))[:EXAMPLES]
    return {"answered": len(texts), "share": len(texts) / len(rows),
            "median_words": statistics.median(len(t.split()) for _, t in texts)
            if texts else None,
            "examples": [anonymised(t, first[t]) for t in chosen]}


def words_line(w) -> str:
    return "no answer" if w is None else f"median {w:g} words per answer"


def md_prose(text) -> str:
    """A student's text for Markdown: :func:`safe_md`, and no dot or at sign left bare
    (GitHub-flavoured Markdown turns www.x.org and a@b.org into links)."""
    return re.sub(r"([.@])", r"\\\1", safe_md(cap(text, EXAMPLE_CAP)))
