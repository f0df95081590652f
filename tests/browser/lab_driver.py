"""Drive a real JupyterLab in headless Chromium: the machinery behind the browser tests.

Used by ``tests/browser/`` (pytest) and ``benchmarks/bench_browser.py``. Nothing here
asserts: the ``*_problems`` functions return a list of sentences, empty when all is well,
so that the harness's own self-test can check that a broken notebook *is* reported.

    with LabServer(root) as lab, Browser() as browser:
        nb = browser.open_notebook(lab, "solutions/01_feature_scale.ipynb")
        seconds = nb.run_all()
        problems = run_problems(nb.cells(), kind="solution") + nb.widget_problems()
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
# seconds allowed for one Run All (generous: two cores shared by many)
RUN_TIMEOUT = float(os.environ.get("NORMCOURSE_BROWSER_TIMEOUT", "300"))
# (notebook, seconds from Run All to the last cell finishing), for the end-of-run summary
TIMINGS: list[tuple[str, float]] = []

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-dev-shm-usage",
]

# Settings overrides for the server under test (see /work/shared/TOOLING_NOTES.md):
# no news pop-up, no update check, no autosave (the notebooks under test are never
# written back), and every cell attached to the DOM so that widgets, errors and
# images can be inspected everywhere in the notebook, not only in the viewport.
SETTINGS_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
WIDGET_ERROR_TEXTS = ("Error displaying widget", "model not found", "Error creating view",
                      "Loading widget...")
# stderr lines a learner may legitimately see once on a fresh machine
BENIGN_STDERR = ("Matplotlib is building the font cache",)


def chromium_path() -> str | None:
    """Debian's chromium (never a downloaded browser); $CHROMIUM overrides."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def missing_requirement() -> str | None:
    """A one-line reason why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return ("Playwright (Python) is missing: pip install playwright "
                "(or pip install -e \".[test]\")")
    if chromium_path() is None:
        return "Chromium is missing: apt-get install chromium (Debian's package, no download)"
    return None


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """JupyterLab on loopback, with a token, serving ``root_dir``; isolated config dirs.

    The server runs with this interpreter, so its kernels ("python3", whose argv is
    ``python -m ipykernel_launcher``) import the installed ``helpers`` package.
    """

    def __init__(self, root_dir: Path, startup_timeout: float = 90.0):
        self.root_dir = Path(root_dir)
        self.startup_timeout = startup_timeout
        self.token = secrets.token_hex(16)
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self._home = Path(tempfile.mkdtemp(prefix="lab-home-"))
        self.log_path = self._home / "jupyterlab.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict:
        env = dict(os.environ)
        for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                         ("JUPYTER_RUNTIME_DIR", "runtime"),
                         ("JUPYTERLAB_SETTINGS_DIR", "user-settings"),
                         ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                         ("IPYTHONDIR", "ipython")]:
            (self._home / sub).mkdir(parents=True, exist_ok=True)
            env[var] = str(self._home / sub)
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        env.pop("JUPYTER_PATH", None)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start(self) -> LabServer:
        settings = self._home / "lab-settings"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "overrides.json").write_text(json.dumps(SETTINGS_OVERRIDES, indent=1))
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between probe and bind
            self.port = free_port()
            cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
                   "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
                   "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                   f"--ServerApp.root_dir={self.root_dir}",
                   "--LabApp.expose_app_in_browser=True",
                   f"--LabApp.app_settings_dir={settings}",
                   "--ServerApp.open_browser=False",
                   "--LanguageServerManager.autodetect=False",
                   "--LabApp.news_url=", "--LabApp.check_for_updates_class="
                   "jupyterlab.NeverCheckForUpdate"]
            log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self._env(),
                                         cwd=self.root_dir, start_new_session=True)
            log.close()
            atexit.register(self.stop)
            try:
                self._wait_ready()
                return self
            except RuntimeError as exc:
                last_error = str(exc)
                self.stop()
        raise RuntimeError(last_error)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.proc.returncode}:\n"
                                   + self.log_tail())
            try:
                with urllib.request.urlopen(self.api("api/status"), timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"JupyterLab not ready after {self.startup_timeout:.0f} s:\n"
                           + self.log_tail())

    def api(self, path: str) -> str:
        return f"{self.url}/{path}?token={self.token}"

    def request(self, method: str, path: str, timeout: float = 10):
        req = urllib.request.Request(self.api(path), method=method, data=b"" if method in (
            "POST",) else None)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel (between notebooks: saves the two shared cores)."""
        with contextlib.suppress(Exception):
            for session in self.request("GET", "api/sessions") or []:
                with contextlib.suppress(Exception):
                    self.request("DELETE", f"api/sessions/{session['id']}", timeout=30)

    def trust(self, path: str) -> None:
        """``jupyter trust`` a notebook under the root, in this server's notary database
        (a notebook the learner ran or trusted; a freshly cloned one is not trusted)."""
        subprocess.run([sys.executable, "-m", "jupyter", "trust", str(self.root_dir / path)],
                       env=self._env(), check=True, capture_output=True, timeout=120)

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(Exception):  # clean shutdown also stops the kernels
                self.request("POST", "api/shutdown", timeout=10)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        shutil.rmtree(self._home, ignore_errors=True)


