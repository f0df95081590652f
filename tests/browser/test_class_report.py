"""The class report (issue 21) in headless Chromium: it renders, every figure loads, and
no request leaves the machine (the page is opened from a file; any other request is
recorded and refused)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
from test_classreport import write_class  # noqa: E402

from normcourse.cli import main  # noqa: E402


def open_offline(context, path: Path):
    """Open ``path`` in a new page of ``context``: every request but file: and data: is
    recorded and refused. Returns the page and the lists it fills as it runs: requests
    that would have left the machine, console errors, dialogs (dismissed)."""
    outside, problems, dialogs = [], [], []
    page = context.new_page()

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri(), wait_until="load")
    return page, outside, problems, dialogs


def test_report_renders_offline_with_every_figure(lab_browser, tmp_path):
    files = write_class(tmp_path)
    out = tmp_path / "report.html"
    assert main(["report", *files, "--out", str(out)]) == 0
    context = lab_browser.browser.new_context()
    try:
        page, outside, problems, _ = open_offline(context, out)
        images = page.evaluate("() => Array.from(document.images).map(i => "
                               "[i.complete, i.naturalWidth, i.naturalHeight, i.alt])")
        text = page.inner_text("body")
    finally:
        context.close()
    assert len(images) == 2 and all(ok and w > 300 and h > 300 and alt
                                    for ok, w, h, alt in images), images
    assert outside == [] and problems == []
    assert "6 of 20" in text and "30.0 %" in text and "observed" in text
    assert '<script>fetch("http://example.com")</script>' in text  # shown as typed, inert
