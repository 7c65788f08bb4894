"""A queue of its own, where no worker listens: lesson 02 runs your exercise 01 code as the grader does.

The live worker listens on the live queue. A job your ``reproduce()`` enqueues
there may be taken by the live worker before your own worker looks, and then
the result depends on who won: a right answer can print OK. The grader has
its own Redis database, where nobody else listens; so does this module, for
the length of a ``with quiet_queue():`` block. Only the Redis database
changes: the database is the live one, so the tasks show on the page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import django_rq
from django.conf import settings
from django.test import override_settings
from rq.decorators import job as rq_job
from rq.queue import Queue
from rq.registry import FailedJobRegistry

from lab.core.amplifier import BurstWorker, run_on_thread
from lab.core.outcomes import clear_jobs, fetch_outcome
from workshop_project.tasks.jobs import get_url_length


def _decorator_of(function) -> rq_job | None:
    """The rq ``@job`` behind ``function.delay`` (it holds the queue the job was bound to at import)."""
    for cell in getattr(function.delay, "__closure__", None) or ():
        if isinstance(cell.cell_contents, rq_job):
            return cell.cell_contents
    return None


@contextmanager
def quiet_queue(*jobs, queue_name: str = "default") -> Iterator[Queue]:
    """While the block runs, ``django_rq.get_queue()`` and the ``jobs`` (``get_url_length`` if none
    are named) use a Redis database where no worker listens; it is emptied first."""
    from workshop_project.test_settings import QUIET_REDIS_DATABASE, redis_url_with_database

    config = settings.RQ_QUEUES[queue_name]
    quiet = {
        **settings.RQ_QUEUES,
        queue_name: {**config, "URL": redis_url_with_database(config["URL"], QUIET_REDIS_DATABASE)},
    }
    decorators = [decorator for decorator in map(_decorator_of, jobs or (get_url_length,)) if decorator]
    saved = [(decorator, decorator.queue) for decorator in decorators]
    with override_settings(RQ_QUEUES=quiet):
        queue = django_rq.get_queue(queue_name)
        clear_jobs(queue_name)
        for decorator in decorators:
            decorator.queue = queue
        try:
            yield queue
        finally:
            for decorator, bound in saved:
                decorator.queue = bound


def verdict(returned, queue: Queue) -> str:
    """What one call of ``reproduce()`` did, in the grader's words."""
    job_id = getattr(returned, "id", returned)
    outcome = fetch_outcome(job_id) if isinstance(job_id, str) else None
    if outcome is None:
        return f"reproduce() returned {returned!r}: not the id of a job it enqueued."
    if outcome.finished:
        return (
            f"{outcome.call} had already run and found its task before the commit: it ran on the "
            "transaction's own connection (this thread, or inline), which a real worker never does."
        )
    if not outcome.failed:
        return f"{outcome.call} was still {outcome.job_status} when reproduce() returned: no worker had run it."
    if not outcome.missed_its_row:
        return f"{outcome} (expected Task.DoesNotExist)."
    FailedJobRegistry(queue=queue).requeue(outcome.job_id)
    run_on_thread(lambda: BurstWorker([queue], connection=queue.connection).work(burst=True), "requeue", 60)
    again = fetch_outcome(outcome.job_id)
    if again is None or not again.finished:
        return f"{outcome.call} failed with {outcome.short_type}, and failed again after the commit: not the race."
    return (
        f"{outcome.call} failed with {outcome.short_type} before the commit (rq's failed-job registry); "
        f"requeued after it, it found task {again.task_id} and measured it ({again.status}). The race, reproduced."
    )


def try_reproduce(url: str, runs: int = 3, slug: str = "ex01_reproduce") -> None:
    """Call your ``reproduce(url)`` ``runs`` times on a quiet queue; print what each job did."""
    worker_log = logging.getLogger("rq.worker")  # the lines below say what each job did, without its traceback
    was_disabled, worker_log.disabled = worker_log.disabled, True
    try:
        with quiet_queue() as queue:
            _calls(queue, url, runs, slug)
    finally:
        worker_log.disabled = was_disabled


def _calls(queue: Queue, url: str, runs: int, slug: str) -> None:
    from lab.lessons.lesson import call_learner

    for run in range(1, runs + 1):
        returned = call_learner(slug, "reproduce", url)
        if returned is None:  # call_learner has said why, or reproduce() returned nothing
            print(f"Run {run}: reproduce() gave no job id; expected the id of the job it enqueued.")
            return
        print(f"Run {run}: {verdict(returned, queue)}")
