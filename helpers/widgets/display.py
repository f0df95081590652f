"""Small display helpers shared by the course's widgets (ipywidgets, no pyplot).

- :func:`png_image`: an image widget shown at its own pixel width (never blurred);
- :func:`bundle_with_text` / :class:`WithText`: a widget with a short, deterministic
  plain-text form (what an untrusted notebook shows and nbval compares);
- :func:`progress`: a progress bar over an iterable, with a text form too;
- :func:`takeaway`: a paragraph of prose whose numbers come from the run.
"""

from __future__ import annotations


def bundle_with_text(widget, text: str, **kwargs) -> dict:
    """A widget's display bundle whose plain-text form is ``text``.

    The text is what an untrusted or stored notebook shows instead of the widget,
    and what nbval compares: one short, deterministic line, not ipywidgets' repr.
    """
    bundle = widget._repr_mimebundle_(**kwargs)
    if isinstance(bundle, tuple):  # (data, metadata)
        bundle = bundle[0]
    bundle = dict(bundle or {})
    bundle["text/plain"] = text
    return bundle


class WithText:
    """Display ``widget`` with a fixed one-line text form (see :func:`bundle_with_text`)."""

    def __init__(self, widget, text: str):
        self.widget, self.text = widget, text

    def __repr__(self) -> str:
        return self.text

    def _repr_mimebundle_(self, **kwargs):
        return bundle_with_text(self.widget, self.text, **kwargs)


def png_image(width_px: int, value: bytes = b""):
    """An ``ipywidgets.Image`` shown at its own pixel width (never stretched by its box).

    Without a fixed width a VBox stretches the image to the notebook's width, which
    enlarges and blurs it; ``max_width`` still lets it shrink in a narrow window.
    """
    import ipywidgets as W

    return W.Image(value=value, format="png",
                   layout=W.Layout(width=f"{width_px}px", max_width="100%", height="auto"))


class _Progress:
    """A progress bar whose text form (untrusted or stored views, nbval) is one short line."""

    def __init__(self, bar, description):
        self.bar, self.description = bar, description

    def __repr__(self) -> str:  # deterministic: no count (the bar's value changes)
        return (f"progress: {self.description}, {self.bar.max} runs "
                f"(open in JupyterLab to see the bar)")

    def _repr_mimebundle_(self, **kwargs):
        return bundle_with_text(self.bar, repr(self), **kwargs)


def progress(items, description="running"):
    """Iterate over ``items`` while an ``ipywidgets.IntProgress`` bar shows how far we are.

    The bar is displayed once, at 0; later values travel as widget updates, not as
    cell output, so a notebook's stored output stays the same from run to run. Its
    text form (untrusted views, nbval) reads
    "progress: <description>, <n> runs (open in JupyterLab to see the bar)".
    """
    import ipywidgets as W
    from IPython.display import display

    items = list(items)
    bar = W.IntProgress(value=0, min=0, max=len(items), description=description,
                        style={"description_width": "initial"})
    shown = _Progress(bar, description)
    display(shown)
    for i, item in enumerate(items):
        yield item
        bar.value = i + 1
    bar.bar_style = "success"


def takeaway_bundle(markdown: str, width: int = 95) -> dict:
    """The display bundle of :func:`takeaway`: the Markdown, and as plain text the same words
    wrapped at ``width`` (what a stored view shows and nbval compares)."""
    import textwrap

    return {"text/markdown": markdown, "text/plain": textwrap.fill(markdown, width)}


def takeaway(markdown: str) -> None:
    """Show a take-away written from the run's values (an f-string), so that the numbers
    in the prose are the ones this run computed, on every machine."""
    from IPython.display import display

    display(takeaway_bundle(markdown), raw=True)
