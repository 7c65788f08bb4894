"""Lesson 13's ways of enqueuing the article's job, one per queue and API, and a
view that holds its transaction open until the worker has done the job.

The amplifier of lesson 02 works inside rq; it cannot reach into Celery or a
database queue. This view gives every queue the same deterministic race
instead: it creates the task, enqueues it one way, and then keeps the
request's transaction open until that queue says its worker has finished the
job (with a deadline). A job sent at once is therefore always run while the
row is still uncommitted, and fails with ``DoesNotExist`` every time, on any
queue, without a sleep. A job deferred to the commit (``None`` came back) is
not waited for: nothing can run it before the commit. A database queue's job
is a row in this very transaction: the view waits three of the worker's
polling intervals, and the worker, which cannot see an uncommitted row, finds
nothing.

``hold`` is also what exercise 10's view calls after its ``.delay()``.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import django_rq
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotAllowed
from django.test.utils import override_settings
from rq.job import Job

from .jobs import get_url_length
from .models import Task

#: The longest a request holds its transaction open waiting for a worker.
HOLD_SECONDS = 5.0
POLL_SECONDS = 0.02
FINISHED = ("SUCCESSFUL", "FAILED")  # django.tasks' TaskResultStatus names for "the worker is done"


def worker_done(handle) -> bool:
    """Has the queue's worker finished (or failed) the job behind ``handle``?

    ``handle`` is what the enqueueing call returned: an rq ``Job``, a list of
    them, Celery's ``AsyncResult``, or a ``django.tasks`` ``TaskResult``.
    """
    if isinstance(handle, list):
        return all(worker_done(each) for each in handle)
    if isinstance(handle, Job):
        status = handle.get_status(refresh=True)
        return str(getattr(status, "value", status)) in ("finished", "failed", "stopped", "canceled")
    if hasattr(handle, "ready"):  # Celery's AsyncResult: its result backend says
        return handle.ready()
    # A django.tasks TaskResult (Django's own, or the backport's from django-tasks-rq).
    if handle.status.name not in FINISHED and handle.task.get_backend().supports_get_result:
        handle.refresh()
    return handle.status.name in FINISHED


def hold(handle, seconds: float = HOLD_SECONDS) -> float:
    """Keep the caller's transaction open until the worker has finished ``handle``'s job,
    at most ``seconds``; return the seconds held. ``None`` (deferred to the commit): no wait."""
    started = time.monotonic()
    if handle is None:
        return 0.0
    while time.monotonic() - started < seconds and not worker_done(handle):
        time.sleep(POLL_SECONDS)  # polling the queue's own record, with a deadline
    return time.monotonic() - started


@dataclass(frozen=True)
class Way:
    """One way of enqueuing ``measure(task)``: the queue, the call, and how long to hold."""

    name: str
    queue: str
    how: str
    enqueue: Callable[[int], object]
    hold_seconds: float = HOLD_SECONDS


def _rq_delay(mode: str, task_id: int):
    """``get_url_length.delay(task_id)`` on a queue in ``mode`` (``.delay`` is ``queue.enqueue_call``)."""
    return django_rq.get_queue("default", commit_mode=mode).enqueue(get_url_length, task_id)


def _rq_enqueue_many(task_id: int):
    """``Queue.enqueue_many`` on a queue in django-rq's default mode, ``on_db_commit``."""
    queue = django_rq.get_queue("default", commit_mode="on_db_commit")
    return queue.enqueue_many([queue.prepare_data(get_url_length, (task_id,))])


def _celery(method: str, task_id: int):
    from .celery_jobs import measure_task

    return getattr(measure_task, method)(task_id)


def _django_task(backend: str, task_id: int):
    from .framework_tasks import measure_task

    if backend == "rq":  # django-rq's modern default in force: does django-tasks-rq honour it?
        with override_settings(RQ={**settings.RQ, "COMMIT_MODE": "on_db_commit"}):
            return measure_task.using(backend="rq", queue_name="django_tasks").enqueue(task_id)
    return measure_task.using(backend=backend).enqueue(task_id)


def _on_commit_django_task(task_id: int):
    from .framework_tasks import measure_task

    transaction.on_commit(partial(measure_task.using(backend="rq", queue_name="django_tasks").enqueue, task_id))


WAYS = {
    way.name: way
    for way in [
        Way("rq_auto", "rq", "`.delay()`, COMMIT_MODE `auto`", partial(_rq_delay, "auto")),
        Way("rq_on_db_commit", "rq", "`.delay()`, COMMIT_MODE `on_db_commit`", partial(_rq_delay, "on_db_commit")),
        Way(
            "rq_request_finished",
            "rq",
            "`.delay()`, COMMIT_MODE `request_finished`",
            partial(_rq_delay, "request_finished"),
        ),
        Way("rq_enqueue_many", "rq", "`enqueue_many`, COMMIT_MODE `on_db_commit`", _rq_enqueue_many),
        Way("celery_delay", "Celery", "`.delay()`", partial(_celery, "delay")),
        Way("celery_on_commit", "Celery", "`.delay_on_commit()`", partial(_celery, "delay_on_commit")),
        Way("tasks_immediate", "django.tasks", "`ImmediateBackend`", partial(_django_task, "immediate")),
        Way("tasks_dummy", "django.tasks", "`DummyBackend`", partial(_django_task, "dummy"), hold_seconds=0),
        Way(
            "tasks_rq",
            "django.tasks",
            "django-tasks-rq, COMMIT_MODE `on_db_commit`",
            partial(_django_task, "rq"),
        ),
        Way("tasks_rq_on_commit", "django.tasks", "django-tasks-rq in `on_commit`", _on_commit_django_task),
        Way(
            "tasks_db",
            "django.tasks",
            "django-tasks-db",
            partial(_django_task, "default"),
            hold_seconds=3 * settings.DB_WORKER_INTERVAL,
        ),
    ]
}

TASK_ID_HEADER, JOB_ID_HEADER, HELD_HEADER = "X-Task-Id", "X-Job-Id", "X-Held-Ms"


def handle_id(handle) -> str:
    """The enqueued job's id as its queue knows it ("" when deferred to the commit)."""
    if isinstance(handle, list):
        return ",".join(handle_id(each) for each in handle)
    return str(getattr(handle, "id", "") or "") if handle is not None else ""


def enqueue_view(request, way):
    """POST ``url``: create a task, enqueue it ``way``, hold until its worker is done, answer.

    Runs in the request's transaction (``ATOMIC_REQUESTS``), as the article's view.
    """
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    chosen = WAYS.get(way)
    if chosen is None:
        return HttpResponse(f"no way of enqueuing called {way!r}: one of {', '.join(WAYS)}", status=404)
    task = Task.objects.create(url=request.POST.get("url", "")[:128])
    handle = chosen.enqueue(task.id)
    held = hold(handle, chosen.hold_seconds)
    response = HttpResponse(f"task {task.id} enqueued {chosen.queue} {chosen.how}\n", content_type="text/plain")
    response[TASK_ID_HEADER], response[JOB_ID_HEADER] = str(task.id), handle_id(handle)
    response[HELD_HEADER] = str(round(held * 1000))
    return response
