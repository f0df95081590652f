"""The contour explorer headless: the pure core (helpers.core.problems), the drawing
(helpers.plots.explorer) and the widget's callbacks (helpers.widgets.contour_explorer).
Its update latency is measured in benchmarks/bench_widgets.py, not here."""

import ipywidgets as W
import numpy as np
import pytest

from helpers.core.data import age_income
from helpers.core.problems import (
    describe,
    explore,
    explore_scale,
    fit_window,
    make_problem,
    scale_problem,
)
from helpers.plots.explorer import Renderer, draw_state, figure_legend
from helpers.widgets.contour_explorer import ContourExplorer, scale_explorer

PNG = b"\x89PNG\r\n\x1a\n"


def test_scale_problem_condition_number_depends_on_unit():
    conds = {k: scale_problem(k).condition_number for k in range(6)}
    assert min(conds, key=conds.get) == 3  # thousand USD is closest to age's scale
    assert conds[0] > 1e6 and conds[3] < 20
    # curvature grows with the square of the scale: 10x larger feature -> ~100x smaller lr
    assert scale_problem(1).lr_max / scale_problem(0).lr_max == pytest.approx(100, rel=0.01)


def test_problem_window_and_start():
    p = scale_problem(3)
    assert p.grid.shape == (len(p.w2), len(p.w1))
    assert p.w1[0] < p.w_star[0] < p.w1[-1] and p.w2[0] < p.w_star[1] < p.w2[-1]
    assert (p.w1[-1] - p.w1[0]) == pytest.approx(p.w2[-1] - p.w2[0])  # square window
    assert p.levels[0] > p.loss_star
    with pytest.raises(ValueError):
        make_problem(np.ones((5, 3)), np.ones(5))


def test_explore_scale_state():
    s = explore_scale(3, 0.5, "GD", n_steps=25)
    assert s["ws"].shape == (26, 2) and s["losses"].shape == (26,)
    np.testing.assert_allclose(s["ws"][0], scale_problem(3).w0)
    assert s["lr"] == pytest.approx(0.5 * scale_problem(3).lr_max)
    assert not s["diverged"] and s["final_loss"] < s["losses"][0]
    assert s["final_loss"] >= s["loss_star"] - 1e-12


def test_explore_diverges_above_two_over_lambda_max():
    assert explore_scale(3, 1.1, "GD", n_steps=400)["diverged"]
    assert not explore_scale(3, 0.95, "GD", n_steps=400)["diverged"]
    assert "diverged" in describe(explore_scale(3, 1.1, "GD", n_steps=400))


def test_explore_sgd_is_seeded_and_differs_from_gd():
    a = explore_scale(3, 0.3, "SGD", seed=1)
    b = explore_scale(3, 0.3, "SGD", seed=1)
    g = explore_scale(3, 0.3, "GD")
    np.testing.assert_array_equal(a["ws"], b["ws"])
    assert len(a["ws"]) == len(g["ws"])
    assert not np.allclose(a["ws"], g["ws"])
    with pytest.raises(ValueError):
        explore_scale(3, 0.3, "Adam")


def test_renderer_png_changes_with_state():
    r = Renderer()
    p1 = r.png(explore_scale(3, 0.5))
    p2 = r.png(explore_scale(3, 0.9))
    p3 = r.png(explore_scale(0, 0.9))
    p4 = r.png(explore_scale(3, 0.5))  # back to a cached background
    assert all(p.startswith(PNG) for p in (p1, p2, p3, p4))
    assert len({p1, p2, p3}) == 3
    assert p4 == p1  # blitting restores the same picture


def test_widget_sliders_redraw():
    e = scale_explorer(income_exp=0, lr_fraction=0.9, method="GD")
    first = bytes(e.image.value)
    assert first.startswith(PNG)
    assert e.state["condition_number"] > 1e6
    e.controls["income_exp"].value = 3
    assert e.state["condition_number"] < 20
    assert bytes(e.image.value) != first
    before = bytes(e.image.value)
    e.lr.value = 0.5
    assert e.state["lr_fraction"] == 0.5 and bytes(e.image.value) != before
    e.method.value = "SGD"
    assert e.state["method"] == "SGD"
    assert "SGD" in e.status.value
    e.lr.value = 1.2
    e.method.value = "GD"
    assert e.state["diverged"] and "diverged" in e.status.value


