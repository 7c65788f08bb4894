"""Grades exercise 01: worker_in_the_block() makes the race certain, and it really is the race.

Each check uses the tool as a test suite would and reads what the worker did
from rq: the job, its status, and rq's failed-job registry. A job that ran on
the transaction's own connection (this thread, an inline queue) finds the
uncommitted row; a worker that reads another database fails even after the
commit. Neither is the race, and the sentences say so.
"""

import sys
import threading
import time
import weakref

import django_rq
import pytest
from django.conf import settings
from django.db import connections, transaction
from django.test import override_settings
from rq import Worker
from rq.job import Job
from rq.registry import FailedJobRegistry

from lab.grader import grading
from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task
from workshop_project.test_settings import redis_url_with_database

RUNS = 3
OTHER = "grader-other"  # a queue of the grader's own, on another Redis database: queue_name must be honoured
DOWN = "grader-down"  # a queue whose Redis does not answer: the worker's error must come out of the block
PROBED = []  # weak references to the database connections the probe job opened, on the worker's thread
HOLD = 1.2  # seconds the probe job takes unless the caller's thread waits for its worker without a time limit
APP_JOB = f"{get_url_length.__module__}.{get_url_length.__name__}"


def from_the_lab(value):
    where = getattr(value, "__module__", None) or getattr(value, "__name__", None) or ""
    return isinstance(where, str) and (where == "lab" or where.startswith("lab."))


def tool(learner, *args):
    """``learner.worker_in_the_block()``, checked to be a context manager built without the lab."""
    borrowed = sorted(
        name for name, value in vars(learner).items() if not name.startswith("__") and from_the_lab(value)
    )
    if borrowed:
        grading.fail(
            f"Your file uses the lab's {borrowed[0]}; expected a tool built from rq's worker and a thread "
            "(a test suite of your own has no lab to import)."
        )
    manager = learner.worker_in_the_block(*args)
    if not (hasattr(manager, "__enter__") and hasattr(manager, "__exit__")):
        grading.fail(
            f"worker_in_the_block() returned {grading.shown(manager)}; expected a context manager (@contextmanager)."
        )
    return manager


def not_yet(run, after):
    """The job had not run to its end when the block ended: still running, or never taken."""
    taken = run.job_status == "queued" and run.job_id not in grading.queued_job_ids()
    if run.job_status == "started" or taken:
        state = "taken from the queue but not run yet" if taken else "still running (rq: started)"
        grading.fail(
            f"{after}, {run.call} was {state}: your tool went on before its worker had "
            "finished. Expected it to wait for the worker itself (join() its thread), not for a time or a queue "
            "that looks empty.",
            cause="did_not_wait",
        )
    grading.fail(
        f"{after}, {run.call} was still {run.job_status or 'waiting'}: no worker had taken it. Expected a worker "
        "to run it before the block ends (if your worker's thread raised an error, did you keep it and raise it "
        "again?)."
    )


def expect_the_race(job_id, task_id, after):
    """The job failed with Task.DoesNotExist in rq's failed-job registry: the app's own job, for ``task_id``."""
    if transaction.get_connection().closed_in_transaction:
        grading.fail(
            f"{after}, the transaction's own database connection had been closed: your tool closed this "
            "thread's connections. Expected the worker to run on another thread and close only its own."
        )
    run = grading.job_run(job_id)
    if run.finished:
        grading.fail(
            f"{after}, {run.call} had already run and found task {task_id} before the commit: it ran on the "
            "same database connection as the transaction (on this thread, or an inline queue), which sees the "
            "uncommitted row; a real worker never does. Expected a worker on another thread, with its own "
            "connection, to fail with Task.DoesNotExist."
        )
    if not run.failed:
        not_yet(run, after)
    if job_id not in grading.failed_job_ids():
        grading.fail(f"{run.call} failed, but rq's failed-job registry does not hold it; expected a real rq worker.")
    if run.func_name != APP_JOB or tuple(run.args) != (task_id,):
        grading.fail(f"The job that failed was {run.call}; expected the app's own get_url_length({task_id}).")
    if not run.missed_its_row:
        grading.fail(f"The job {run}; expected it to fail with Task.DoesNotExist.")


