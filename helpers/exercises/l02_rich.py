"""Lesson 2's experiment exercise: how far can rich people stand out after scaling?

The learner's ``rich_experiment(income)`` chooses its settings (how many copies k of a rich
person, which rich incomes v), adds k people earning v to the ordinary ``income``, fits each
scaling on everyone and returns, with the settings, a rich person's scaled income: z-score
(mean, population std) and robust (median, interquartile range). The judge re-runs the
learner's settings in its own process and compares. The textbook number, "v is
(v − mean) / std of the others standard deviations above them", is wrong on every case: the
settings must include an income 100 times the largest ordinary one, where the rich people's
own weight in the mean and the standard deviation caps their z-score near √(n/k).
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch, close, expect_number

#: the largest rich income must be at least this many times the largest ordinary income
FAR = 100.0
#: at least one number of copies this large (and 1 among them)
MANY = 10


def rich_cases(rng):
    from helpers.core.data import age_income

    lesson, _ = age_income(n=200, seed=0)
    other, _ = age_income(n=40, seed=int(rng.integers(1, 1000)))
    return [
        Case("the lesson's 200 incomes (USD)", (lesson[:, 1],)),
        Case("40 other people's incomes (USD)", (other[:, 1],)),
        Case("random: 60 log-normal incomes", (rng.lognormal(10.5, 0.6, size=60),)),
    ]


def scaled_rich(income, copies, incomes, center, spread):
    """A rich person's scaled income for each (k, v): one row per k, one column per v."""
    out = np.empty((len(copies), len(incomes)))
    for a, k in enumerate(copies):
        for c, v in enumerate(incomes):
            data = np.concatenate([income, np.full(k, v)])
            out[a, c] = (v - center(data)) / spread(data)
    return out


def _std(a):
    return a.std()


def _iqr(a):
    q1, q3 = np.percentile(a, [25, 75])
    return q3 - q1


def _whole_numbers(values, name):
    if not isinstance(values, (list, tuple)) or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise Mismatch(f"{name} should be a list of whole numbers, got {values!r}"[:160],
                       "settings")
    return [int(v) for v in values]


def _settings(value, income):
    if not isinstance(value, dict):
        got = "None (did you forget `return`?)" if value is None else type(value).__name__
        raise Mismatch(f"expected a dict with the keys copies, incomes, z, robust; got {got}",
                       "settings")
    missing = [k for k in ("copies", "incomes", "z", "robust") if k not in value]
    if missing:
        raise Mismatch(f"the dict lacks {', '.join(map(repr, missing))}: return your settings "
                       "with your measurements, so that they can be re-run", "settings")
    copies = _whole_numbers(value["copies"], "copies")
    if len(set(copies)) < 3 or 1 not in copies or max(copies) < MANY:
        raise Mismatch(f"choose at least 3 different numbers of copies, among them 1 and one "
                       f"of {MANY} or more (got {copies})", "settings")
    if min(copies) < 1 or max(copies) > len(income):
        raise Mismatch(f"each number of copies must lie between 1 and the {len(income)} "
                       f"ordinary people (got {copies})", "settings")
    incomes = value["incomes"]
    if not isinstance(incomes, (list, tuple, np.ndarray)):
        raise Mismatch(f"incomes should be a list of numbers, got {type(incomes).__name__}",
                       "settings")
    incomes = [expect_number(v, "each rich income") for v in incomes]
    top = float(np.max(income))
    if len(set(incomes)) < 3 or min(incomes) <= top or max(incomes) < FAR * top:
        raise Mismatch(f"choose at least 3 different rich incomes, all above the largest "
                       f"ordinary income ({top:,.0f}), the largest at least {FAR:g} times it "
                       f"(got {[float(f'{v:.4g}') for v in incomes][:6]})", "settings")
    tables = []
    for key in ("z", "robust"):
        try:
            table = np.asarray(value[key], dtype=float)
        except (TypeError, ValueError):
            raise Mismatch(f"{key} should be a table of numbers", "shape") from None
        if table.shape != (len(copies), len(incomes)):
            raise Mismatch(f"{key} has shape {table.shape}; expected one row per number of "
                           f"copies and one column per income: ({len(copies)}, {len(incomes)})",
                           "shape")
        if not np.isfinite(table).all():
            raise Mismatch(f"{key} contains NaN or inf", "nan")
        tables.append(table)
    return copies, incomes, *tables


