# WRONG: Patches the project's shared get_url_length.delay at import so that every .delay() in the process waits for
# WRONG: the commit: start_task works, but every other caller of the job has changed behaviour (a global side effect).
# BLIND: written by helper rt1 from the docstring and lesson only, before reading the grader.
"""Exercise 04: enqueue from transaction.on_commit.  (Lesson: 05_fix_on_commit)

``start_task(url)`` creates a task and enqueues its job; the view calls it
inside the request's transaction. As written, the job is in Redis before the
transaction commits. Make ``start_task`` enqueue the job when the
transaction commits instead: never if it rolls back, and at once when there
is no transaction at all.

The grader checks, under the race amplifier (a worker that runs each job the
instant it is enqueued), that the job finds its row; that a request failing
after the create enqueues nothing; that ``start_task`` enqueues at the
commit inside a transaction and at once outside one; and that a task
created in a savepoint that rolls back gets no job.

Try it live:  http://127.0.0.1:8000/exercises/ex04_on_commit/
Grade it:     pytest exercises/ex04_on_commit
"""

from functools import partial

from django.db import transaction

from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task
from workshop_project.tasks.views import TaskFormView

_delay_now = get_url_length.delay
get_url_length.delay = lambda *args, **kwargs: transaction.on_commit(partial(_delay_now, *args, **kwargs))


def start_task(url):
    task = Task.objects.create(url=url)
    get_url_length.delay(task.id)  # now waits for the commit
    return task


class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        task = start_task(form.cleaned_data["url"])
        self.rest_of_request(form)  # may fail: then the transaction rolls back
        return self.started(task=task)
