"""Exercise 01, solved: the amplifier runs the job while the transaction is open.

Under ``amplifier()`` every job is handed to an rq worker on another thread,
with its own database connection, the moment it is enqueued; ``.delay()``
returns only when that job has run. So the worker looks for the task after
the INSERT and before the COMMIT, every time: ``Task.DoesNotExist``.
"""

from django.db import transaction

from lab.amplifier import amplifier
from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task


def reproduce(url):
    with amplifier(), transaction.atomic():  # the request's transaction
        task = Task.objects.create(url=url)
        job = get_url_length.delay(task.id)  # the worker runs it now, before the commit
    return job.id
