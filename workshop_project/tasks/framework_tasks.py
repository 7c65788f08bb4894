"""The article's job as a task of Django's own framework, ``django.tasks`` (lesson 13).

One task, enqueued on each backend the project configures (``settings.TASKS``)
with ``measure_task.using(backend=...)``: "default" is django-tasks-db's table,
run by ``bin/run db-worker``; "rq" is django-tasks-rq (the rq worker runs it);
"immediate" runs it at once, in the enqueuing code; "dummy" only stores it.
``Task.DoesNotExist`` is not caught: each backend records it as the result's error.
"""

from django.tasks import task

from .jobs import measure
from .models import Task


@task()
def measure_task(task_id):
    measure(Task.objects.get(id=task_id))


@task()
def ping():
    """Answers "pong": lesson 13 sends one to see that django-tasks-db's worker is running."""
    return "pong"