def rich_judge(case, value):
    (income,) = case.args
    copies, incomes, z, robust = _settings(value, income)
    z_ref = scaled_rich(income, copies, incomes, np.mean, _std)
    r_ref = scaled_rich(income, copies, incomes, np.median, _iqr)

    def near(a, b):  # rtol 1e-6: incomes rounded to float32 move a median or an IQR (a
        # difference of two percentiles) by a few 1e-7; every named mistake is off by > 1e-3
        return close(a, b, rtol=1e-6, atol=1e-9)

    if near(z, r_ref) and near(robust, z_ref):
        raise Mismatch("you returned the robust values as z and the z-scores as robust",
                       "swapped")
    v = np.array(incomes)[None, :] + 0 * z_ref
    textbook = (v - income.mean()) / income.std()
    if near(z, textbook):
        raise Mismatch("your z-scores are (v − mean) / std of the ordinary people only: the "
                       "textbook number, not a measurement. Fit the mean and std on everyone, "
                       "the rich people included", "textbook")
    if not near(z, z_ref):
        n = len(income)
        sample = z_ref * np.sqrt((n + np.array(copies)[:, None] - 1)
                                 / (n + np.array(copies)[:, None]))
        if near(z, sample):
            raise Mismatch("your z-scores divide by the sample std (n − 1): the z-score uses "
                           "the population std (divide by n)", "sample-std")
        if near(z, np.broadcast_to(z_ref[copies.index(1)], z_ref.shape)):
            raise Mismatch("your z-scores are the same for every number of copies: add k "
                           "people earning v, not one", "copies-ignored")
        a, c = np.unravel_index(np.argmax(np.abs(z - z_ref)), z_ref.shape)
        raise Mismatch(f"for k = {copies[a]} copies at {incomes[c]:,.0f} you measured a "
                       f"z-score of {z[a, c]:.6g}; re-running your settings gives "
                       f"{z_ref[a, c]:.6g}. Are the k rich people in the data the mean and "
                       "std are fitted on, and is it their own scaled income you keep?")
    if near(robust, (v - np.median(income)) / _iqr(income)):
        raise Mismatch("your robust values use the median and IQR of the ordinary people "
                       "only: fit them on everyone, the rich people included",
                       "robust-others")
    if not near(robust, r_ref):
        a, c = np.unravel_index(np.argmax(np.abs(robust - r_ref)), r_ref.shape)
        raise Mismatch(f"for k = {copies[a]} copies at {incomes[c]:,.0f} your robust value is "
                       f"{robust[a, c]:.6g}; re-running your settings gives {r_ref[a, c]:.6g}. "
                       "Robust scaling: (v − median) / (75th − 25th percentile), NumPy's "
                       "default interpolation")


RICH_HINT = (
    "For each number of copies k and each rich income v you chose: make the data (the "
    "ordinary incomes plus k people earning v), fit the scaling on all of it, and scale one "
    "rich person's income. Record one table per scaling.",
    "z = (v − mean(data)) / std(data) with the population std; robust = (v − median(data)) "
    "/ IQR(data), IQR = 75th − 25th percentile; data = the n incomes and k copies of v. "
    "Return {'copies': [...], 'incomes': [...], 'z': rows per k, 'robust': rows per k}.",
    "copies = [1, 3, 10, 30]; incomes = [income.max() * f for f in (2, 10, 100, 1000)]\n"
    "for k in copies: for v in incomes: d = np.concatenate([income, np.full(k, v)]); "
    "z_row.append((v - d.mean()) / d.std()); q1, med, q3 = np.percentile(d, [25, 50, 75]); "
    "r_row.append((v - med) / (q3 - q1))",
)