# --------------------------------------------------------------------------- browser


class Browser:
    """Headless Debian Chromium through Playwright; one page per notebook."""

    def __init__(self, viewport=(1280, 1400)):
        self.viewport = {"width": viewport[0], "height": viewport[1]}
        self._pw = None
        self.browser = None
        self._page = None

    def start(self) -> Browser:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        try:
            self.browser = self._pw.chromium.launch(
                executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True,
                timeout=120_000)
        except Exception:
            self._pw.stop()
            raise
        return self

    def stop(self) -> None:
        self.discard_page()
        with contextlib.suppress(Exception):
            if self.browser is not None:
                self.browser.close()
        with contextlib.suppress(Exception):
            if self._pw is not None:
                self._pw.stop()
        self.browser = self._pw = None

    def __enter__(self) -> Browser:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def lab_page(self, lab: LabServer, timeout: float = 120):
        """The JupyterLab page (loaded once, reused: a notebook is opened and closed in it);
        reloaded when a dialog or an earlier failure left it in an unknown state."""
        page = self._page
        if page is not None:
            try:
                if page.evaluate("() => !!window.jupyterapp && "
                                 "!document.querySelector('.jp-Dialog') && !window.__panel"):
                    return page
            except Exception:  # noqa: BLE001 (a crashed page: start a new one)
                pass
            self.discard_page()
        context = self.browser.new_context(viewport=self.viewport, device_scale_factor=1)
        page = context.new_page()
        workspace = "t" + secrets.token_hex(6)  # fresh layout: nothing else open
        page.goto(f"{lab.url}/lab/workspaces/{workspace}?reset&token={lab.token}",
                  timeout=timeout * 1000, wait_until="domcontentloaded")
        page.wait_for_function("() => !!window.jupyterapp", timeout=timeout * 1000,
                               polling=200)
        page.evaluate("async () => { await window.jupyterapp.restored; }")
        self._page = page
        return page

    def discard_page(self) -> None:
        page, self._page = self._page, None
        if page is not None:
            with contextlib.suppress(Exception):
                page.context.close()

    def open_notebook(self, lab: LabServer, path: str, timeout: float = 120) -> LabNotebook:
        page = self.lab_page(lab, timeout)
        nb = LabNotebook(lab, page, path, self)
        try:
            nb.open(timeout)
        except Exception:
            nb.close()
            self.discard_page()
            raise
        return nb


# --------------------------------------------------------------------------- notebook

