"""Start a process, wait until it is ready (polling with a deadline, never a fixed sleep), stop it.

The ground floor of ``lab.testing``: the test servers, the stack's Redis and the
lessons' throwaway servers all start their processes through :func:`running`.
"""

import contextlib
import socket
import subprocess
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


class ServiceError(RuntimeError):
    """A service could not be started; the message says which and why, in one line."""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(ready, what, timeout=START_TIMEOUT, process=None):
    """Poll ``ready()`` until it is true; fail with a plain sentence at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise ServiceError(f"{what} exited with status {process.returncode} before it was ready")
        with contextlib.suppress(Exception):
            if ready():
                return
        if time.monotonic() > deadline:
            raise ServiceError(f"{what} was not ready after {timeout:g} s")
        time.sleep(0.05)


def stop(process, timeout=10):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running(command, what, ready, env=None, **popen):
    """Run ``command`` until the block ends; enter the block once ``ready()`` is true."""
    process = subprocess.Popen(command, env=env, **popen)
    try:
        wait_until(ready, what, process=process)
        yield process
    finally:
        stop(process)


@contextlib.contextmanager
def project_process(command, what, ready, env=None):
    """:func:`running` for one of this project's processes: run from its folder, its output discarded."""
    with running(
        command, what, ready, env=env, cwd=BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as process:
        yield process
