"""The deterministic race amplifier.

The race in the article depends on timing: the worker must pick the job up
before the request commits. Under the amplifier that is certain. While it is
active, every job enqueued from this thread is handed straight to an rq
``SimpleWorker`` running on another thread, with its own database connection,
and the enqueuing code continues only when that job has finished. It is as if
a worker had been waiting at the queue and took the job the instant it
arrived, before the view could take another step.

Everything but the hand-off is real: ``.delay()`` runs, the job is saved in
Redis, rq's own worker code performs it, and failures land in rq's
``FailedJobRegistry``. Only the push onto the Redis list is skipped, so a
live worker listening on the same queue can never take the job first.
"""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connections
from rq import Queue, SimpleWorker
from rq.timeouts import TimerDeathPenalty


class ThreadWorker(SimpleWorker):
    """An rq worker that can run off the main thread.

    Signals are only delivered to the main thread, so the job timeout uses a
    timer instead of SIGALRM and no signal handlers are installed.
    """

    death_penalty_class = TimerDeathPenalty

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log = logging.getLogger("lab.core.amplifier")

    def _install_signal_handlers(self):
        pass


class BurstWorker(ThreadWorker):
    """rq's worker, in burst mode on a thread, without the command channel: it lives a few
    milliseconds and nobody sends it commands (unsubscribing would cost a second per burst)."""

    def subscribe(self):
        pass


def run_on_thread(work: Callable[[], object], name: str, timeout: float | None = None) -> object:
    """Run ``work()`` on a new thread with its own database connections; wait for it.

    Returns what ``work`` returned and re-raises, on the caller's thread, what it
    raised: a worker's error is never lost in a thread's traceback. With a
    ``timeout``, raises ``TimeoutError`` if the thread is still busy then (it is
    a daemon thread, so it cannot keep the process alive).
    """
    result, errors = [], []

    def target():
        try:
            result.append(work())
        except BaseException as error:  # re-raised on the caller's thread below
            errors.append(error)
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"{name} was still busy after {timeout:g} s")
    if errors:
        raise errors[0]
    return result[0]


def perform(queue: Queue, job_id: str) -> None:
    """Perform one saved job on a new thread (with its own DB connection) and wait for it."""

    def work():
        ThreadWorker([queue], connection=queue.connection).execute_job(queue.fetch_job(job_id), queue)

    run_on_thread(work, name=f"amplifier-{job_id}")


class Amplifier:
    """Records the ids of the jobs it ran, in order (``amplifier.job_ids``)."""

    def __init__(self) -> None:
        self.job_ids: list[str] = []
        self._local = threading.local()

    def _push_job_id(self, original):
        def push_job_id(queue, job_id, pipeline=None, at_front=False):
            pending = getattr(self._local, "pending", None)
            if pending is None:
                return original(queue, job_id, pipeline=pipeline, at_front=at_front)
            pending.append(job_id)  # handed to a worker below instead of the Redis list

        return push_job_id

    def _enqueue_job(self, original):
        def enqueue_job(queue, job, pipeline=None, at_front=False, unique=False):
            if pipeline is not None or unique or getattr(self._local, "pending", None) is not None:
                return original(queue, job, pipeline=pipeline, at_front=at_front, unique=unique)
            self._local.pending = []
            try:
                job = original(queue, job, at_front=at_front)
            finally:
                pending, self._local.pending = self._local.pending, None
            for job_id in pending:
                self.job_ids.append(job_id)
                perform(queue, job_id)
            return job

        return enqueue_job


@contextmanager
def amplifier() -> Iterator[Amplifier]:
    """Run every job enqueued inside the block at once, on another thread.

    >>> with amplifier() as amp:
    ...     client.post("/variants/broken/", {...})
    >>> amp.job_ids
    """
    amp = Amplifier()
    saved = Queue.enqueue_job, Queue.push_job_id
    Queue.enqueue_job = amp._enqueue_job(saved[0])
    Queue.push_job_id = amp._push_job_id(saved[1])
    try:
        yield amp
    finally:
        Queue.enqueue_job, Queue.push_job_id = saved


def run_queued_jobs(queue_name: str = "default", timeout: float = 60) -> list[str]:
    """A real rq worker (burst mode) runs every job waiting in the queue, on another
    thread with its own database connection, as a worker arriving now would; returns their ids."""
    import django_rq

    queue = django_rq.get_queue(queue_name)
    job_ids = queue.get_job_ids()
    try:
        run_on_thread(
            lambda: BurstWorker([queue], connection=queue.connection).work(burst=True), "queue-worker", timeout
        )
    except TimeoutError:
        raise TimeoutError(
            f"The worker was still busy after {timeout:g} s: does a job wait for something that never happens?"
        ) from None
    return job_ids
