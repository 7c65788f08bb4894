"""Exercise 01: reproduce the race, every time.  (Lesson: 02_the_race)

``reproduce(url)`` does what the article's view does: inside a transaction
(the request's, with ATOMIC_REQUESTS), it creates a Task and enqueues
``get_url_length`` with the task's id. Then it returns the job's id.

Your job: make the worker fail with ``Task.DoesNotExist`` every single time,
not just sometimes. The grader calls ``reproduce()`` several times and reads
rq's failed-job registry: each job must have failed with DoesNotExist, and
each task must exist once the transaction has committed (so it really was
the race, not a wrong id).

No worker runs while ``reproduce()`` runs: after it returns, a worker picks
up whatever is still in the queue. When the job runs is up to you. No
sleeps: a sleep makes the race likely, not certain.

Grade it:  pytest exercises/ex01_reproduce
"""

from django.db import transaction

from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task


def reproduce(url):
    with transaction.atomic():  # the request's transaction
        task = Task.objects.create(url=url)
        job = get_url_length.delay(task.id)
        # TODO: make a worker run this job now, before this block commits.
    return job.id