def expect_succeeds_when_requeued(learner, job_id, task_id):
    """After the commit, the same job, requeued and run by the learner's worker, finds its row."""
    if not Task.objects.filter(id=task_id).exists():
        grading.fail(f"Task {task_id} does not exist even after the commit; expected the transaction to commit it.")
    FailedJobRegistry(queue=django_rq.get_queue("default")).requeue(job_id)
    with tool(learner):
        pass  # nothing enqueued in the block: the worker runs what waits in the queue
    run = grading.job_run(job_id)
    if run.missed_its_row:
        grading.fail(
            f"After the commit, the same job {run.call}, requeued, failed again with {run.short_type}: your worker "
            "reads another database than the one the task was committed to. That is not the race."
        )
    if not run.finished:
        grading.fail(f"Requeued after the commit, the job {run}; expected it to find task {task_id} and finish.")


def test_inside_a_transaction_the_apps_job_fails_with_does_not_exist(learner, samples):
    manager = tool(learner)
    with transaction.atomic():
        task = Task.objects.create(url=samples.url())
        with manager:
            job = get_url_length.delay(task.id)
        expect_the_race(job.id, task.id, after="When the block ended")


def test_the_same_job_succeeds_when_requeued_after_the_commit(learner, samples):
    manager = tool(learner)
    with transaction.atomic():
        task = Task.objects.create(url=samples.url())
        with manager:
            job = get_url_length.delay(task.id)
        expect_the_race(job.id, task.id, after="When the block ended")
    expect_succeeds_when_requeued(learner, job.id, task.id)


def test_outside_a_transaction_the_job_it_runs_succeeds(learner, samples):
    task = Task.objects.create(url=samples.url())  # committed at once
    with tool(learner):
        job = get_url_length.delay(task.id)
    run = grading.job_run(job.id)
    if run.missed_its_row:
        grading.fail(
            f"Task {task.id} was committed before the block, yet your worker failed with {run.short_type}: "
            "it reads another database than your code writes to. That is not the race."
        )
    if run.job_status in ("started", "queued"):
        not_yet(run, "With the task committed, when the block ended")
    if not run.finished:
        grading.fail(f"With the task committed, the job {run}; expected your worker to run it and finish.")


def test_reproduce_fails_every_time_on_the_apps_own_row(learner, samples):
    for attempt in range(1, RUNS + 1):
        before = set(Task.objects.values_list("id", flat=True))
        returned = learner.reproduce(samples.url())
        job_id = grading.job_id_of(returned, what="reproduce()'s return value")
        created = sorted(set(Task.objects.values_list("id", flat=True)) - before)
        if len(created) != 1:
            grading.fail(
                f"After reproduce() returned, {len(created)} new tasks were committed; expected its transaction "
                "to commit exactly one (the race needs the row to exist once the transaction is over)."
            )
        expect_the_race(job_id, created[0], after=f"Attempt {attempt} of {RUNS}: when reproduce() returned")
        FailedJobRegistry(queue=django_rq.get_queue("default")).requeue(job_id)
        grading.run_queued_jobs()  # the grader's own worker, after the commit
        run = grading.job_run(job_id)
        if not run.finished:
            grading.fail(
                f"Requeued after reproduce() had committed, its job {run}; expected it to find task "
                f"{created[0]} then: that is what shows the first failure was the race."
            )


# --- The tool's promises beyond the race: its queue, every job, each call, waiting, errors ---------------


def which_thread():
    """A job that says which thread ran it."""
    return threading.get_ident()


def waits_without_a_limit(frame):
    """The main thread is blocked in threading's join() or wait() with no timeout: waiting for a worker to end."""
    for _ in range(8):
        if frame is None:
            return False
        code = frame.f_code
        if code.co_filename == threading.__file__ and code.co_name in ("join", "wait", "_wait_for_tstate_lock"):
            return frame.f_locals.get("timeout") in (None, -1)
        frame = frame.f_back
    return False


def slow_unless_joined():
    """A job that ends at once if the main thread waits for its worker (join() with no timeout), and only after
    HOLD seconds otherwise: a tool that waits a fixed time (a sleep, join(timeout=...)) goes on before it ends.
    Returns the thread that ran it."""
    Task.objects.exists()  # the worker's thread opens its own database connection, as the app's job would
    PROBED.append(weakref.ref(connections["default"]))  # to see whether the thread closes it
    main = threading.main_thread().ident
    deadline = time.monotonic() + HOLD
    while time.monotonic() < deadline and not waits_without_a_limit(sys._current_frames().get(main)):
        time.sleep(0.002)
    return threading.get_ident()


def status_of(job):
    return Job.fetch(job.id, connection=job.connection).get_status(refresh=True).value


