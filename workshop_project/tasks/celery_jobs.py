"""The article's job as a Celery task (lesson 13, exercise 10).

The same two lines as ``jobs.get_url_length``: read the task, measure its
URL. ``Task.DoesNotExist`` is not caught: when the worker starts before the
view's transaction has committed, Celery records it as the task's result
(state ``FAILURE``), as rq records it in its failed-job registry.

``gated_measure`` and ``gated_measure_late`` are lesson 13's acks_late demo:
each counts its start, then waits at a gate (a Redis list the lesson pushes
to) before it measures, so the lesson can kill its worker half-way. The late
one is acknowledged only when it has finished: a worker killed half-way hands
it to the next (at least once); the other is acknowledged as it starts, and
is lost with the worker (at most once).
"""

import redis

from workshop_project.celery import app

from .jobs import measure
from .models import Task


@app.task(name="workshop.measure_task")
def measure_task(task_id):
    task = Task.objects.get(id=task_id)
    measure(task)


GATE, STARTS = "lesson13:gate:{}", "lesson13:starts:{}"  # Redis keys, on Celery's database


def gated(task_id):
    client = redis.Redis.from_url(app.conf.broker_url)
    client.incr(STARTS.format(task_id))
    client.blpop([GATE.format(task_id)], timeout=30)  # the lesson opens it (or kills this worker first)
    measure(Task.objects.get(id=task_id))


@app.task(name="workshop.gated_measure")
def gated_measure(task_id):
    gated(task_id)


@app.task(name="workshop.gated_measure_late", acks_late=True)
def gated_measure_late(task_id):
    gated(task_id)


@app.task(name="workshop.ping")
def ping():
    """Answers "pong". One Celery worker runs its messages in order, so when a ping sent after
    a request has answered, every message that request sent has been run: a barrier, as lab's
    ``barrier.settle`` is for rq (exercise 10's check uses it)."""
    return "pong"
