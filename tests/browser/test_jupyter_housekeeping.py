"""What JupyterLab leaves behind when a learner uses it (jupyter/jupyter_server_config.py):
a closed lesson's kernel, a saved lesson's outputs, and the Python a terminal finds.

The learner walkthrough found five kernels running by lesson 05, every run lesson modified in
``git status``, and ``pytest`` in a JupyterLab terminal answered by pyenv's shim.
"""

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from playwright.sync_api import expect

from .test_learner_path import open_notebook

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("timed"),
]

LESSON = "notebooks/00_welcome.ipynb"


def kernels_of(jupyterlab, path):
    """The ids of the kernels whose session is the notebook at ``path``."""
    sessions = requests.get(f"{jupyterlab}/api/sessions", timeout=30).json()
    return [session["kernel"]["id"] for session in sessions if session["path"] == path]


def poll(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} after {timeout} s"
        time.sleep(0.2)


def test_closing_a_lesson_shuts_its_kernel_down(page, jupyterlab, shot):
    page.goto(f"{jupyterlab}/lab/tree/{LESSON}?reset")
    open_notebook(page, jupyterlab)
    started = kernels_of(jupyterlab, LESSON)
    assert started, f"opening {LESSON} started no kernel"
    shot(page, "open")
    tab = page.locator("li.lm-TabBar-tab", has_text="00_welcome.ipynb")
    tab.locator(".lm-TabBar-tabCloseIcon").click()
    save = page.get_by_role("button", name="Save", exact=True)  # the kernel's details mark it changed
    if save.is_visible():
        save.click()  # through the save hook: the fixture checks that notebooks/ did not change
    expect(tab).to_have_count(0)
    shot(page, "closed")
    running = {kernel["id"] for kernel in requests.get(f"{jupyterlab}/api/kernels", timeout=30).json()}
    poll(
        lambda: not set(started) & {kernel["id"] for kernel in requests.get(f"{jupyterlab}/api/kernels").json()},
        f"the closed lesson's kernel {started} still runs (kernels: {running})",
    )


def test_a_lesson_run_and_saved_leaves_git_status_clean(page, jupyterlab, shot):
    path = Path(settings.BASE_DIR) / LESSON
    committed = path.read_bytes()
    try:
        page.goto(f"{jupyterlab}/lab/tree/{LESSON}?reset")
        open_notebook(page, jupyterlab)
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").first.click()
        page.keyboard.press("Shift+Enter")
        notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        expect(notebook.locator(".jp-InputPrompt").filter(has_text="[1]:")).to_have_count(1)
        expect(notebook.locator(".jp-OutputArea-output").first).not_to_be_empty()
        page.keyboard.press("Control+s")
        expect(page.locator("li.lm-TabBar-tab.jp-mod-dirty", has_text="00_welcome.ipynb")).to_have_count(0)
        expect(notebook.locator(".jp-OutputArea-output").first).not_to_be_empty()  # the outputs stay on screen
        shot(page, "saved")
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", LESSON],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert status == "", f"after running a cell and saving, git status says {status!r}"
        assert path.read_bytes() == committed
    finally:
        path.write_bytes(committed)


def test_a_terminal_finds_the_workshops_python(page, jupyterlab, shot):
    """File → New → Terminal, then what the learner types: ``pytest`` must be this environment's."""
    workshop = os.path.realpath(os.path.dirname(sys.executable))
    with tempfile.TemporaryDirectory(prefix="workshop-terminal-") as folder:
        answer = Path(folder) / "which.txt"
        page.goto(f"{jupyterlab}/lab?reset")
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^File$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^New$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Terminal$")).click()
        terminal = page.locator(".jp-Terminal:not(.lm-mod-hidden) .xterm-helper-textarea")
        expect(terminal).to_be_attached()
        terminal.focus()
        page.keyboard.type(f"command -v python pytest | tee {answer}\n")
        poll(lambda: answer.exists() and answer.read_text().count("\n") >= 2, "the terminal wrote no answer")
        shot(page, "terminal")
        found = answer.read_text().split()
    folders = {os.path.realpath(os.path.dirname(path)) for path in found}
    assert folders == {workshop}, f"the terminal's python and pytest are {found}, expected {workshop}'s"