@pytest.fixture
def other_queue():
    """``grader-other``, a queue on another Redis database than ``default``'s; emptied after the check."""
    url = redis_url_with_database(
        settings.RQ_QUEUES["default"]["URL"],
        (django_rq.get_connection().connection_pool.connection_kwargs.get("db", 0) - 2) % 16,
    )
    with override_settings(RQ_QUEUES={**settings.RQ_QUEUES, OTHER: {"URL": url, "DEFAULT_TIMEOUT": 60}}):
        queue = django_rq.get_queue(OTHER)
        try:
            yield queue
        finally:
            stale = list(queue.connection.scan_iter(match="rq:*"))
            if stale:
                queue.connection.delete(*stale)


def test_it_runs_every_job_of_the_queue_it_is_given_at_each_call(learner, other_queue):
    default = django_rq.get_queue("default")
    with tool(learner):  # a first call, on the default queue
        first = default.enqueue(which_thread)
    if status_of(first) != "finished":
        grading.fail(f"When the block ended, the job enqueued in it was {status_of(first)}; expected it finished.")
    waiting = other_queue.enqueue(which_thread)  # already waiting when the block starts
    with tool(learner, OTHER):  # a second call, on another queue (another Redis database)
        inside = [other_queue.enqueue(which_thread), other_queue.enqueue(which_thread)]
        bystander = default.enqueue(which_thread)  # not the queue it was given
    statuses = [status_of(job) for job in [waiting, *inside]]
    if statuses != ["finished"] * 3:
        grading.fail(
            f"worker_in_the_block({OTHER!r}) was called with one job waiting in that queue and two enqueued in the "
            f"block; when the block ended they were {', '.join(statuses)}. Expected a worker on the queue it is "
            "given (its name, its Redis) to run every job waiting there, at every call.",
            cause="queue_name",
        )
    if status_of(bystander) != "queued":
        grading.fail(
            f"worker_in_the_block({OTHER!r}) also ran a job of the 'default' queue ({status_of(bystander)}); "
            "expected it to work only the queue it was given.",
            cause="queue_name",
        )


def left_open(wrapper):
    """The probe's database connection, still open although the thread that opened it has ended."""
    alive = {thread.ident for thread in threading.enumerate()}
    return wrapper is not None and wrapper.connection is not None and wrapper._thread_ident not in alive


def test_the_block_ends_only_once_its_worker_has_finished(learner):
    queue = django_rq.get_queue("default")
    before = {worker.name for worker in Worker.all(queue=queue)}
    with tool(learner):
        job = queue.enqueue(slow_unless_joined)
    running = [worker.name for worker in Worker.all(queue=queue) if worker.name not in before]
    run = grading.job_run(job.id)
    if not run.finished:
        not_yet(run, "When the block ended")
    if grading.fetch_job(job.id).return_value() == threading.main_thread().ident:
        grading.fail(
            "Your tool ran the job on the caller's own thread; expected a worker on another thread, with a database "
            "connection of its own (the caller's connection sees the uncommitted row).",
            cause="same_thread",
        )
    if running:
        grading.fail(
            f"When the block ended, your worker {running[0]} was still running (registered with rq, listening on "
            "the queue); expected it to have finished: burst mode ends when the queue is empty, and the block waits "
            "for it.",
            cause="did_not_wait",
        )
    if left_open(PROBED[-1]() if PROBED else None):
        grading.fail(
            "Your worker's thread has ended and left its database connection to 'default' open: Django "
            "does not close a thread's connections when the thread ends (on PostgreSQL each is a server session, "
            "held until the garbage collector runs). Expected the thread to close them before it ends "
            "(connections.close_all() in a finally).",
            cause="connection_left_open",
        )


class BlockError(Exception):
    """Raised inside the block by the grader: a test that fails there."""


def test_errors_in_the_block_and_in_its_worker_come_out(learner, redis_down):
    try:
        with tool(learner):
            raise BlockError("a test's assertion inside the block")
    except BlockError:
        pass
    else:
        grading.fail(
            "An error raised inside the block did not come out of it; expected it to reach the code around the "
            "block, as with any with statement (a test that fails inside the block must fail).",
            cause="block_error_swallowed",
        )
    with (
        override_settings(RQ_QUEUES={**settings.RQ_QUEUES, DOWN: settings.RQ_QUEUES["default"]}),
        redis_down(DOWN) as closed,
    ):
        try:
            with tool(learner, DOWN):
                pass
        except Exception:
            return
    grading.fail(
        f"The worker of worker_in_the_block({DOWN!r}) could not reach its queue's Redis (nothing listens at "
        f"{closed}), yet the block ended without an error; expected the worker's error to come out of the block "
        "(keep the thread's exception and raise it again after join()).",
        cause="thread_error_lost",
    )
