"""The course's figures (matplotlib; pyplot only when a figure is made). See :mod:`helpers`."""
