"""Output formats of ``normcourse grade``: table, JSON, CSV gradebook, Gradescope, feedback.

Every format is built from :class:`normcourse.grading.results.SubmissionResult` values
and shows learner-facing messages and hints only, never a solution.

Much of a result's text comes from the submission (an exception's message, a file
name): every such field is made safe for its format. Control and format characters
(escape sequences, right-to-left marks), lone surrogates (``"\\ud800"``, which no UTF-8
file can hold) are shown as escapes everywhere; in Markdown (Gradescope, feedback)
Markdown and HTML are escaped too, and the text stays on one line, so a fake heading,
score line or remote image shows as typed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import unicodedata
from pathlib import Path

from helpers.exercises import LESSONS, lesson_exercises

JSON_VERSION = 1
_UNSAFE = re.compile(r"C|Zl|Zp")  # control, format, surrogate, unassigned; line separators


def _pts(x: float) -> str:
    return f"{x:g}"


def _escape(ch: str) -> str:
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(
        ch, f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else
        f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")


def safe_text(text: str, keep: str = "") -> str:
    """``text`` on one line, with every control or format character (newline, tab,
    escape, right-to-left override, a lone surrogate...) shown as an escape such as
    ``\\n`` or ``\\u202e``; the characters in ``keep`` (e.g. newline) are left as they are."""
    text = str(text)
    if text.isprintable():  # the usual case, at C speed
        return text
    return "".join(ch if ch in keep or not _UNSAFE.match(unicodedata.category(ch))
                   else _escape(ch) for ch in text)


def safe_field(text: str) -> str:
    """:func:`safe_text` keeping newlines and tabs: a JSON field that any UTF-8 file holds."""
    return safe_text(text, keep="\n\t")


def safe_md(text: str) -> str:
    """:func:`safe_text`, with Markdown's and HTML's special characters escaped (shown as
    typed; every one of them may be escaped with a backslash in CommonMark)."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~&$=:-])", r"\\\1", safe_text(text))


