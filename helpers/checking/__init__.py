"""The check machinery: call a learner's function, judge what it returned. See :mod:`helpers`.

Numpy and the standard library only; nothing else from ``helpers``.
"""
