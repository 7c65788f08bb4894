"""The workers lesson 13 adds to the stack, for tests and CI: a Celery worker and django-tasks-db's.

Each is started with the command ``bin/run`` gives it (without the supervisor),
and entered once it answers: the Celery worker a ping, the database worker a
task. Neither waits with a fixed sleep.
"""

import contextlib
import subprocess
import sys
from collections.abc import Iterator

from .processes import project_process

CELERY_COMMAND = ["-m", "celery", "-A", "workshop_project.celery", "worker", "--pool=solo"]
CELERY_OPTIONS = ["--without-gossip", "--without-mingle", "--loglevel=WARNING"]


def _celery_answers() -> bool:
    from workshop_project.tasks.celery_jobs import ping

    return ping.delay().get(timeout=2) == "pong"


def _db_worker_answers() -> bool:
    import time

    from workshop_project.tasks.framework_tasks import ping

    result = ping.enqueue()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        result.refresh()
        if result.status.name == "SUCCESSFUL":
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def celery_worker(env: dict[str, str], name: str = "celery") -> Iterator[subprocess.Popen]:
    """A real Celery worker process on ``env``'s settings; entered once it has answered a ping."""
    command = [sys.executable, *CELERY_COMMAND, "--hostname", f"{name}@%h", *CELERY_OPTIONS]
    with project_process(command, "the Celery worker", _celery_answers, env) as process:
        yield process


@contextlib.contextmanager
def db_worker(env: dict[str, str], interval: float = 0.5) -> Iterator[subprocess.Popen]:
    """``manage.py db_worker`` on ``env``'s settings; entered once it has run a task."""
    command = [
        sys.executable,
        "manage.py",
        "db_worker",
        "--interval",
        str(interval),
        "--no-reload",
        "--no-startup-delay",
    ]
    with project_process(command, "django-tasks-db's worker", _db_worker_answers, env) as process:
        yield process
