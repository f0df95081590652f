"""What the course notebooks import: small modules of pure, tested functions, in layers.

Importing any module does no work and changes no global state (call
``helpers.plots.style.use_course_style()`` for the course's figure style). Each
folder is a layer; a module imports only from its own folder's lower modules and
from the layers listed before it (``tests/test_layers.py`` checks it):

``helpers.answers``   the course's version of every graded function (numpy only)
    ``l01`` ... ``l05``, ``l06``  one module per lesson (``l02``, ``l03`` too), named as the
                 learner's functions
    ``fallback``               ``yours_or_course``: lessons run on before an exercise is done
    ``guard``                  notices a learner's function calling the course's version
``helpers.checking``  calling a learner's function and judging it (numpy only)
    ``calling``   run one test case, record plain data (also sent into the grader's kernel)
    ``expect``    what judges use: ``Mismatch``, ``expect_array``, ``expect_close``, ...
    ``verdict``   ``judge`` outcomes into a ``Report``; ``NotDoneYet``, ``CheckFailed``
``helpers.core``      the course's data and maths (numpy; may use ``answers``)
    ``data``      the lecture's data sets: age/income, iris, spirals
    ``linreg``    linear regression: loss, Hessian, gradient descent, SGD
    ``scaling``   feature scalings fitted on training data
    ``nn``        neural-network layers (Linear, ReLU, BatchNorm, LayerNorm), losses, ``mlp``
    ``training``  minibatch SGD on a network, with activation records
    ``diagnostics``  gradient statistics, update-to-data ratio, loss along the gradient (lesson 5)
    ``gradcheck`` finite-difference gradient checks
    ``problems``  the two-weight problems the contour explorers show
    ``conv``      a 2-D convolution by im2col, and the same as loops (lesson 6)
    ``batched``   layers with a leading seed axis: many seeds in one computation (lesson 6)
    ``seeds``     training, evaluating and recalibrating those networks (lesson 6)
    ``studies``   lesson 6's networks and measurements (conv net, pre/post-LN, γ = 0, dropout)
``helpers.plots``     matplotlib figures (uses ``core``)
    ``style``     colour-blind-safe palette, ``use_course_style``, log-axis labels
    ``linreg``    contours, trajectories, loss curves, learning-rate sweeps
    ``explorer``  drawing the contour explorer's states
    ``network``   activation statistics and histograms, sweeps (lesson 3)
    ``norms``     lesson 5's figures: sweeps by normalization, diagnostics, loss landscape
    ``modern``    lesson 6's figures: the four normalizations on a block, studies over seeds
``helpers.widgets``   ipywidgets, thin layers over the above
    ``display``   image widgets, short text forms, progress bars
    ``contour_explorer``     lessons 1-2's explorer
    ``activation_explorer``  lesson 3's explorer
    ``diagnostics_explorer`` lesson 5's explorer: update-to-data ratio by layer, lr and norm
    ``setup_check``          lesson 00: package report and a demo widget
``helpers.exercises`` every exercise and ``check`` (uses ``checking``, ``core``, ``answers``)
    ``spec``      what an exercise is; ``l00`` ... ``l03`` the exercises of each lesson, with
                  their cases and judges (``l02_zscore``, ``l03_training``, ``l03_nodes``,
                  ``l03_modes``, ``l05_layernorm``, ``l05_fold`` for longer ones)
    ``l01_bisect``  lesson 1's bisection exercise: the edge of stability by experiment
    ``l01_horizon`` lesson 1's experiment: the edge within horizons the learner chooses
    ``l02_rich``  lesson 2's experiment exercise: how far rich people stand out after scaling
    ``norm_backward`` lessons 3-5's backward passes: closed-form reference, named mistakes,
                  the large case whose cost (in forward passes) is judged
    ``predict``   predictions: 0-point exercises, recorded when made, shown next to the result
    ``written``   written answers: 0-point texts, recorded for the teacher
    ``shortcuts`` an exercise's shortcuts (course tools it may not call) as fingerprints
    ``l06``       lesson 6's exercises (``l06_norms``, ``l06_axes``, ``l06_rms``, ``l06_coupling``
                  for the cases and judges; ``l06_coupling`` is its experiment)

``helpers`` never imports ``normcourse`` (the instructor tooling).
"""
