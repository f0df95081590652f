"""The course's own implementation of every graded function, in one place.

One module per lesson (``l01`` ... ``l05``, ``l06``), each function named exactly as the
function the learner writes in that lesson, with the same signature:

- ``l01``: ``mse_gradient``, ``measure_max_lr``, ``max_stable_learning_rate``
- ``l02``: ``zscore_fit``, ``zscore_transform``, ``weights_to_raw``
- ``l03``: ``batchnorm_forward``, ``batchnorm_backward``, ``update_running_stats``,
  ``batchnorm_eval``
- ``l05``: ``layernorm_forward``, ``layernorm_backward``, ``fold_batchnorm``,
  ``scale_invariance``
- ``l06``: ``normalize``, ``family_axes``, ``batchnorm2d_forward``, ``groupnorm_forward``,
  ``rmsnorm_forward``, ``rmsnorm_backward``, ``coupling_experiment``

They are what the course's layers and demonstrations build on (the batch-norm
layer of :mod:`helpers.core.nn`, the "zscore" scaling of
:mod:`helpers.core.scaling`), what the exercise checks compare with, and what a
lesson falls back on while the learner's version is not written yet
(:mod:`helpers.answers.fallback`). They are *not* for use inside an exercise:
the grader's sandbox leaves this folder out, and an exercise that calls into it
gets no points.

Layer: numpy only; imports nothing else from ``helpers``.
"""