_JS_CELLS = """() => {
  const panel = window.__panel;
  const nb = panel.content;
  const out = [];
  for (let i = 0; i < nb.widgets.length; i++) {
    const w = nb.widgets[i];
    const m = w.model;
    const entry = {index: i, type: m.type, source: m.sharedModel.getSource(),
                   tags: m.getMetadata('tags') || []};
    if (m.type === 'code') {
      entry.execution_count = m.executionCount;
      entry.state = m.executionState || null;
      entry.outputs = m.outputs.toJSON();
      const prompt = w.node.querySelector('.jp-InputPrompt');
      entry.prompt = prompt ? prompt.textContent.trim() : '';
      const area = w.outputArea ? w.outputArea.node : null;
      entry.text = area ? area.textContent : '';
      // one entry per top-level output, in the order of the model's outputs
      entry.rendered = area ? Array.from(area.children)
        .filter(ch => ch.classList.contains('jp-OutputArea-child'))
        .map(ch => {
          const el = ch.querySelector(':scope > .jp-OutputArea-output') || ch;
          return {mime: el.getAttribute('data-mime-type') || '',
                  widget: !!el.querySelector('.jupyter-widgets'),
                  hidden: ch.classList.contains('lm-mod-hidden') ||
                          el.classList.contains('lm-mod-hidden'),
                  height: el.getBoundingClientRect().height,
                  text: el.textContent.slice(0, 300)};
        }) : [];
      entry.images = Array.from(w.node.querySelectorAll('.jp-OutputArea img'))
        .map(img => ({complete: img.complete, naturalWidth: img.naturalWidth,
                      naturalHeight: img.naturalHeight,
                      width: img.getBoundingClientRect().width,
                      height: img.getBoundingClientRect().height,
                      inWidget: !!img.closest('.jupyter-widgets, .widget-output, .widget-image')}));
    }
    out.push(entry);
  }
  return out;
}"""

_JS_READY = """() => {
  const app = window.jupyterapp;
  const panel = app && window.__panel;
  if (!panel || !panel.context || !panel.context.isReady || !panel.sessionContext) return false;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  const nb = panel.content;
  return nb.widgets.length === nb.model.cells.length && nb.widgets.length > 0;
}"""

# Count the execute requests sent and the replies received on the kernel connection.
# Neither the promise of "run-all-cells" nor the kernel status says when Run All is
# over: at the first error (even in a cell tagged raises-exception) JupyterLab 4.6
# settles the promise and clears the [*] prompts of the cells still queued, which the
# kernel then runs anyway; and comm traffic from widgets (a progress bar) makes the
# kernel report "idle" in the middle of a long cell.
_JS_HOOK = """() => {
  const panel = window.__panel;
  const ctx = panel.sessionContext;
  window.__exec = {sent: 0, replied: 0, last: 0, dead: null};
  const hook = kernel => {
    if (!kernel || kernel.__counted) return;
    kernel.__counted = true;
    kernel.anyMessage.connect((_, a) => {
      const t = a.msg.header.msg_type;
      if (a.direction === 'send' && t === 'execute_request') window.__exec.sent++;
      if (a.direction === 'recv' && t === 'execute_reply') {
        window.__exec.replied++; window.__exec.last = performance.now(); }
    });
  };
  hook(ctx.session && ctx.session.kernel);
  ctx.kernelChanged.connect((_, c) => { if (c.oldValue) window.__exec.dead = 'replaced';
                                        hook(c.newValue); });
  ctx.statusChanged.connect((_, s) => {
    if (['dead', 'restarting', 'autorestarting'].includes(s)) window.__exec.dead = s; });
}"""

_JS_RUN_ALL = """() => {
  const app = window.jupyterapp;
  window.__exec.sent = 0; window.__exec.replied = 0; window.__exec.last = 0;
  window.__runAll = {t0: performance.now(), done: false};
  app.commands.execute('notebook:run-all-cells').then(
    r => { window.__runAll.done = true; },
    e => { window.__runAll.done = true; window.__runAll.error = String(e); });
}"""

_JS_RUN_OVER = """() => {
  const e = window.__exec;
  return e.dead || (window.__runAll.done && e.sent > 0 && e.replied >= e.sent);
}"""

_JS_SETTLED = """() => {
  const panel = window.__panel;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  for (const w of panel.content.widgets) {
    if (w.model.type !== 'code') continue;
    if (w.model.executionState === 'running') return false;
    const p = w.node.querySelector('.jp-InputPrompt');
    if (p && p.textContent.includes('*')) return false;
  }
  return true;
}"""


# the element that scrolls the notebook (JupyterLab 4: the windowed panel's outer node)
_SCROLLER = ("(window.__panel.content.node"
             ".querySelector('.jp-WindowedPanel-outer')"
             " || window.__panel.content.node)")


@dataclass
class SliderResult:
    index: int
    cell: int
    label: str
    value_before: str
    value_after: str
    changed: bool
    before_png: bytes = field(repr=False, default=b"")
    after_png: bytes = field(repr=False, default=b"")


