"""``normcourse report``: what a class got wrong, from the grades JSON (issue 21).

    normcourse report grades.json [more.json...] --out report.html   # or --format md

It reads any number of files of ``normcourse grade --format json`` (shards, lessons) and
shows, per lesson and exercise: the pass rate, the points distribution, the named
mistakes (:mod:`normcourse.grading.mistakes`) ranked by how many submissions made them,
with their share and one anonymised example message; the predictions' share per option
next to the option the lesson's measurement bears out; per written answer, the share of
the class that wrote one, the median word count and a few anonymised examples
(:mod:`normcourse.classtext`); the submissions that could not be graded and why; the
time taken. The HTML is one self-contained file: the figures
(:mod:`normcourse.classfigures`) are embedded, and its Content-Security-Policy lets it
fetch nothing. Everything in a grades file may come from a submission: every string is
escaped for its format and cut to ``CAP`` characters (:mod:`normcourse.classtext`).
"""

from __future__ import annotations

import html
import json
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

from normcourse import classtext
from normcourse.classtext import CAP, anonymised, cap  # noqa: F401 (the report's API)
from normcourse.grading.report import safe_md


class ReportError(ValueError):
    """A grades file that cannot be read; the message names it."""


def load(paths) -> list[dict]:
    """The submissions of every grades file, in the order given."""
    subs = []
    for path in paths:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ReportError(f"{path}: cannot read it as JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != "normcourse-grades" \
                or not isinstance(data.get("submissions"), list):
            raise ReportError(f"{path}: not a grades file of `normcourse grade --format json`")
        subs += [s for s in data["submissions"] if isinstance(s, dict)]
    return subs


def _mistakes(rows: list) -> list[dict]:
    """Named mistakes of one exercise (``rows``: (submission, exercise dict)), ranked."""
    who, example = Counter(), {}
    for sub, ex in sorted(rows, key=lambda r: str(r[0])):
        seen = set()
        for case in ex.get("cases") or []:
            mid = case.get("mistake") if isinstance(case, dict) else ""
            if mid and isinstance(mid, str) and mid not in seen:
                seen.add(mid)
                example.setdefault(mid, anonymised(str(case.get("message", "")), sub))
        who.update(seen)
    n = len(rows)
    return [{"id": mid, "count": c, "share": c / n, "example": example[mid]}
            for mid, c in sorted(who.items(), key=lambda kv: (-kv[1], kv[0]))]


def _prediction(ex_id: str, rows: list) -> dict | None:
    from helpers.exercises import all_exercises

    spec = all_exercises().get(ex_id)
    if spec is None or spec.kind != "prediction":
        return None
    chosen = Counter(str(ex.get("choice") or "") for _, ex in rows)
    n = len(rows)
    options = [{"letter": letter, "text": text, "count": chosen[letter],
                "share": chosen[letter] / n, "observed": letter == spec.observed_letter()}
               for letter, text in spec.options]
    return {"options": options, "none": chosen[""], "observed": spec.observed_letter()}


def summarize(subs: list[dict]) -> dict:
    """Everything the report shows, as plain data (tests read it)."""
    graded = [s for s in subs if s.get("graded")]
    by_lesson = defaultdict(list)
    for s in graded:
        by_lesson[str(s.get("lesson"))].append(s)
    lessons = []
    for lesson in sorted(by_lesson):
        group = by_lesson[lesson]
        rows = defaultdict(list)
        for s in group:
            for ex in s.get("exercises") or []:
                if isinstance(ex, dict):
                    rows[str(ex.get("id"))].append((s.get("submission", ""), ex))
        exercises = []
        for ex_id, ex_rows in rows.items():
            n = len(ex_rows)
            passed = sum(ex.get("status") == "passed" for _, ex in ex_rows)
            exercises.append({"id": ex_id, "title": str(ex_rows[0][1].get("title", "")), "n": n,
                              "passed": passed, "pass_rate": passed / n,
                              "max_points": ex_rows[0][1].get("max_points", 0),
                              "mistakes": _mistakes(ex_rows),
                              "prediction": _prediction(ex_id, ex_rows),
                              "written": classtext.written(ex_id, ex_rows)})
        lessons.append({"lesson": lesson, "n": len(group),
                        "scores": sorted(float(s.get("score") or 0) for s in group),
                        "max_score": max(float(s.get("max_score") or 0) for s in group),
                        "exercises": exercises})
    seconds = [float(s.get("seconds") or 0) for s in subs]
    return {"submissions": len(subs), "graded": len(graded), "lessons": lessons,
            "ungradable": [(str(s.get("submission", "")), str(s.get("error", "")))
                           for s in subs if not s.get("graded")],
            "time": {"total": sum(seconds), "median": statistics.median(seconds) if seconds else 0,
                     "max": max(seconds, default=0)}}


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _time_line(t: dict) -> str:
    return (f"{t['total']:.1f} s of grading in all (one kernel at a time; less with --jobs); "
            f"median {t['median']:.1f} s per submission, slowest {t['max']:.1f} s")


def markdown(summary: dict) -> str:
    e = lambda x: safe_md(cap(x))  # noqa: E731
    out = ["# Class report", "",
           f"{summary['submissions']} submissions, {summary['graded']} graded. "
           f"Time: {_time_line(summary['time'])}.", ""]
    for les in summary["lessons"]:
        out += [f"## Lesson {e(les['lesson'])} ({les['n']} graded)", "",
                f"Median score {statistics.median(les['scores']):g} of {les['max_score']:g}.", "",
                "| exercise | passed | pass rate |", "|---|---|---|"]
        out += [f"| {e(x['id'])} | {x['passed']} of {x['n']} | {_pct(x['pass_rate'])} |"
                for x in les["exercises"]]
        out.append("")
        for x in les["exercises"]:
            if x["prediction"]:
                p = x["prediction"]
                out += [f"### Prediction {e(x['id'])}", "", "| option | chosen by | share | "
                        "what happened |", "|---|---|---|---|"]
                out += [f"| {o['letter']}: {e(o['text'])} | {o['count']} of {x['n']} | "
                        f"{_pct(o['share'])} | {'observed' if o['observed'] else ''} |"
                        for o in p["options"]]
                out += [f"| no prediction | {p['none']} of {x['n']} | | |", ""]
            elif x["mistakes"]:
                out += [f"### Mistakes in {e(x['id'])}", "",
                        "| mistake | submissions | share | example (anonymised) |",
                        "|---|---|---|---|"]
                out += [f"| {e(m['id'])} | {m['count']} of {x['n']} | {_pct(m['share'])} | "
                        f"{e(m['example'])} |" for m in x["mistakes"]]
                out.append("")
            if x["written"]:
                w = x["written"]
                out += [f"### Written answers to {e(x['id'])}", "",
                        f"{w['answered']} of {x['n']} answered ({_pct(w['share'])}); "
                        f"{classtext.words_line(w['median_words'])}."]
                if w["examples"]:
                    out += ["", f"Examples (anonymised, up to {classtext.EXAMPLES}, at most "
                                f"{classtext.EXAMPLE_CAP} characters each):", ""]
                    out += [f"- {classtext.md_prose(t)}" for t in w["examples"]]
                out.append("")
    if summary["ungradable"]:
        out += ["## Not graded", ""]
        out += [f"- {e(s)}: {e(why)}" for s, why in summary["ungradable"]] + [""]
    return "\n".join(out)


def _table(head: list, rows: list) -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


CSS = ("body{font-family:sans-serif;max-width:60em;margin:1em auto;color:#222}"
       "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;"
       "padding:2px 6px;text-align:left;vertical-align:top}img{max-width:100%}"
       ".observed{font-weight:bold;color:#0072B2}")
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def page(summary: dict, figures: dict | None = None) -> str:
    """The report as one self-contained HTML page (``figures``: name -> (PNG base64, alt))."""
    e = lambda x: html.escape(cap(x))  # noqa: E731
    figures = figures or {}

    def fig(name):
        if name not in figures:
            return ""
        data, alt = figures[name]
        return f'<p><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}"></p>'

    out = [f"<h1>Class report</h1><p>{summary['submissions']} submissions, "
           f"{summary['graded']} graded. Time: {html.escape(_time_line(summary['time']))}.</p>"]
    for i, les in enumerate(summary["lessons"]):
        out.append(f"<h2>Lesson {e(les['lesson'])} ({les['n']} graded)</h2>")
        out.append(fig(f"lesson-{i}"))
        out.append(_table(["exercise", "passed", "pass rate"],
                          [[e(x["id"]), f"{x['passed']} of {x['n']}", _pct(x["pass_rate"])]
                           for x in les["exercises"]]))
        for x in les["exercises"]:
            p = x["prediction"]
            if p:
                out.append(f"<h3>Prediction {e(x['id'])}</h3>")
                out.append(_table(["option", "chosen by", "share", "what happened"], [
                    [f"{e(o['letter'])}: {e(o['text'])}", f"{o['count']} of {x['n']}",
                     _pct(o["share"]), '<span class="observed">observed</span>'
                     if o["observed"] else ""] for o in p["options"]]
                    + [["no prediction", f"{p['none']} of {x['n']}", "", ""]]))
            elif x["mistakes"]:
                out.append(f"<h3>Mistakes in {e(x['id'])}</h3>")
                out.append(_table(["mistake", "submissions", "share", "example (anonymised)"], [
                    [e(m["id"]), f"{m['count']} of {x['n']}", _pct(m["share"]),
                     e(m["example"])] for m in x["mistakes"]]))
            if x["written"]:
                w = x["written"]
                out.append(f"<h3>Written answers to {e(x['id'])}</h3><p>{w['answered']} of "
                           f"{x['n']} answered ({_pct(w['share'])}); "
                           f"{classtext.words_line(w['median_words'])}.</p>")
                if w["examples"]:
                    out.append(f"<p>Examples (anonymised, up to {classtext.EXAMPLES}, at most "
                               f"{classtext.EXAMPLE_CAP} characters each):</p><ul>" + "".join(
                                   f"<li>{html.escape(cap(t, classtext.EXAMPLE_CAP))}</li>"
                                   for t in w["examples"]) + "</ul>")
    if summary["ungradable"]:
        out.append("<h2>Not graded</h2><ul>" + "".join(
            f"<li>{e(s)}: {e(why)}</li>" for s, why in summary["ungradable"]) + "</ul>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<title>Class report</title><style>{CSS}</style></head><body>"
            + "\n".join(out) + "</body></html>\n")


def render(paths, fmt: str = "html") -> str:
    summary = summarize(load(paths))
    if fmt == "md":
        return markdown(summary)
    from normcourse.classfigures import figures

    return page(summary, figures(summary))


def main(args) -> int:
    from normcourse.files import write_atomic

    try:
        text = render(args.grades, args.format)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        write_atomic(args.out, text)
        print(f"report: {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
