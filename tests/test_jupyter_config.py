"""JupyterLab as ``bin/run jupyter`` starts it, seen through its own API: what a learner's terminal
runs, and what a save writes to a lesson's file (jupyter/jupyter_server_config.py).

The server gets a home folder of its own whose ``~/.profile`` and ``~/.bashrc`` do what pyenv's ``pyenv init``
does: it puts a folder of shims first on PATH, with a ``python`` and a ``pytest`` that know
nothing of Django. That is how the learner walkthrough's terminal said "No module named 'django'".
"""

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests

from lab import testing

BASE_DIR = testing.BASE_DIR
LESSON = "notebooks/00_welcome.ipynb"


@pytest.fixture(scope="module")
def jupyterlab():
    """``bin/run jupyter`` on a free port, with a pyenv-like ``~/.bashrc``; yields (url, session, shims, log)."""
    port = testing.free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="workshop-jupyter-home-") as home:
        shims = Path(home) / ".pyenv" / "shims"
        shims.mkdir(parents=True)
        for name in ("python", "pytest"):
            shim = shims / name
            shim.write_text('#!/bin/sh\necho "pyenv: no Django here" >&2\nexit 1\n')
            shim.chmod(0o755)
        for start_up in (".profile", ".bashrc"):  # where pyenv's instructions put `pyenv init`
            (Path(home) / start_up).write_text(f'export PATH="{shims}:$PATH"\n')
        env = testing.django_env(
            HOME=home,
            JUPYTER_BIND=f"127.0.0.1:{port}",
            JUPYTER_RUNTIME_DIR=str(Path(home) / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(Path(home) / "user-settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(Path(home) / "workspaces"),
        )
        env.pop("DJANGO_SETTINGS_MODULE", None)
        log_path = Path(home) / "jupyter.log"
        with contextlib.ExitStack() as stack:
            log = stack.enter_context(open(log_path, "w"))  # noqa: SIM115
            try:
                stack.enter_context(
                    testing.running(
                        ["bin/run", "jupyter"],
                        "JupyterLab",
                        lambda: requests.get(f"{url}/api", timeout=2).ok,
                        env=env,
                        cwd=BASE_DIR,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            except testing.ServiceError as error:
                pytest.fail(f"{error}; its log ends:\n{log_path.read_text()[-2000:]}")
            session = requests.Session()
            session.get(f"{url}/lab", timeout=30)  # as a browser: the _xsrf cookie every POST/PUT carries
            session.headers["X-XSRFToken"] = session.cookies.get("_xsrf", "")
            yield url, session, shims, log_path


async def terminal_says(url, session, command, timeout=60):
    """Open a JupyterLab terminal, type ``command``, return what it printed (up to a marker)."""
    from tornado.websocket import websocket_connect

    name = session.post(f"{url}/api/terminals", timeout=30).json()["name"]
    socket = await websocket_connect(f"{url.replace('http', 'ws', 1)}/terminals/websocket/{name}")
    try:
        await socket.write_message(json.dumps(["stdin", f"{command}; echo END-$((6*7))\r"]))
        said = ""
        async with asyncio.timeout(timeout):
            while "END-42" not in said:
                message = await socket.read_message()
                assert message is not None, f"the terminal closed; it said:\n{said}"
                kind, *content = json.loads(message)
                if kind == "stdout":
                    said += content[0]
        return said
    finally:
        socket.close()
        session.delete(f"{url}/api/terminals/{name}", timeout=30)


def test_the_terminal_finds_the_workshops_python_before_a_pyenv_shim(jupyterlab):
    url, session, shims, _ = jupyterlab
    said = asyncio.run(terminal_says(url, session, "command -v python pytest"))
    found = [line.strip() for line in said.splitlines() if line.strip().endswith(("/python", "/pytest"))][-2:]
    # The folder each is in, links resolved (a worktree's .venv may be a link to another checkout's).
    folders = [os.path.realpath(os.path.dirname(path)) for path in found]
    workshop = os.path.realpath(os.path.dirname(sys.executable))
    assert len(found) == 2, f"the terminal found no python or pytest; it said:\n{said}"
    assert folders == [workshop, workshop], f"the terminal's python and pytest are {found}, expected {workshop}'s"


def notebook_with_outputs(model):
    """The lesson as a learner's JupyterLab saves it after running it: outputs, counts, the kernel's details."""
    notebook = model["content"]
    for number, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "Ready.\n"}]
            cell["execution_count"] = number
            cell["metadata"]["scrolled"] = True
    notebook["metadata"]["language_info"] = {"name": "python", "version": "3.13.0", "mimetype": "text/x-python"}
    return {"type": "notebook", "format": "json", "content": notebook}


def test_the_servers_log_has_no_warning_about_the_workshops_own_save_hook(jupyterlab):
    """The hook reaches the ContentsManager twice at start-up; the second time traitlets warned that
    strip_lesson_outputs overrode itself, under every `make up`: a learner reads that as something wrong."""
    *_, log_path = jupyterlab
    log = log_path.read_text()
    assert "pre_save_hook" not in log, f"JupyterLab's log warns about the save hook:\n{log[-2000:]}"


def test_a_lesson_saved_by_jupyterlab_stays_as_committed(jupyterlab):
    url, session, _, _ = jupyterlab
    path = BASE_DIR / LESSON
    committed = path.read_bytes()
    model = session.get(f"{url}/api/contents/{LESSON}", timeout=30).json()
    try:
        saved = session.put(f"{url}/api/contents/{LESSON}", json=notebook_with_outputs(model), timeout=30)
        assert saved.ok, saved.text
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", LESSON], cwd=BASE_DIR, capture_output=True, text=True, check=True
        ).stdout
        assert path.read_bytes() == committed, f"saving {LESSON} from JupyterLab changed it: git status says {status!r}"
        assert status == ""
    finally:
        path.write_bytes(committed)


def test_a_notebook_outside_the_lessons_keeps_its_outputs(jupyterlab):
    url, session, _, _ = jupyterlab
    model = session.get(f"{url}/api/contents/{LESSON}", timeout=30).json()
    scratch = "data/jupyter-config-test.ipynb"  # data/ is the learner's, and ignored by git
    try:
        assert session.put(f"{url}/api/contents/{scratch}", json=notebook_with_outputs(model), timeout=30).ok
        cells = json.loads((BASE_DIR / scratch).read_text())["cells"]
        assert any(cell.get("outputs") for cell in cells), "a learner's own notebook lost its outputs on save"
    finally:
        (BASE_DIR / scratch).unlink(missing_ok=True)
