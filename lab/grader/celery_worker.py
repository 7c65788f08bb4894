"""The graders' Celery vocabulary (exercise 10): a real Celery worker, and what it ran.

``worker()`` runs a real Celery worker on a thread of the grader's process
(``celery.contrib.testing.worker.start_worker``, the solo pool) with its own
database connection, on the grader's own Celery database (the test
settings: the one 8 away from the grader's rq database), so the live stack's
worker never takes a grader's task. ``settle()`` sends a ``ping`` and waits for
it: the solo worker runs messages in order, so every message sent before has
been run. ``runs()`` reads what the worker ran from Celery's result backend
(``result_extended``: each result names its task and arguments).
"""

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import redis
from django.conf import settings

from .grading import fail

BARRIER = "workshop.ping"  # settle()'s own task: every other task the worker ran is the answer's


def connection() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def flush() -> None:
    """No message waiting and no result kept (kombu's queue bindings stay: a worker may be running)."""
    client = connection()
    keys = [*client.scan_iter(match="celery-task-meta-*"), "celery", "unacked", "unacked_index"]
    client.delete(*keys)


@contextlib.contextmanager
def worker() -> Iterator[None]:
    """A real Celery worker on a thread for the block; stopped (and its thread joined) after."""
    from celery.contrib.testing.worker import start_worker

    from workshop_project.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield


def settle(timeout: float = 10) -> None:
    """Return once the worker has run every message sent before this call."""
    from celery.exceptions import TimeoutError as CeleryTimeout

    from workshop_project.tasks.celery_jobs import ping

    try:
        ping.delay().get(timeout=timeout)
    except CeleryTimeout:
        fail(f"The grader's Celery worker did not answer a ping within {timeout:g} s; expected it to be running.")


@dataclass
class Run:
    """One task the worker ran, as Celery's result backend recorded it."""

    name: str
    args: list
    status: str  # SUCCESS, FAILURE, STARTED, ...
    error: str  # "DoesNotExist: Task matching query does not exist." for a failure

    @property
    def call(self) -> str:
        return f"{self.name.rsplit('.', 1)[-1]}({', '.join(repr(arg) for arg in self.args)})"

    def __str__(self) -> str:
        if self.status == "FAILURE":
            return f"{self.call}, which failed with {self.error.rstrip('.')}"
        return f"{self.call} ({self.status})"


def runs() -> list[Run]:
    """Every task the worker ran (or is running), oldest first, but ``settle``'s pings."""
    client = connection()
    found = []
    for key in client.scan_iter(match="celery-task-meta-*"):
        meta = json.loads(client.get(key) or "{}")
        if not meta.get("name") or meta["name"] == BARRIER:
            continue
        result = meta.get("result")
        error = ""
        if meta.get("status") == "FAILURE" and isinstance(result, dict):
            message = result.get("exc_message")
            message = " ".join(map(str, message)) if isinstance(message, list) else str(message or "")
            error = f"{result.get('exc_type', 'an exception')}: {message}".rstrip(": ")
        found.append(
            (
                meta.get("date_done") or "",
                Run(meta["name"], list(meta.get("args") or []), meta.get("status", ""), error),
            )
        )
    return [run for _, run in sorted(found, key=lambda pair: pair[0])]