def test_widget_text_output_is_deterministic():
    e = scale_explorer()
    bundle = e._repr_mimebundle_()
    assert bundle["text/plain"] == repr(e)
    assert "0x" not in bundle["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert isinstance(e.widget, W.VBox)


def test_generic_explorer_with_a_dropdown():
    """Lesson 2's pattern: a transform chosen from a dropdown."""
    X, y = age_income()
    transforms = {"none": lambda X: X / [1, 1000],
                  "z-score": lambda X: (X - X.mean(0)) / X.std(0)}
    calls = []

    def problem_for(scaling):
        calls.append(scaling)
        Xt = transforms[scaling](X)
        return make_problem(Xt, y - y.mean() if scaling == "z-score" else y, ("w_1 (a)", "w_2 (b)"))

    dd = W.Dropdown(options=list(transforms), value="none")
    e = ContourExplorer(problem_for, {"scaling": dd}, prerender=True)
    assert sorted(calls) == ["none", "z-score"]  # prerender visits every option once
    c0 = e.state["condition_number"]
    dd.value = "z-score"
    assert e.state["condition_number"] < c0
    dd.value = "none"
    assert calls.count("none") == 1  # cached


def test_prerender_on_view_waits_for_a_front_end():
    """The lesson's default: backgrounds are drawn when JupyterLab first shows the image."""
    e = scale_explorer(income_exp=0)
    assert e.image._view_count == 0 and len(e._renderer._backgrounds) == 1
    e.image._view_count = 1  # what the front end reports when it displays the image
    assert e.prerendered and len(e._renderer._backgrounds) == 6
    e.image._view_count = 2  # a second view draws nothing again
    assert len(e._renderer._backgrounds) == 6
    assert len(scale_explorer(prerender=True)._renderer._backgrounds) == 6
    assert len(scale_explorer(prerender=False)._renderer._backgrounds) == 1


def test_fit_window_and_figure_legend():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    p = scale_problem(3)
    sgd_state = explore(p, 0.9, "SGD", n_steps=30, seed=0)
    view = fit_window(p, sgd_state["ws"])
    ws = sgd_state["ws"]
    assert view.w1[0] <= ws[:, 0].min() and ws[:, 0].max() <= view.w1[-1]
    assert view.w2[0] <= ws[:, 1].min() and ws[:, 1].max() <= view.w2[-1]
    assert view.w1[-1] - view.w1[0] == pytest.approx(view.w2[-1] - view.w2[0])  # still square
    np.testing.assert_array_equal(view.w_star, p.w_star)
    inside = explore(p, 0.5, "GD")
    assert fit_window(p, inside["ws"]) is p  # already in view: unchanged
    fig = Figure(layout="constrained")
    ax = fig.add_subplot()
    draw_state(sgd_state, ax, legend=False, fit=True)
    assert ax.get_legend() is None
    assert ax.get_ylim()[1] >= ws[:, 1].max()
    legend = figure_legend(fig, methods=["GD", "SGD"])
    assert [t.get_text() for t in legend.get_texts()] == ["minimum", "GD", "SGD", "start", "end"]


def test_describe_says_when_the_path_leaves_the_window():
    sgd_state = explore_scale(3, 0.9, "SGD", seed=0)  # strays above the window (lesson 1)
    assert "outside the window" in describe(sgd_state)
    assert "outside the window" not in describe(explore_scale(3, 0.5, "GD"))


def test_a_takeaway_shows_its_markdown_and_a_wrapped_plain_form():
    from helpers.widgets.display import takeaway_bundle

    text = "**Take-away.** " + " ".join(f"value {i / 7:.3f}" for i in range(40))
    bundle = takeaway_bundle(text)
    assert bundle["text/markdown"] == text
    lines = bundle["text/plain"].splitlines()
    assert len(lines) > 1 and max(map(len, lines)) <= 95
    assert " ".join(lines) == text  # the same words, nothing lost


def test_zoom_window_frames_the_path_only():
    from helpers.core.problems import zoom_window

    p = scale_problem(0)  # raw: GD's steps along w_age are about 1e-5, along w_income 1e-2
    ws = explore(p, 0.9, "GD", n_steps=30)["ws"]
    view = zoom_window(p, ws)
    for k, axis in enumerate((view.w1, view.w2)):
        span = ws[:, k].max() - ws[:, k].min()
        assert axis[0] < ws[:, k].min() and ws[:, k].max() < axis[-1]
        assert axis[-1] - axis[0] == pytest.approx(1.2 * span)  # the path and 10% each side
    assert (view.w1[-1] - view.w1[0]) < 1e-3 * (p.w1[-1] - p.w1[0])  # far narrower than before
    assert view.grid.shape == p.grid.shape and view.levels.min() >= view.grid.min()


def test_draw_zoomed_path_numbers_the_steps_and_names_the_scale():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from helpers.plots.explorer import draw_zoomed_path

    state = explore(scale_problem(0), 0.9, "GD", n_steps=30)
    ax = Figure().add_subplot()
    draw_zoomed_path(state, ax)
    assert [t.get_text() for t in ax.texts] == [f"step {k}" for k in range(5)]
    assert ax.get_xlabel() == "w_age ($10^{-5}$ thousand USD per year)"
    lo, hi = ax.get_xlim()
    assert hi - lo < 1e-4  # the window holds the path, not the minimum 0.05 away


def test_draw_steps_across_shows_the_weight_crossing_the_floor_at_every_step():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from helpers.plots.explorer import draw_steps_across

    state = explore(scale_problem(0), 0.9, "GD", n_steps=30)
    ax = Figure().add_subplot()
    draw_steps_across(state, ax)
    floor, path = ax.lines
    np.testing.assert_allclose(path.get_ydata(), state["ws"][:, 1])
    side = np.sign(path.get_ydata()[:10] - floor.get_ydata()[0])
    assert (side[1:] == -side[:-1]).all()  # the zigzag: the other side at every step
    assert ax.get_ylabel() == state["problem"].labels[1] and ax.get_xlabel() == "step"
