"""The course's data and maths: numpy only (and ``helpers.answers``). See :mod:`helpers`."""
