"""The class report's figures (:mod:`normcourse.classreport`): PNGs as base64 text to embed.

Okabe-Ito colours (:mod:`helpers.plots.style`) and hatching, so that colour is never the
only cue; every axis is labelled. Labels from a grades file are cut short (they may come
from a submission); matplotlib draws them as text, never as markup (``usetex`` off,
``$`` escaped).
"""

from __future__ import annotations

import base64
import io

from normcourse.classreport import cap


def _label(text) -> str:
    return cap(text, 40).replace("$", r"\$")


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _pass_rates(plt, style, les):
    exs = les["exercises"]
    fig, ax = plt.subplots(figsize=(6.4, 0.4 * len(exs) + 1.2), layout="constrained")
    ys = range(len(exs))
    ax.barh(ys, [100 * x["pass_rate"] for x in exs], color=style.OKABE_ITO["blue"],
            hatch="//", edgecolor="black")
    ax.set_yticks(list(ys), [_label(x["id"]) for x in exs])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("submissions that pass (%)")
    ax.set_title(f"Pass rate per exercise, lesson {_label(les['lesson'])}")
    return fig


def _scores(plt, style, les):
    fig, ax = plt.subplots(figsize=(6.4, 3.0), layout="constrained")
    top = les["max_score"]
    edges = [x - 0.5 for x in range(int(top) + 2)] if top <= 40 else 20
    ax.hist(les["scores"], bins=edges, color=style.OKABE_ITO["orange"], hatch="..",
            edgecolor="black")
    ax.set_xlabel(f"score (points, out of {top:g})")
    ax.set_ylabel("submissions")
    ax.set_title(f"Points distribution, lesson {_label(les['lesson'])}")
    return fig


def _prediction(plt, style, ex):
    opts = ex["prediction"]["options"]
    fig, ax = plt.subplots(figsize=(6.4, 2.8), layout="constrained")
    colours = [style.OKABE_ITO["green"] if o["observed"] else style.OKABE_ITO["sky"]
               for o in opts]
    ax.bar(range(len(opts)), [100 * o["share"] for o in opts], color=colours,
           hatch=["xx" if o["observed"] else "" for o in opts], edgecolor="black")
    ax.set_xticks(range(len(opts)), [f"{o['letter']}" + (" (observed)" if o["observed"]
                                                        else "") for o in opts])
    ax.set_ylim(0, 100)
    ax.set_xlabel("option predicted before observing (hatched: what happened)")
    ax.set_ylabel("share of the class (%)")
    ax.set_title(f"Predictions, {_label(ex['id'])}")
    return fig


def figures(summary: dict) -> dict:
    """name -> (PNG as base64, alt text), the names :func:`classreport.page` places."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plots import style

    out = {}
    with matplotlib.rc_context({**style.COURSE_STYLE, "text.usetex": False}):
        for i, les in enumerate(summary["lessons"]):
            made = [(f"pass-{i}", _pass_rates, les, "pass rate per exercise"),
                    (f"scores-{i}", _scores, les, "points distribution")]
            made += [(f"predict-{i}-{j}", _prediction, ex, f"predictions of {ex['id']}")
                     for j, ex in enumerate(les["exercises"]) if ex["prediction"]]
            for name, draw, data, alt in made:
                fig = draw(plt, style, data)
                try:
                    out[name] = (_png(fig), cap(f"{alt}, lesson {les['lesson']}", 80))
                finally:
                    plt.close(fig)
    return out
