"""The tutorial in a real browser: Jupyter's notebook UI, Debian's chromium, Playwright.

A Jupyter Server with the Notebook 7 UI serves a copy of ``notebooks/``; chromium opens the
tutorial and runs all its cells from the menu, as a user would. The test waits for the live_info
panel to say ``finished`` and for the live plot to be drawn by bokeh (a ``<canvas>``), then
saves a screenshot: under ``$ADAPTIVE_RUNNER_ARTIFACTS`` if set, else in the test's temporary
folder (its path is printed). A second test clicks the panel's Cancel button on a run that
would never end. Then the server is shut down through its API and must leave no process behind.

Requires ``/usr/bin/chromium`` (Debian: ``apt-get install -y chromium``); Playwright's own
browser downloads are not used.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest
from jupyter_environment import FINAL_STATUSES, NOTEBOOK_DIR, write_kernelspec
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # without these, chromium keeps trying to reach Google's services
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 60  # seconds
RUN_TIMEOUT = 120_000  # milliseconds, Playwright's unit: the whole tutorial takes ~10 s
UI_TIMEOUT = 60_000

STATUS = ".adaptive-runner-live-info .adaptive-runner-status"

# JupyterLab settings for a quiet, deterministic UI: every cell attached to the page (no
# windowing, so outputs far down are in the DOM) and no network requests for news.
USER_SETTINGS = {
    "notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

CANCEL_NOTEBOOK_CELLS = [
    "import asyncio\n\nimport adaptive_runner as adaptive\n\nadaptive.notebook_extension()",
    "async def slow(x):\n"
    "    await asyncio.sleep(0.05)\n"
    "    return x\n\n\n"
    "learner = adaptive.Learner1D(slow, bounds=(0, 1))\n"
    "runner = adaptive.Runner(learner)  # no goal: it runs until cancelled\n"
    "runner.live_info()",
]


def _artifact_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("ADAPTIVE_RUNNER_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


class JupyterServer:
    """A Jupyter Server with the notebook UI in its own process and its own Jupyter folders."""

    def __init__(self, root: Path, log_path: Path) -> None:
        self.notebook_dir = root / "notebooks"
        shutil.copytree(NOTEBOOK_DIR, self.notebook_dir)
        data_dir = root / "data"
        write_kernelspec(data_dir)
        config_dir = root / "config"
        for name, settings in USER_SETTINGS.items():
            path = config_dir / "lab" / "user-settings" / "@jupyterlab" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(settings))
        self.runtime_dir = root / "runtime"
        env = dict(
            os.environ,
            JUPYTER_PATH=str(data_dir),  # searched first: our python3 kernelspec wins
            JUPYTER_DATA_DIR=str(data_dir),
            JUPYTER_CONFIG_DIR=str(config_dir),
            JUPYTER_RUNTIME_DIR=str(self.runtime_dir),
        )
        self.token = secrets.token_hex(24)
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "notebook",
                "--no-browser",
                "--ip=127.0.0.1",
                "--port=0",  # a free port, read back from the server's runtime file
                "--allow-root",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.notebook_dir}",
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self.url = self._wait_until_ready()
        except BaseException:
            self.process.kill()
            self.process.wait()
            self._log.close()
            raise

    def log_tail(self, nlines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-nlines:])

    def _wait_until_ready(self) -> str:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Jupyter server exited:\n{self.log_tail()}")
            for info_file in self.runtime_dir.glob(f"jpserver-{self.process.pid}.json"):
                try:
                    url = json.loads(info_file.read_text())["url"]
                    self.api("GET", "api/status", base=url)
                except (ValueError, KeyError, OSError):
                    break  # half-written file or not listening yet
                return url
            time.sleep(0.2)
        raise RuntimeError(
            f"the Jupyter server did not start in {SERVER_START_TIMEOUT} s:\n{self.log_tail()}"
        )

    def api(self, method: str, path: str, base: str | None = None) -> Any:
        request = urllib.request.Request(
            f"{base or self.url}{path}",
            method=method,
            data=b"" if method == "POST" else None,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def page_url(self, notebook: str) -> str:
        return f"{self.url}notebooks/{notebook}?token={self.token}"

    def wait_for_idle_kernel(self, notebook: str, timeout: float = 60) -> None:
        """Wait until the notebook's kernel has started and is idle (ready to run cells)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for session in self.api("GET", "api/sessions"):
                if session["path"] == notebook and session["kernel"]["execution_state"] == "idle":
                    return
            time.sleep(0.2)
        raise AssertionError(f"the kernel of {notebook} was not idle after {timeout} s")

    def shutdown(self) -> None:
        """Shut down through the API (kernels first); no process may stay behind."""
        children = psutil.Process(self.process.pid).children(recursive=True)
        try:
            self.api("POST", "api/shutdown")
            returncode = self.process.wait(timeout=30)
        except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
            raise
        finally:
            self._log.close()
        assert returncode == 0, f"the server exited with {returncode}:\n{self.log_tail()}"
        # the kernels and their worker processes (loky) end with the server
        _, alive = psutil.wait_procs(children, timeout=30)
        for process in alive:
            process.kill()
        assert not alive, f"processes left behind by the server: {alive}"


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    return _artifact_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts):
    root = tmp_path_factory.mktemp("jupyter")
    jupyter = JupyterServer(root, artifacts / "jupyter-server.log")
    nbformat.write(
        nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(source) for source in CANCEL_NOTEBOOK_CELLS],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        ),
        jupyter.notebook_dir / "cancel.ipynb",
    )
    yield jupyter
    jupyter.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser test needs Debian's chromium "
            "(apt-get install -y chromium); do not use `playwright install`"
        )
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 1600},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(error.stack or str(error)))
    yield page
    if errors:  # reported, not failed on: JupyterLab itself logs some
        print("JavaScript errors on the page:", *errors, sep="\n  ")
    page.close()


