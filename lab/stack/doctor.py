"""Is every part of the workshop's stack up? (``manage.py workshop doctor``)

Each check gives one line: what is fine, or what is wrong and the command
that fixes it. Checks that need Redis are skipped while Redis is down, so a
stopped Redis is reported once, not five times.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import django_rq
import redis
import requests
from django.conf import settings
from django.db import connections
from rq import Worker

from lab.stack import kernel, sources
from lab.stack.advice import START_STACK, not_answering
from workshop_project.tasks.health import unapplied_migrations


@dataclass
class Check:
    name: str
    ok: bool
    message: str

    def __str__(self):
        return f"{'✔' if self.ok else '✘'} {self.name}: {self.message}"


def check_redis():
    url = settings.RQ_QUEUES["default"]["URL"]
    try:
        django_rq.get_connection("default").ping()
    except redis.RedisError:
        return Check("Redis", False, not_answering("Redis", url))
    return Check("Redis", True, f"answers at {url}")


def check_database(alias):
    try:
        unapplied = unapplied_migrations(connections[alias])
    except Exception as error:  # any failure to reach the database, said in one line
        return Check(f"database {alias!r}", False, f"cannot be reached ({error}): check DATABASE_URL")
    if unapplied:
        return Check(f"database {alias!r}", False, f"{len(unapplied)} migrations not applied: run `bin/run migrate`")
    return Check(f"database {alias!r}", True, f"migrated ({connections[alias].vendor})")


def check_web():
    url = f"{settings.WORKSHOP_WEB_URL.rstrip('/')}/healthz"
    try:
        response = requests.get(url, timeout=3)
    except requests.RequestException:
        return Check("web", False, not_answering("web", url))
    if response.status_code != 200:
        return Check("web", False, f"answers {response.status_code} at {url}: {response.text[:100]}")
    return Check("web", True, f"answers at {settings.WORKSHOP_WEB_URL}")


#: How long after a change to the sources a missing worker is taken for one restarting (its start takes ~5 s).
RESTART_SECONDS = 20


def newest_source():
    """The most recently changed Python file the worker may run, and when."""
    files = [path for folder in sources.FOLDERS for path in (settings.BASE_DIR / folder).rglob("*.py")]
    newest = max(files, key=lambda path: path.stat().st_mtime)
    return newest, datetime.fromtimestamp(newest.stat().st_mtime, tz=UTC)


def check_workers():
    queue = django_rq.get_queue("default")
    workers = Worker.all(queue=queue)
    path, changed = newest_source()
    if not workers:
        since = (datetime.now(UTC) - changed).total_seconds()
        if since < RESTART_SECONDS:  # a save restarts the worker: the stack is up, the worker back in seconds
            relative = Path(path).relative_to(settings.BASE_DIR)
            why = f"it restarts after {relative} changed {since:.0f} s ago; run this again in a few seconds"
        else:
            why = START_STACK
        url = settings.RQ_QUEUES["default"]["URL"]
        return [Check("worker", False, f"no rq worker listens on queue 'default' at {url}: {why}")]
    started = max(worker.birth_date for worker in workers)
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    checks = [Check("worker", True, f"{len(workers)} listening on queue 'default'")]
    if started < changed:
        relative = Path(path).relative_to(settings.BASE_DIR)
        checks.append(
            Check(
                "worker code",
                False,
                f"the worker started before {relative} changed: "
                "restart it (`bin/run worker` restarts by itself on changes)",
            )
        )
    else:
        checks.append(Check("worker code", True, "the worker started after the last change to the Python sources"))
    return checks


def check_relay():
    """The outbox relay (lesson 10): its heartbeat file, touched after every pass."""
    from workshop_project.tasks import outbox

    age = outbox.last_pass_age()
    if age is None:
        return Check("relay", False, f"no outbox relay has run here (lesson 10 needs one): {START_STACK}")
    if age > outbox.STALE_AFTER:
        return Check(
            "relay", False, f"the outbox relay's last pass was {age:.0f} s ago: is `bin/run relay` still running?"
        )
    return Check("relay", True, f"the outbox relay made a pass {age:.1f} s ago")


def check_kernel():
    if kernel.installed():
        return Check("Jupyter kernel", True, f"{settings.IPYTHON_KERNEL_DISPLAY_NAME!r} is installed")
    return Check(
        "Jupyter kernel", False, "the Django Shell-Plus kernel is not installed: run `python manage.py workshop kernel`"
    )


def check_celery(timeout=1.0):
    """The Celery worker (lesson 13, exercise 10): does one answer a ping on the stack's broker?"""
    from workshop_project.celery import app

    try:
        replies = app.control.ping(timeout=timeout, limit=1)
    except Exception as error:  # the broker itself does not answer: one line
        return Check("Celery worker", False, f"cannot ask ({error}): is Redis up?")
    if not replies:
        return Check(
            "Celery worker",
            False,
            f"no Celery worker answers at {settings.CELERY_BROKER_URL} (lesson 13): {START_STACK}",
        )
    return Check("Celery worker", True, f"{', '.join(name for reply in replies for name in reply)} answers")


def check_db_worker():
    """django-tasks-db's worker (lesson 13): it keeps no record of itself, so it is sent a task."""
    import time

    from workshop_project.tasks.framework_tasks import ping

    patience = 3 * settings.DB_WORKER_INTERVAL + 0.5
    try:
        result = ping.enqueue()
        deadline = time.monotonic() + patience
        while result.status.name != "SUCCESSFUL" and time.monotonic() < deadline:
            time.sleep(0.05)
            result.refresh()
    except Exception as error:  # its table missing (not migrated), the database down: one line
        return Check("database worker", False, f"cannot send it a task ({error}): run `bin/run migrate`")
    if result.status.name != "SUCCESSFUL":
        return Check(
            "database worker", False, f"django-tasks-db's worker ran no task within {patience:g} s: {START_STACK}"
        )
    return Check("database worker", True, "django-tasks-db's worker ran a task")


def checks(queues=True):
    """Every check, in the order a problem should be fixed. ``queues``: lesson 13's Celery and
    database workers too (lesson.start leaves them out: the lessons before 13 do not need them)."""
    redis_check = check_redis()
    results = [redis_check] + [check_database(alias) for alias in settings.DATABASES] + [check_web()]
    if redis_check.ok:
        results += check_workers()
        if queues:
            results.append(check_celery())
    if queues:
        results.append(check_db_worker())
    return results + [check_relay(), check_kernel()]


def report(stream=None):
    """Print every check; return True when all pass (a notebook's first cell calls this)."""
    write = stream.write if stream else print
    results = checks()
    for result in results:
        write(str(result))
    problems = [result for result in results if not result.ok]
    write("All good." if not problems else f"{len(problems)} problem(s): fix the first one first.")
    return not problems
