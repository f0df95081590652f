import numpy as np

from helpers.checking.calling import run_case
from helpers.checking.verdict import judge
from helpers.exercises import get_exercise
from helpers.widgets.setup_check import (
    demo_widget,
    environment_report,
    print_environment_report,
    wave,
)


def test_environment_report_flags_missing_and_old_packages(capsys):
    rows = environment_report({"numpy": "1.0", "surely-not-installed-pkg": "1.0",
                               "matplotlib": "999.0"})
    by = {r["package"]: r for r in rows}
    assert by["numpy"]["ok"] and by["numpy"]["installed"]
    assert not by["surely-not-installed-pkg"]["ok"] and "not installed" in by[
        "surely-not-installed-pkg"]["advice"]
    assert not by["matplotlib"]["ok"] and "pip install -U matplotlib" in by["matplotlib"]["advice"]
    assert print_environment_report(rows) is False
    assert "Fix the lines marked ✗" in capsys.readouterr().out


def test_installed_environment_is_ready():
    assert all(r["ok"] for r in environment_report())


def test_wave_and_demo_widget_redraws():
    t, s = wave(3)
    assert t.shape == s.shape == (200,)
    assert np.isclose(s[np.argmin(np.abs(t - 1 / 12))], 1.0, atol=0.02)  # peak at t = 1/(4f)
    shown = demo_widget(2)
    assert "open in JupyterLab" in repr(shown)
    assert shown._repr_mimebundle_()["text/plain"] == repr(shown)
    slider, image = shown.widget.children
    before = image.value
    slider.value = 7
    assert image.value != before and image.value[:4] == b"\x89PNG"


def _grade(fn):
    ex = get_exercise("ex0_ranges")
    cases = ex.cases(np.random.default_rng(0))
    return judge(ex, cases, [run_case(fn, c) for c in cases])


def test_warm_up_exercise_accepts_right_and_explains_wrong_axis():
    assert _grade(lambda X: X.max(axis=0) - X.min(axis=0)).passed
    report = _grade(lambda X: X.max(axis=1) - X.min(axis=1))
    assert not report.passed
    assert "one per example (row)" in report.results[1].message
    assert "not done yet" in _grade(lambda X: (_ for _ in ()).throw(NotImplementedError())).summary()
