"""A real browser on the learner's path: Playwright for Python driving the system's Chromium.

JupyterLab is started exactly as learners get it (``bin/run jupyter``), its
kernels pointed at the session's live web, worker and test databases. Its user
settings and workspaces go to a temporary folder (autosave off), so a test that
runs a lesson's cells never writes outputs into notebooks/; a final check says so.

Set WORKSHOP_SCREENSHOTS=folder to keep a screenshot of each step.
Playwright's own browser download is not used: CHROMIUM (default /usr/bin/chromium).
"""

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from lab import testing
from workshop_project.test_settings import redis_url_beside

from ..conftest import process_env

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NOTEBOOKS = Path(settings.BASE_DIR) / "notebooks"


@pytest.fixture(scope="module")
def browser(django_db_setup):
    """Chromium, for one module's tests. Playwright's sync API keeps an asyncio loop running in
    this thread, so Django's guard against the ORM in async code is lifted while it lives."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)  # a busy 2-core machine opens JupyterLab in more than expect's 5 s

    if not shutil.which(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: sudo apt-get install chromium (or set CHROMIUM=/path/to/it)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_report = report
    return report


@pytest.fixture
def page(browser, request, shot):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    yield page
    if getattr(request.node, "call_report", None) and request.node.call_report.failed:
        shot(page, "FAILED")
    context.close()


@pytest.fixture
def shot(request):
    """``shot(page, "step")`` keeps a screenshot in $WORKSHOP_SCREENSHOTS (named after the test)."""
    folder = os.environ.get("WORKSHOP_SCREENSHOTS")
    counter = iter(range(1, 100))

    def take(page, step):
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{request.node.name}-{next(counter):02d}-{step}.png"))

    return take


@pytest.fixture(scope="session")
def flow_times(request):
    """Each browser flow's time, printed at the end of the session."""
    seconds = {}
    yield seconds
    if seconds:
        plugins = request.config.pluginmanager
        lines = [f"  {name:<48} {value:6.1f} s" for name, value in seconds.items()]
        with plugins.get_plugin("capturemanager").global_and_fixture_disabled():
            plugins.get_plugin("terminalreporter").write_line("\nbrowser flows:\n" + "\n".join(lines))


@pytest.fixture
def timed(request, flow_times):
    started = time.perf_counter()
    yield
    flow_times[request.node.name] = time.perf_counter() - started


def notebooks_snapshot():
    return {path.name: path.read_bytes() for path in NOTEBOOKS.glob("*.ipynb")}


@pytest.fixture(scope="session")
def jupyterlab(live_processes):
    """``bin/run jupyter`` on a free port, its kernels on the session's live stack; yields its URL."""
    before = notebooks_snapshot()
    port = testing.free_port()
    with tempfile.TemporaryDirectory(prefix="workshop-jupyter-") as folder:
        user_settings = Path(folder) / "user-settings" / "@jupyterlab" / "docmanager-extension"
        user_settings.mkdir(parents=True)
        (user_settings / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
        env = process_env(
            JUPYTER_BIND=f"127.0.0.1:{port}",
            JUPYTERLAB_SETTINGS_DIR=str(Path(folder) / "user-settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(Path(folder) / "workspaces"),
            JUPYTER_RUNTIME_DIR=str(Path(folder) / "runtime"),
            # The kernel runs the stack's settings: the live worker's Redis database, the live web.
            REDIS_URL=settings.REDIS_URL,
            WORKSHOP_WEB_URL=live_processes,
            # and the grader it starts (lesson.grade) a database of its own, beside the live worker's.
            TEST_REDIS_URL=redis_url_beside(settings.REDIS_URL),
        )
        env.pop("DJANGO_SETTINGS_MODULE", None)  # bin/run's default: the stack's settings
        url = f"http://127.0.0.1:{port}"
        with contextlib.ExitStack() as stack:
            log = stack.enter_context(open(Path(folder) / "jupyter.log", "w"))  # noqa: SIM115
            stack.enter_context(
                testing.running(
                    ["bin/run", "jupyter"],
                    "JupyterLab",
                    lambda: requests.get(f"{url}/api", timeout=2).ok,
                    env=env,
                    cwd=settings.BASE_DIR,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            yield url
    assert notebooks_snapshot() == before, "a browser test changed a file in notebooks/"
