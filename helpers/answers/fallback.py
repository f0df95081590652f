"""Let a lesson run on before the learner has written an exercise function.

    forward = yours_or_course(batchnorm_forward)

returns the learner's function when it is written and runs on a small example,
and otherwise the course's version of the same name (:mod:`helpers.answers`),
printing one line that says whose function the cell uses. So "Run All" goes to
the end of a lesson, and no output passes for the learner's own.
"""

from __future__ import annotations

import importlib

import numpy as np

#: learner's function name -> (module of helpers.answers, small example arguments)
_EXAMPLES = {
    "mse_gradient": ("l01", lambda: (np.eye(2), np.ones(2), np.zeros(2), 0.0)),
    "max_stable_learning_rate": ("l01", lambda: (np.eye(2),)),
    "measure_max_lr": ("l01", lambda: (np.eye(2), np.ones(2), 1e-3, 10.0)),
    "edge_vs_steps": ("l01", lambda: (np.eye(2), np.ones(2))),
    "zscore_fit": ("l02", lambda: (np.eye(2),)),
    "zscore_transform": ("l02", lambda: (np.eye(2), np.zeros(2), np.ones(2))),
    "weights_to_raw": ("l02", lambda: (np.ones(2), 0.0, np.zeros(2), np.ones(2))),
    "rich_experiment": ("l02", lambda: (np.array([10.0, 20.0, 30.0, 45.0, 60.0, 80.0]),)),
    "batchnorm_forward": ("l03", lambda: (np.eye(2), np.ones(2), np.zeros(2))),
    "batchnorm_backward": ("l03", lambda: (np.ones((2, 2)), (
        np.eye(2), np.array([[1.0, -1.0], [-1.0, 1.0]]), np.full(2, 0.5), np.full(2, 0.25),
        np.ones(2), 1e-5))),
    "batchnorm_backward_staged": ("l03", lambda: _EXAMPLES["batchnorm_backward"][1]()),
    "train_eval_gap": ("l03", lambda: (np.arange(16.0).reshape(8, 2),)),
    "update_running_stats": ("l03", lambda: (np.zeros(2), np.ones(2), np.eye(2))),
    "batchnorm_eval": ("l03", lambda: (np.eye(2), np.ones(2), np.zeros(2), np.zeros(2),
                                       np.ones(2))),
    "layernorm_forward": ("l05", lambda: (np.eye(2), np.ones(2), np.zeros(2))),
    "layernorm_backward": ("l05", lambda: (np.ones((2, 2)), (
        np.eye(2), np.array([[1.0, -1.0], [-1.0, 1.0]]), np.full((2, 1), 0.5),
        np.full((2, 1), 0.25), np.ones(2), 1e-5))),
    "fold_batchnorm": ("l05", lambda: (np.eye(2), np.zeros(2), np.ones(2), np.zeros(2),
                                       np.zeros(2), np.ones(2))),
    "scale_invariance": ("l05", lambda: (np.eye(2), np.array([[1.0, 2.0], [3.0, -1.0]]),
                                         np.ones(2), np.zeros(2), np.eye(2), 2.0)),
    "normalize": ("l06", lambda: (np.arange(8.0).reshape(2, 2, 2), (1, 2))),
    "family_axes": ("l06", lambda: ()),
    "batchnorm2d_forward": ("l06", lambda: (np.arange(16.0).reshape(2, 2, 2, 2), np.ones(2),
                                            np.zeros(2))),
    "groupnorm_forward": ("l06", lambda: (np.arange(16.0).reshape(1, 4, 2, 2), 2, np.ones(4),
                                          np.zeros(4))),
    "rmsnorm_forward": ("l06", lambda: (np.arange(6.0).reshape(2, 3), np.ones(3))),
    "rmsnorm_backward": ("l06", lambda: (np.ones((1, 2)), (
        np.array([[1.0, 1.0]]), np.array([[1.0, 1.0]]), np.ones((1, 1)), np.ones(2)))),
    "coupling_experiment": ("l06", lambda: (np.arange(200.0).reshape(100, 2) % 7, 0)),
}


def course_version(name: str):
    """The course's function called ``name`` (a graded function's name)."""
    module, _ = _EXAMPLES[name]
    return getattr(importlib.import_module(f"helpers.answers.{module}"), name)


def yours_or_course(fn):
    """``fn`` if it is written and runs, else the course's function of the same name.

    Every call prints one line saying whose function the cell uses: yours, or --
    while yours raises NotImplementedError, raises on a small example or returns
    None -- the course's, so that the lesson runs on.
    """
    name = fn.__name__
    try:
        with np.errstate(all="ignore"):
            value = fn(*_EXAMPLES[name][1]())
    except NotImplementedError:
        print(f"[{name} is not written yet, so this demonstration uses the course's version. "
              "Write yours above, run it, then run this cell again. Your exercise must be your "
              "own code: one that calls the course's version scores 0.]")
        return course_version(name)
    except Exception as exc:
        problem = f"raised {type(exc).__name__} on a small example"
    else:
        if value is not None:
            print(f"[this cell uses your {name}]")
            return fn
        problem = "returned None (a missing `return`?)"
    print(f"[your {name} {problem}, so this demonstration uses the course's version. Fix yours "
          "above (its check says what is wrong), run it, then run this cell again.]")
    return course_version(name)
