"""Lesson 13's ``acks_late`` demo: a Celery worker killed half-way through a task.

``killed_half_way(late)`` starts a Celery worker on a queue of its own
(``lesson13``, so the stack's worker never takes these tasks), sends it
``gated_measure`` (or ``gated_measure_late``), waits until the task has
started, and kills the worker with SIGKILL: no warm shutdown, no chance to
hand the message back. It then starts a second worker, lets the task through
its gate, and says how many times the task started and whether the row was
measured. Both workers take back unacknowledged messages after one second
(``CELERY_VISIBILITY_TIMEOUT=1``; Celery's default is an hour), and the
second is started only once the message has waited that long, so nothing is
left to timing.
"""

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import redis
from django.conf import settings

from lab.testing import project_process, wait_until
from workshop_project.tasks import celery_jobs
from workshop_project.tasks.forms import default_url
from workshop_project.tasks.models import Task

QUEUE = "lesson13"
VISIBILITY_SECONDS = 1


@dataclass
class Killed:
    late: bool
    starts: int
    result: str | None

    def __str__(self) -> str:
        ack = (
            "acks_late=True (acknowledged when it ends)" if self.late else "acks_late=False (acknowledged as it starts)"
        )
        fate = f"measured: {self.result}" if self.result else "never measured: lost with the killed worker"
        return f"{ack}: the task started {self.starts} time(s); its row was {fate}"


def _answers() -> bool:
    return celery_jobs.ping.apply_async(queue=QUEUE).get(timeout=0.5) == "pong"


@contextlib.contextmanager
def worker(name: str) -> Iterator[subprocess.Popen]:
    """A Celery worker on ``lesson13`` with a one-second visibility timeout; entered once it answers."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workshop_project.celery",
        "worker",
        "--pool=threads",
        "--concurrency=1",
        "-Q",
        QUEUE,
        "--hostname",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=WARNING",
    ]
    env = {**os.environ, "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS)}
    with project_process(command, f"the lesson's Celery worker {name}", _answers, env) as process:
        yield process


def killed_half_way(late: bool) -> Killed:
    """Kill a worker while it runs the task, start another, and see whether the task comes back."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    task = Task.objects.create(url=default_url())
    starts = celery_jobs.STARTS.format(task.id)
    job = celery_jobs.gated_measure_late if late else celery_jobs.gated_measure
    client.delete(QUEUE)  # nothing left over on the lesson's queue
    with worker("lesson13-first") as first:
        job.apply_async((task.id,), queue=QUEUE)
        wait_until(lambda: int(client.get(starts) or 0) >= 1, "the task to start")
        started_at = time.time()  # the worker took the message a moment before
        first.kill()  # SIGKILL, mid-task
        first.wait()
    # The gate opens before the second worker starts, so a task handed to it runs straight
    # through. A message still unacknowledged must have waited out the visibility timeout
    # by then: the next worker hands such messages out again as it starts.
    client.rpush(celery_jobs.GATE.format(task.id), "open")
    wait_until(lambda: time.time() - started_at > VISIBILITY_SECONDS + 0.2, "the visibility timeout", timeout=5)
    with worker("lesson13-second"):
        celery_jobs.ping.apply_async(queue=QUEUE).get(timeout=40)  # it has run whatever came back
    client.delete(celery_jobs.GATE.format(task.id))
    task.refresh_from_db()
    return Killed(late, int(client.get(starts) or 0), task.result)