class LabNotebook:
    """One notebook opened in its own browser context."""

    def __init__(self, lab: LabServer, page, path: str, browser: Browser | None = None):
        self.lab, self.page, self.path, self.browser = lab, page, path, browser
        self.console: list[str] = []
        self.page_errors: list[str] = []
        self._on_console = (lambda m: self.console.append(f"{m.type}: {m.text}")
                            if m.type in ("error", "warning") else None)
        self._on_error = lambda e: self.page_errors.append(str(e))
        page.on("console", self._on_console)
        page.on("pageerror", self._on_error)
        self.run_seconds: float | None = None

    # -- opening and running

    def open(self, timeout: float = 120) -> None:
        self.page.evaluate("""async (path) => {
          const app = window.jupyterapp;
          const w = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
          window.__panel = w;
          app.shell.activateById(w.id);
        }""", self.path)
        try:
            self.page.wait_for_function(_JS_READY, timeout=timeout * 1000, polling=250)
        except Exception as exc:
            dialog = self.page.locator(".jp-Dialog")
            extra = ""
            if dialog.count():
                extra = f" A dialog is open: {dialog.first.inner_text()[:300]!r}"
            raise RuntimeError(f"{self.path}: notebook or kernel not ready after "
                               f"{timeout:.0f} s.{extra}") from exc
        self.page.evaluate(_JS_HOOK)
        # let images and widget views of stored outputs settle
        self.page.wait_for_timeout(500)

    def run_all(self, timeout: float = RUN_TIMEOUT) -> float:
        """Run All; wait until the kernel replied to every cell. Returns the seconds from
        Run All to the last cell finishing (the last execute reply)."""
        self.page.evaluate(_JS_RUN_ALL)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                self.page.wait_for_function(_JS_RUN_OVER, timeout=max(left, 1) * 1000,
                                            polling=100)
            except Exception as exc:
                info = self.page.evaluate("() => window.__exec")
                raise RuntimeError(
                    f"{self.path}: Run All not finished after {timeout:.0f} s "
                    f"({info['replied']} of {info['sent']} cells replied)") from exc
            info = self.page.evaluate("() => window.__exec")
            if info["dead"]:
                raise RuntimeError(f"{self.path}: the kernel died during Run All "
                                   f"(status {info['dead']!r}, {info['replied']} of "
                                   f"{info['sent']} cells replied)")
            self.page.wait_for_timeout(500)  # nothing queued behind the last reply?
            again = self.page.evaluate("() => window.__exec")
            if again["replied"] >= again["sent"] and again["last"] == info["last"]:
                break
        t0 = self.page.evaluate("() => window.__runAll.t0")
        self.run_seconds = (info["last"] - t0) / 1000
        self.wait_settled(timeout=60)
        return self.run_seconds

    def wait_settled(self, timeout: float = 60) -> None:
        """Kernel idle and no cell running, three times in a row 0.25 s apart."""
        deadline = time.monotonic() + timeout
        streak = 0
        while time.monotonic() < deadline:
            streak = streak + 1 if self.page.evaluate(_JS_SETTLED) else 0
            if streak >= 3:
                break
            self.page.wait_for_timeout(250)
        else:
            raise RuntimeError(f"{self.path}: kernel still busy {timeout:.0f} s after Run All")
        self.wait_widgets_rendered()

    def wait_widgets_rendered(self, timeout: float = 40) -> None:
        """Widget views are created asynchronously: wait until each widget output has
        content (a view or an error message), then until images have loaded."""
        js = """() => {
          const panel = window.__panel;
          for (const el of panel.content.node.querySelectorAll('.jp-OutputArea-output'))
            if (el.textContent.trim() === 'Loading widget...') return false;
          for (const img of panel.content.node.querySelectorAll('.jp-OutputArea img'))
            if (!img.complete) return false;
          return true;
        }"""
        with contextlib.suppress(Exception):
            self.page.wait_for_function(js, timeout=timeout * 1000, polling=250)
        self.page.wait_for_timeout(300)

    def cells(self) -> list[dict]:
        return self.page.evaluate(_JS_CELLS)

    def close(self) -> None:
        """Close the notebook tab without saving (the kernel is stopped by the caller)."""
        try:
            self.page.evaluate("""() => {
              const p = window.__panel;
              window.__panel = null;
              if (p && !p.isDisposed) { p.context.model.dirty = false; p.dispose(); }
            }""")
        except Exception:  # noqa: BLE001
            if self.browser is not None:
                self.browser.discard_page()
        with contextlib.suppress(Exception):
            self.page.remove_listener("console", self._on_console)
            self.page.remove_listener("pageerror", self._on_error)

    # -- what the learner sees

    def widget_problems(self) -> list[str]:
        return widget_problems(self.cells())

    def sliders(self):
        return self.page.locator(".jp-Notebook .widget-slider .noUi-handle")

    def exercise_sliders(self, settle_timeout: float = 15) -> list[SliderResult]:
        """Move each slider with the keyboard; did the figure it drives change?

        Compared, before and after: the pixels of the images (``img``/``canvas``) in the
        slider's cell output -- or, when that output has no image, a screenshot of the
        whole output with every slider masked (the handle and its read-out do not count).
        One ArrowRight (ArrowLeft at the maximum); if the figure did not change, four
        more presses the same way (a single step can legitimately redraw the same
        picture, e.g. a training record where nothing moves any more). Each slider is put
        back afterwards, so every slider is tried from the state after Run All."""
        results = []
        handles = self.sliders()
        for i in range(handles.count()):
            handle = handles.nth(i)
            info = handle.evaluate("""h => {
              const cell = h.closest('.jp-Cell');
              const cells = Array.from(cell.parentElement.querySelectorAll(':scope > .jp-Cell'));
              const box = h.closest('.widget-slider');
              const label = box.querySelector('.widget-label');
              const readout = box.querySelector('.widget-readout');
              cell.scrollIntoView({block: 'start'});
              return {cell: cells.indexOf(cell), label: label ? label.textContent : '',
                      value: readout ? readout.textContent : h.getAttribute('aria-valuenow')};
            }""")
            cell = self.page.locator(".jp-Notebook .jp-Cell").nth(info["cell"])
            output = cell.locator(".jp-Cell-outputArea").first
            figures = output.locator("img, canvas")
            masks = [cell.locator(".widget-slider")]

            def shot(figures=figures, output=output, masks=masks):
                n = figures.count()
                if n:
                    return b"".join(figures.nth(j).screenshot(animations="disabled")
                                    for j in range(n))
                return output.screenshot(mask=masks, animations="disabled")

            handle.focus()  # focus first: the active-cell styling must not count as a change
            self.page.wait_for_timeout(300)
            before = shot()
            before_png = output.screenshot(animations="disabled")
            value_before = value_after = info["value"]
            key = "ArrowRight"
            for key in ("ArrowRight", "ArrowLeft"):  # ArrowLeft when already at maximum
                handle.focus()
                self.page.keyboard.press(key)
                self.page.wait_for_timeout(200)
                value_after = self._slider_value(handle)
                if value_after != value_before:
                    break
            changed = False
            for extra in (0, 4):
                for _ in range(extra):
                    handle.focus()
                    self.page.keyboard.press(key)
                    self.page.wait_for_timeout(100)
                value_after = self._slider_value(handle)
                changed = self._wait_changed(shot, before, settle_timeout)
                if changed or value_after == value_before:
                    break
            results.append(SliderResult(i, info["cell"], info["label"].strip(), value_before,
                                        value_after, changed, before_png,
                                        output.screenshot(animations="disabled")))
            # put it back, so that the next slider starts from the state after Run All
            back = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
            for _ in range(50):
                if self._slider_value(handle) == value_before:
                    break
                handle.focus()
                self.page.keyboard.press(back)
                self.page.wait_for_timeout(100)
            with contextlib.suppress(Exception):
                self.wait_settled(timeout=60)
        return results

    def _wait_changed(self, shot, before: bytes, timeout: float) -> bool:
        with contextlib.suppress(Exception):  # the callback runs in the kernel
            self.wait_settled(timeout=60)
        deadline = time.monotonic() + timeout
        while True:
            after = shot()
            if after != before:
                for _ in range(10):  # let the redraw finish: two equal shots in a row
                    self.page.wait_for_timeout(300)
                    again = shot()
                    if again == after:
                        break
                    after = again
                return True
            if time.monotonic() > deadline:
                return False
            self.page.wait_for_timeout(500)

    def _slider_value(self, handle) -> str:
        return handle.evaluate("""h => {
          const r = h.closest('.widget-slider').querySelector('.widget-readout');
          return r ? r.textContent : h.getAttribute('aria-valuenow');
        }""")

    def screenshot_full(self, path: Path) -> tuple[int, int]:
        """Scroll the notebook from top to bottom, stitch the pieces into one PNG."""
        from PIL import Image

        geom = self.page.evaluate("""() => {
          const nb = __SCROLLER__;
          const r = nb.getBoundingClientRect();
          nb.scrollTop = 0;
          // stop below the last cell (skip the 'scroll past end' padding)
          const cells = nb.querySelectorAll('.jp-Cell');
          let end = nb.scrollHeight;
          if (cells.length) end = Math.min(end,
              cells[cells.length - 1].getBoundingClientRect().bottom - r.top + 40);
          return {x: r.x, y: r.y, w: nb.clientWidth, h: nb.clientHeight,
                  total: Math.max(end, 50)};
        }""".replace("__SCROLLER__", _SCROLLER))
        total = min(int(geom["total"]), 60000)
        canvas = Image.new("RGB", (int(geom["w"]), total), "white")
        y, inset = 0, 4
        while True:
            top = self.page.evaluate(f"""async () => {{
              const nb = __SCROLLER__;
              nb.scrollTop = {y};
              await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
              return nb.scrollTop; }}""".replace("__SCROLLER__", _SCROLLER))
            self.page.wait_for_timeout(50)
            # skip the top rows of each piece: the toolbar's shadow falls on them
            shot = self.page.screenshot(clip={"x": geom["x"], "y": geom["y"] + inset,
                                              "width": geom["w"], "height": geom["h"] - inset},
                                        animations="disabled")
            piece = Image.open(io.BytesIO(shot)).convert("RGB")
            canvas.paste(piece, (0, int(top) + inset))
            if top + geom["h"] >= total or top < y:
                break
            y = int(top + geom["h"] - inset)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        canvas.save(path)
        self.page.evaluate(f"() => {{ {_SCROLLER}.scrollTop = 0; }}")
        return canvas.size


