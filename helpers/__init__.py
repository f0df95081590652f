"""What the course notebooks import.

Small topic modules of pure, tested functions; importing any of them does no
work and changes no global state:

- ``helpers.data``          the lecture's data sets (age/income, iris)
- ``helpers.optimisation``  gradient descent and SGD for linear regression
- ``helpers.plots``         contours, trajectories, loss curves (colour-blind safe)
- ``helpers.widgets``       interactive explorers, thin wrappers over the above
- ``helpers.checks``        the exercise checker used in every check cell
- ``helpers.exercises``     each exercise's test cases and judge
- ``helpers.wire``          plain-data encoding shared by checker and grader
"""