def _csv_cell(value) -> str:
    """A spreadsheet never runs it as a formula (OWASP: a leading ' on = + - @ tab CR)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render(results, fmt: str) -> str:
    return {"table": table, "json": to_json, "csv": to_csv, "gradescope": gradescope}[fmt](results)


# --------------------------------------------------------------------------- table


def table(results) -> str:
    names = [safe_text(r.submission) for r in results]
    width = max([len(n) for n in names] + [10])
    lines = [f"{'submission':<{width}}  {'lesson':<18} {'score':>7}  exercises",
             "-" * (width + 60)]
    for r, name in zip(results, names, strict=True):
        if not r.graded:
            lines.append(f"{name:<{width}}  {r.lesson or '?':<18} {'ERROR':>7}  "
                         f"could not be graded: {safe_text(r.error)}")
            continue
        marks = {"passed": "✓", "failed": "✗", "not_done": "…", "error": "!"}
        exs = "  ".join(f"{marks.get(e.status, '?')} {e.id} {_pts(e.points)}/{_pts(e.max_points)}"
                        for e in r.exercises)
        score = f"{_pts(r.score)}/{_pts(r.max_score)}"
        lines.append(f"{name:<{width}}  {r.lesson:<18} {score:>7}  {exs}")
        for note in r.notes:
            lines.append(f"{'':<{width}}  note: {safe_text(note)}")
    bad = sum(not r.graded for r in results)
    lines.append("-" * (width + 60))
    lines.append(f"{len(results) - bad} graded, {bad} could not be graded"
                 + ("" if not bad else " (see ERROR rows)"))
    return "\n".join(_banners(results) + lines + _banners(results, end=True)) + "\n"


def _banners(results, end: bool = False) -> list[str]:
    """Loud lines: submissions run without a sandbox (top), a run stopped early (bottom)."""
    from normcourse.grading import sandbox

    if end:
        stopped = sum(getattr(r, "incomplete", False) for r in results)
        return [f"INCOMPLETE: the run was stopped; {stopped} submission(s) were not graded"
                ] if stopped else []
    if all(getattr(r, "sandboxed", True) or not r.graded for r in results):
        return []
    return [f"WARNING: {sandbox.warning(sandbox.unavailable() or 'no sandbox was used')}", ""]


# --------------------------------------------------------------------------- json / csv


def _plain(value):
    """A result's fields with every string made safe (:func:`safe_field`)."""
    if isinstance(value, str):
        return safe_field(value)
    if isinstance(value, dict):
        return {safe_field(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _submission_json(r) -> dict:
    data = _plain(r.to_dict())
    try:  # the path exactly as given, so that tools find the file, when UTF-8 can hold it
        r.submission.encode("utf-8")
        data["submission"] = r.submission
    except UnicodeEncodeError:
        pass
    return data


def to_json(results) -> str:
    return json.dumps({"format": "normcourse-grades", "version": JSON_VERSION,
                       "isolated": all(getattr(r, "sandboxed", True) or not r.graded
                                       for r in results),
                       "complete": not any(getattr(r, "incomplete", False) for r in results),
                       "submissions": [_submission_json(r) for r in results]},
                      indent=2, ensure_ascii=False) + "\n"


def _exercise_columns(results) -> list[str]:
    lessons = {r.lesson for r in results if r.lesson}
    cols = []
    for lesson in LESSONS:  # course order
        if lesson in lessons:
            cols += [ex.id for ex in lesson_exercises(lesson)]
    graded = {e.id for r in results for e in r.exercises}
    return [c for c in cols if c in graded]


def to_csv(results) -> str:
    cols = _exercise_columns(results)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["submission", "lesson", "status", "score", "max_score", *cols, "error", "notes"])
    for r in results:
        pts = {e.id: _pts(e.points) for e in r.exercises}
        w.writerow([_csv_cell(safe_text(r.submission)), r.lesson or "",
                    "graded" if r.graded else "error",
                    _pts(r.score) if r.graded else "", _pts(r.max_score) if r.graded else "",
                    *[pts.get(c, "") for c in cols], _csv_cell(safe_text(r.error)),
                    _csv_cell(safe_text(" | ".join(r.notes)))])
    return buf.getvalue()


# --------------------------------------------------------------------------- gradescope


def _case_lines(e) -> list[str]:
    lines = []
    for c in e.cases:
        mark = "✓" if c["passed"] else "✗"
        lines.append(f"- {mark} {safe_md(c['name'])}"
                     + (f": {safe_md(c['message'])}" if c["message"] else ""))
    return lines


def _exercise_md(e) -> str:
    parts = [safe_md(e.summary)]
    if e.status != "not_done":
        parts += _case_lines(e)
    if e.status in ("failed", "error") and e.hint:
        parts.append(f"Hint: {e.hint}")
    if getattr(e, "text", ""):  # a written interpretation
        parts.append(f"> {safe_md(e.text)}")
    return "\n".join(parts)


def gradescope(results) -> str:
    """Gradescope's results.json (one file; several submissions are added up)."""
    tests, outputs, score, seconds = [], [], 0.0, 0.0
    prefix = len(results) > 1
    labels = feedback_names([r.submission for r in results])  # unique per submission
    for r, label in zip(results, labels, strict=True):
        seconds += r.seconds
        name = safe_md(Path(r.submission).name)
        if not r.graded:
            outputs.append(f"{name} could not be graded: {safe_md(r.error)}")
            continue
        score += r.score
        for e in r.exercises:
            tests.append({
                "name": (f"{label}: " if prefix else "") + f"{e.title} [{e.id}]",
                "score": e.points, "max_score": e.max_points,
                "status": "passed" if e.status == "passed" else "failed",
                "output": _exercise_md(e), "output_format": "md", "visibility": "visible"})
        if r.notes:
            outputs.append(f"While running {name}:\n"
                           + "\n".join(f"- {safe_md(n)}" for n in r.notes))
    out = {"score": score, "execution_time": round(seconds, 1), "output_format": "md",
           "output": "\n\n".join(outputs) or "Graded by normcourse grade.",
           "tests": tests, "visibility": "visible", "stdout_visibility": "hidden"}
    return json.dumps(out, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- feedback


def feedback_markdown(r) -> str:
    lines = [f"# Feedback on {safe_md(Path(r.submission).name)}", ""]
    if not r.graded:
        lines += ["**This notebook could not be graded.**", "", safe_md(r.error), "",
                  "Please fix this and hand it in again, or ask your teacher.", ""]
        return "\n".join(lines)
    lines += [f"Lesson `{r.lesson}` — **score: {_pts(r.score)} / {_pts(r.max_score)}**", ""]
    for e in r.exercises:
        verdict = {"passed": "✓ passed", "failed": "✗ not yet right", "not_done": "… not done",
                   "error": "✗ could not be checked"}.get(e.status, e.status)
        lines += [f"## {e.title} — {_pts(e.points)} / {_pts(e.max_points)} ({verdict})", "",
                  safe_md(e.summary), ""]
        if e.cases and e.status != "not_done":
            lines += ["| test case | result | details |", "|---|---|---|"]
            for c in e.cases:
                lines.append(f"| {safe_md(c['name'])} | {'✓ pass' if c['passed'] else '✗ fail'} "
                             f"| {safe_md(c['message'])} |")
            lines.append("")
        if e.status in ("failed", "error") and e.hint:
            lines += [f"**Hint:** {e.hint}", ""]
        if getattr(e, "text", ""):  # a written interpretation, for the teacher to read
            lines += [f"> {safe_md(e.text)}", ""]
    if r.notes:
        lines += ["## What happened when your notebook ran", ""]
        lines += [f"- {safe_md(n)}" for n in r.notes] + [""]
    lines += ["The grader runs your notebook from top to bottom in a fresh Python, then calls "
              "each of your functions on new test cases.", ""]
    return "\n".join(lines)


def feedback_names(submissions: list[str]) -> list[str]:
    """One file name per submission: its path below the folder all of them share.

    ``submitted/alice/01/01.ipynb`` and ``submitted/bob/01/01.ipynb`` give
    ``alice__01__01`` and ``bob__01__01``; names never collide.
    """
    paths = [Path(s).resolve() for s in submissions]
    try:
        common = Path(os.path.commonpath([p.parent for p in paths])) if paths else Path("/")
    except ValueError:
        common = Path("/")
    names, taken = [], set()
    for p in paths:
        try:
            rel = p.relative_to(common)
        except ValueError:
            rel = Path(p.name)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", "__".join(rel.with_suffix("").parts)) or "submission"
        base, n = name, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name)
        names.append(name)
    return names


def write_feedback(results, folder: Path) -> list[Path]:
    """One feedback file per submission, each written atomically (:mod:`normcourse.files`)."""
    from normcourse.files import write_atomic

    return [write_atomic(Path(folder) / f"{name}.md", feedback_markdown(r))
            for r, name in zip(results, feedback_names([r.submission for r in results]),
                               strict=True)]
