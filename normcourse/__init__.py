"""Instructor tooling for normalization-course: ``normcourse build`` and ``normcourse grade``.

Learners never import this package; notebooks import ``helpers``.
"""
