"""The course's widgets (ipywidgets), thin layers over tested functions. See :mod:`helpers`."""
