"""Lesson 13: every queue Django uses, the same race, each measured on a real worker of that queue.

``measure()`` posts the article's request once per way of enqueuing
(``workshop_project.tasks.enqueue_ways.WAYS``: rq in each commit mode and
``enqueue_many``, Celery's ``.delay()`` and ``.delay_on_commit()``,
``django.tasks`` on each backend) to ``/queues/<way>/``, in this process,
through Django's own request handler (``ATOMIC_REQUESTS`` applies). That view
keeps its transaction open until the queue says its worker is done, so the
race is certain, not likely. Then it reads what the worker saw from the
task's row and from the queue's own record of failures: rq's failed-job
registry, Celery's result backend, the django.tasks backend's result.

The workers are real: the stack's rq worker, Celery worker (``bin/run
celery``) and django-tasks-db worker (``bin/run db-worker``); django-tasks-rq
needs an rq worker with its own job class, which ``measure`` starts for as
long as it measures (``tasks_rq_worker``).
"""

import contextlib
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import django_rq
from django.conf import settings
from django.test import Client
from django.urls import reverse

from lab.core.outcomes import fetch_outcome
from lab.testing import BASE_DIR, running
from workshop_project.tasks.enqueue_ways import HELD_HEADER, JOB_ID_HEADER, TASK_ID_HEADER, WAYS, Way
from workshop_project.tasks.forms import default_url
from workshop_project.tasks.models import Task

PATIENCE = 15.0  # seconds a worker gets to finish one task after the commit
POLL = 0.01
RUNS = 3

#: What the worker saw, for each way, in every run: the table the lesson teaches.
EXPECTED = {
    "rq_auto": "DoesNotExist",
    "rq_on_db_commit": "the row",
    "rq_request_finished": "never ran",
    "rq_enqueue_many": "DoesNotExist",
    "celery_delay": "DoesNotExist",
    "celery_on_commit": "the row",
    "tasks_immediate": "the row, in the request",
    "tasks_dummy": "never ran",
    "tasks_rq": "DoesNotExist",
    "tasks_rq_on_commit": "the row",
    "tasks_db": "the row",
}
BACKENDS = {"tasks_immediate": "immediate", "tasks_dummy": "dummy", "tasks_rq": "rq", "tasks_db": "default"}


class WorkerMissing(RuntimeError):
    """A queue's worker does not answer; the message says which and how to start it."""


class TableChanged(RuntimeError):
    """A way of enqueuing did not end as the lesson says it does."""


@dataclass
class Row:
    """How ``runs`` requests enqueuing one way ended, and what they cost."""

    way: Way
    seen: Counter
    request_ms: list[float]  # the request's own time, without the hold
    latency_ms: list[float]  # from the response (the commit) to the task measured

    @property
    def verdict(self) -> str:
        """What the worker saw, when every run agreed; else each outcome with its count."""
        if len(self.seen) == 1:
            return next(iter(self.seen))
        return ", ".join(f"{what} {count}/{sum(self.seen.values())}" for what, count in self.seen.most_common())

    def cells(self) -> list[str]:
        latency = f"{statistics.median(self.latency_ms):.0f}" if self.latency_ms else "—"
        if self.verdict == EXPECTED["tasks_immediate"]:
            latency = "0 (before the commit)"
        shown = {"DoesNotExist": "**DoesNotExist**", "never ran": "*never ran*"}.get(self.verdict, self.verdict)
        request = f"{statistics.median(self.request_ms):.0f}"
        return [self.way.queue, self.way.how, shown, request, latency]


def rq_idle(queue_name: str) -> bool:
    """Nothing waiting on the rq queue, nothing taken and not finished."""
    queue = django_rq.get_queue(queue_name)
    return (
        queue.count == 0
        and not queue.connection.llen(queue.intermediate_queue_key)
        and queue.started_job_registry.count == 0
    )


def failure(way: Way, job_id: str) -> str:
    """The exception the queue recorded for this job ("" if none, or not yet)."""
    if not job_id:
        return ""
    if way.queue == "rq":
        outcome = fetch_outcome(job_id.split(",")[0])
        return outcome.status if outcome is not None and outcome.failed else ""
    if way.queue == "Celery":
        from celery.result import AsyncResult

        from workshop_project.celery import app

        result = AsyncResult(job_id, app=app)
        return type(result.result).__name__ if result.state == "FAILURE" else ""
    if BACKENDS.get(way.name) in ("rq", "default"):
        from django.tasks import task_backends

        result = task_backends[BACKENDS[way.name]].get_result(job_id)
        if result.status.name == "FAILED" and result.errors:
            return result.errors[-1].exception_class_path.rsplit(".", 1)[-1]
    return ""


def idle(way: Way) -> bool:
    """Can the way's worker still run this request's job? False while it might."""
    if way.name in ("tasks_dummy", "tasks_immediate"):
        return True  # nothing else will ever run it
    if way.queue == "rq":
        return rq_idle("default")
    if way.name.startswith("tasks_rq"):
        return rq_idle("django_tasks")
    if way.name == "tasks_db":
        from django_tasks_db.models import DBTaskResult

        return not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists()
    return False  # Celery: wait for the row or the failure


