"""The class report's figures (:mod:`normcourse.classreport`): PNGs as base64 text to embed.

Okabe-Ito colours (:mod:`helpers.plots.style`) and hatching, so that colour is never the
only cue; every axis is labelled. Labels from a grades file are cut short (they may come
from a submission); matplotlib draws them as text, never as markup (``usetex`` off,
``$`` escaped).
"""

from __future__ import annotations

import base64
import io

from normcourse.grading.report import safe_text


def cap(text, n: int) -> str:
    """``text`` on one line, safe (:func:`safe_text`), at most ``n`` characters."""
    text = safe_text(str(text))
    return text if len(text) <= n else text[:n - 1] + "…"


def _label(text) -> str:
    return cap(text, 40).replace("$", r"\$")


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _pass_rates(ax, style, les):
    exs = les["exercises"]
    ys = range(len(exs))
    ax.barh(ys, [100 * x["pass_rate"] for x in exs], color=style.OKABE_ITO["blue"],
            hatch="//", edgecolor="black")
    ax.set_yticks(list(ys), [_label(x["id"]) for x in exs])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("submissions that pass (%)")
    ax.set_title(f"Pass rate per exercise, lesson {_label(les['lesson'])}")


def _scores(ax, style, les):
    top = les["max_score"]
    edges = [x - 0.5 for x in range(int(top) + 2)] if top <= 40 else 20
    ax.hist(les["scores"], bins=edges, color=style.OKABE_ITO["orange"], hatch="..",
            edgecolor="black")
    ax.set_xlabel(f"score (points, out of {top:g})")
    ax.set_ylabel("submissions")
    ax.set_title(f"Points distribution, lesson {_label(les['lesson'])}")


def _prediction(ax, style, ex):
    opts = ex["prediction"]["options"]
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


def figures(summary: dict) -> dict:
    """name -> (PNG as base64, alt text): one figure per lesson (``lesson-I``, placed by
    :func:`classreport.page`): its pass rates, its points, then each prediction's shares."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plots import style

    out = {}
    with matplotlib.rc_context({**style.COURSE_STYLE, "text.usetex": False}):
        for i, les in enumerate(summary["lessons"]):
            preds = [ex for ex in les["exercises"] if ex["prediction"]]
            heights = [0.4 * len(les["exercises"]) + 1.2, 2.6] + [2.6] * len(preds)
            fig, axes = plt.subplots(len(heights), 1, figsize=(6.4, sum(heights)),
                                     height_ratios=heights, layout="constrained")
            try:
                _pass_rates(axes[0], style, les)
                _scores(axes[1], style, les)
                for ax, ex in zip(axes[2:], preds, strict=True):
                    _prediction(ax, style, ex)
                alt = (f"lesson {les['lesson']}: pass rate per exercise, points distribution"
                       + (", predictions per option" if preds else ""))
                out[f"lesson-{i}"] = (_png(fig), cap(alt, 120))
            finally:
                plt.close(fig)
    return out