# --------------------------------------------------------------------------- verdicts


def _is_not_done_verdict(output: dict) -> bool:
    tb = output.get("traceback") or []
    return (output.get("ename") == "NotDoneYet" and len(tb) == 1
            and "\n" not in tb[0].strip() and tb[0].startswith("NotDoneYet: ")
            and "not done yet" in tb[0])


def _snippet(cell: dict) -> str:
    first = next((ln for ln in cell.get("source", "").splitlines() if ln.strip()), "")
    return f"cell {cell['index']} ({first[:60]!r})"


def run_problems(cells: list[dict], kind: str) -> list[str]:
    """After Run All: what is wrong with the cells? ``kind`` is "solution" or "lesson".

    Every code cell must have finished (an execution count, no ``[*]``). A solution
    shows no error and no stderr. A lesson shows errors only as the one-line
    ``NotDoneYet: …`` verdict of a check cell tagged ``raises-exception``.
    """
    problems = []
    code = [c for c in cells if c["type"] == "code"]
    if not code:
        return ["the notebook has no code cells"]
    for c in code:
        if not c["source"].strip():
            continue
        if c["execution_count"] is None or "*" in c["prompt"] or c["state"] == "running":
            problems.append(f"{_snippet(c)} did not finish: prompt {c['prompt'] or '[ ]'!r}"
                            " (Run All stopped before it or it never returned)")
        for out in c["outputs"]:
            if out.get("output_type") == "error":
                if kind == "lesson" and _is_not_done_verdict(out):
                    if "raises-exception" not in c["tags"]:
                        problems.append(f"{_snippet(c)} raises NotDoneYet but is not tagged "
                                        "raises-exception")
                    continue
                tb = "\n".join(out.get("traceback") or [])[-600:]
                problems.append(f"{_snippet(c)} shows an error {out.get('ename')}: "
                                f"{out.get('evalue', '')[:200]}\n{_strip_ansi(tb)}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = "".join(out.get("text", ""))
                if not any(b in text for b in BENIGN_STDERR):
                    problems.append(f"{_snippet(c)} writes to stderr (a pink box for the "
                                    f"learner): {text.strip()[:300]!r}")
    return problems


def widget_problems(cells: list[dict]) -> list[str]:
    """Every widget output is rendered as a widget; no widget error text anywhere."""
    problems = []
    for c in cells:
        if c["type"] != "code":
            continue
        for text in WIDGET_ERROR_TEXTS:
            if text in c["text"]:
                problems.append(f"{_snippet(c)} shows {text!r}: {c['text'].strip()[:200]!r}")
                break
        for k, out in enumerate(c["outputs"]):
            if WIDGET_MIME not in (out.get("data") or {}):
                continue
            shown = c["rendered"][k] if k < len(c["rendered"]) else None
            if shown is None:
                problems.append(f"{_snippet(c)}: widget output {k} is not shown at all")
            elif shown["hidden"]:
                continue  # a closed widget hides its own view: intended
            elif shown["mime"]:
                problems.append(f"{_snippet(c)}: widget output {k} shown as {shown['mime']} "
                                f"({shown['text'][:80]!r}) instead of a widget: ipywidgets "
                                "JupyterLab extension not loaded, or notebook not trusted")
            elif not shown["widget"]:
                problems.append(f"{_snippet(c)}: widget output {k} not rendered: "
                                f"{shown['text'].strip()[:120]!r}")
    return problems


def image_problems(cells: list[dict]) -> list[str]:
    """Every stored/produced image output is visible: decoded, non-zero size."""
    problems = []
    for c in cells:
        if c["type"] != "code":
            continue
        expected = sum(1 for o in c["outputs"]
                       if any(m in (o.get("data") or {}) for m in IMAGE_MIMES)
                       and WIDGET_MIME not in (o.get("data") or {}))
        plain = [im for im in c["images"] if not im["inWidget"]]
        if len(plain) < expected:
            problems.append(f"{_snippet(c)}: {expected} image output(s) stored but "
                            f"{len(plain)} <img> shown")
        for im in c["images"]:
            if not (im["naturalWidth"] > 0 and im["naturalHeight"] > 0):
                problems.append(f"{_snippet(c)}: an image did not load (natural size "
                                f"{im['naturalWidth']}x{im['naturalHeight']})")
            elif not (im["width"] > 0 and im["height"] > 0):
                problems.append(f"{_snippet(c)}: an image has zero displayed size")
    return problems


def image_notes(cells: list[dict], factor: float = 1.3) -> list[str]:
    """Not failures, for the report: images shown much larger than their pixels (blurry,
    e.g. an ipywidgets.Image stretched to the output's width) or widget outputs shown as
    plain text (an untrusted notebook)."""
    notes = []
    for c in cells:
        if c["type"] != "code":
            continue
        for im in c["images"]:
            if im["naturalWidth"] and im["width"] > factor * im["naturalWidth"]:
                notes.append(f"{_snippet(c)}: image {im['naturalWidth']}x{im['naturalHeight']} "
                             f"px shown at {im['width']:.0f}x{im['height']:.0f} "
                             f"(x{im['width'] / im['naturalWidth']:.1f}, blurry)")
        for k, out in enumerate(c["outputs"]):
            shown = c["rendered"][k] if k < len(c["rendered"]) else None
            if WIDGET_MIME in (out.get("data") or {}) and shown and shown["mime"]:
                notes.append(f"{_snippet(c)}: widget shown as {shown['mime']}: "
                             f"{shown['text'][:100]!r}")
    return notes


def slider_problems(results: list[SliderResult]) -> list[str]:
    problems = []
    for r in results:
        if r.value_after == r.value_before:
            problems.append(f"slider {r.index} ({r.label or 'no label'}) in cell {r.cell}: "
                            f"ArrowRight/ArrowLeft did not change its value {r.value_before!r}")
        elif not r.changed:
            problems.append(f"slider {r.index} ({r.label or 'no label'}) in cell {r.cell}: "
                            f"moved {r.value_before!r} -> {r.value_after!r} but nothing else "
                            "in its cell's output changed (the figure it drives did not "
                            "update)")
    return problems


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def stage_root(dest: Path, extra: dict[str, Path] | None = None) -> Path:
    """A temporary copy of solutions/ and lessons/ (the committed notebooks are never
    touched), plus ``extra`` folders (name -> source folder)."""
    dest = Path(dest)
    for name in ("solutions", "lessons"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns(
                ".ipynb_checkpoints", "__pycache__"))
    for name, src in (extra or {}).items():
        shutil.copytree(src, dest / name)
    return dest