def one_run(client: Client, way: Way, url: str) -> tuple[str, float, float | None]:
    """Post once; return what the worker saw, the request's ms (without the hold), commit -> measured ms."""
    started = time.perf_counter()
    response = client.post(reverse("tasks:queue", args=[way.name]), {"url": url})
    answered = time.perf_counter()
    if response.status_code != 200:
        raise TableChanged(f"/queues/{way.name}/ answered {response.status_code}: {response.content[:200]!r}")
    task_id, job_id = int(response[TASK_ID_HEADER]), response[JOB_ID_HEADER]
    request_ms = 1000 * (answered - started) - int(response[HELD_HEADER])
    deadline = time.monotonic() + PATIENCE
    while True:
        was_idle = idle(way)  # first: a job that finished before this is seen below
        result = Task.objects.filter(id=task_id).values_list("result", flat=True).first()
        if result:
            if way.name == "tasks_immediate":
                return "the row, in the request", request_ms, None
            return (
                ("the row" if result == "OK" else f"the row ({result})"),
                request_ms,
                1000 * (time.perf_counter() - answered),
            )
        failed = failure(way, job_id)
        if failed:
            return failed, request_ms, None
        if was_idle or time.monotonic() > deadline:
            return "never ran", request_ms, None
        time.sleep(POLL)


@contextlib.contextmanager
def tasks_rq_worker(env: dict[str, str] | None = None) -> Iterator[None]:
    """An rq worker for django-tasks-rq's queue, with its job class (it runs only django.tasks tasks)."""
    from rq import Worker

    connection = django_rq.get_connection("django_tasks")
    queue = django_rq.get_queue("django_tasks")
    before = {worker.name for worker in Worker.all(queue=queue)}
    command = [sys.executable, "manage.py", "rqworker", "django_tasks", "--job-class", "django_tasks_rq.Job"]
    with running(
        command,
        "django-tasks-rq's rq worker",
        lambda: any(worker.name not in before for worker in Worker.all(queue=queue)),
        env=env,
        cwd=BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ):
        yield
    del connection


def check_workers(timeout: float = 10) -> None:
    """Raise ``WorkerMissing`` unless the Celery worker and django-tasks-db's worker answer."""
    from celery.exceptions import TimeoutError as CeleryTimeout

    from workshop_project.tasks import celery_jobs, framework_tasks

    try:
        celery_jobs.ping.delay().get(timeout=timeout)
    except CeleryTimeout:
        raise WorkerMissing(
            f"no Celery worker answered within {timeout:g} s at {settings.CELERY_BROKER_URL}: "
            "start it with `bin/run celery` (`make up` and `docker compose up` start it)"
        ) from None
    result = framework_tasks.ping.enqueue()
    deadline = time.monotonic() + timeout
    while result.status.name != "SUCCESSFUL":
        if time.monotonic() > deadline:
            raise WorkerMissing(
                f"django-tasks-db's worker did not run a task within {timeout:g} s: start it with "
                "`bin/run db-worker` (`make up` and `docker compose up` start it)"
            )
        time.sleep(POLL)
        result.refresh()


def measure(ways: Sequence[str] = tuple(WAYS), runs: int = RUNS, env: dict[str, str] | None = None) -> list[Row]:
    """``runs`` requests per way, each job run by a real worker of its queue (``env``: the
    environment of the django-tasks-rq worker it starts; this process's by default)."""
    check_workers()
    client = Client(HTTP_HOST="localhost")
    rows = []
    with tasks_rq_worker(env):
        for name in ways:
            way = WAYS[name]
            seen, request_ms, latency_ms = Counter(), [], []
            for _ in range(runs):
                what, request, latency = one_run(client, way, default_url())
                seen[what] += 1
                request_ms.append(request)
                if latency is not None:
                    latency_ms.append(latency)
            rows.append(Row(way, seen, request_ms, latency_ms))
    return rows


def wait_measured(task_id: int, timeout: float = PATIENCE) -> Task:
    """The task once a worker has written its result; raise ``TimeoutError`` at the deadline."""
    deadline = time.monotonic() + timeout
    while not (task := Task.objects.get(id=task_id)).result:
        if time.monotonic() > deadline:
            raise TimeoutError(f"task {task_id} was not measured within {timeout:g} s: is its worker running?")
        time.sleep(POLL)
    return task


def markdown(rows: Sequence[Row]) -> str:
    """The table, in Markdown: queue, way of enqueuing, what the worker saw, what it cost."""
    header = ["queue", "way of enqueuing", "what the worker saw", "request ms", "commit → measured ms"]
    lines = [header, *(row.cells() for row in rows)]
    text = ["| " + " | ".join(line) + " |" for line in lines]
    return "\n".join([text[0], "|" + "---|" * len(header), *text[1:]])


def expect(rows: Sequence[Row]) -> None:
    """Raise ``TableChanged`` if any way ended otherwise than ``EXPECTED`` says (a changed library)."""
    wrong = [
        f"{row.way.name}: {row.verdict} (expected {EXPECTED[row.way.name]})"
        for row in rows
        if row.verdict != EXPECTED[row.way.name]
    ]
    if wrong:
        raise TableChanged("these ways did not end as the lesson says:\n" + "\n".join(wrong))