@contextlib.contextmanager
def _screenshot_on_failure(page: Page, path: Path) -> Iterator[None]:
    try:
        yield
    except BaseException:
        page.screenshot(path=str(path))
        print(f"screenshot of the failure: {path}")
        raise


def _run_all_cells(page: Page) -> None:
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def _open(page: Page, server: JupyterServer, notebook: str) -> None:
    page.goto(server.page_url(notebook))
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=UI_TIMEOUT)
    server.wait_for_idle_kernel(notebook)


@pytest.mark.timeout(180)
def test_tutorial_runs_in_the_browser_with_live_info_and_live_plot(page, server, artifacts):
    start = time.monotonic()
    with _screenshot_on_failure(page, artifacts / "tutorial-failure.png"):
        _open(page, server, "tutorial.ipynb")
        _run_all_cells(page)

        panels = page.locator(".adaptive-runner-live-info")
        expect(panels.first.locator(".adaptive-runner-status")).to_contain_text(
            "finished", timeout=RUN_TIMEOUT
        )
        expect(panels.first.locator(".adaptive-runner-cancel")).to_have_count(1)
        # bokeh draws the live plot on a canvas inside the cell's output area
        canvas = page.locator(".jp-OutputArea-output canvas")
        expect(canvas.first).to_be_attached(timeout=UI_TIMEOUT)
        # the last cell's output: every cell has run
        rows = page.locator(".jp-OutputArea-output").filter(has_text=re.compile(r"^\d+ rows"))
        expect(rows).to_have_count(1, timeout=RUN_TIMEOUT)

        statuses = [text.strip() for text in page.locator(STATUS).all_inner_texts()]
        assert statuses == ["finished", "failed"], statuses
        # the failed run's panel shows the error of the point that failed
        expect(panels.nth(1)).to_contain_text("13 is unlucky")
        canvases = canvas.count()

    page.locator(".adaptive-runner-live-info").first.scroll_into_view_if_needed()
    screenshot = artifacts / "tutorial.png"
    page.screenshot(path=str(screenshot))
    print(f"screenshot: {screenshot}")
    print(f"tutorial ran in the browser in {time.monotonic() - start:.1f} s, {canvases} canvases")


@pytest.mark.timeout(120)
def test_cancel_button_stops_a_run(page, server, artifacts):
    with _screenshot_on_failure(page, artifacts / "cancel-failure.png"):
        _open(page, server, "cancel.ipynb")
        _run_all_cells(page)
        status = page.locator(STATUS).first
        expect(status).to_contain_text("running", timeout=UI_TIMEOUT)
        cancel = page.locator(".adaptive-runner-live-info .adaptive-runner-cancel").first
        expect(cancel).to_have_text("Cancel")
        cancel.click()
        expect(status).to_contain_text("cancelled", timeout=UI_TIMEOUT)
        assert status.inner_text().strip() in FINAL_STATUSES
    screenshot = artifacts / "cancel.png"
    page.screenshot(path=str(screenshot))
    print(f"screenshot: {screenshot}")
