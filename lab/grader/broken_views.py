"""Exercise 07's broken views: each replaces ``on_commit.View.form_valid`` for one run of the learner's tests.

Good tests pass on the correct view and fail on every one of these. Each is a
mistake a real view makes, and the later ones are there because a weak test
passed them: a test that only counts callbacks, one that empties the queue
instead of checking it, one that finds "the task" through the job itself.
Models are imported inside the functions: pytest loads the plugin that uses
these before Django is set up.
"""

from functools import partial


def premature_enqueue(self, form):
    """The article's bug: enqueue at once, inside the request's transaction."""
    from workshop_project.tasks.jobs import get_url_length
    from workshop_project.tasks.models import Task

    task = Task.objects.create(url=form.cleaned_data["url"])
    get_url_length.delay(task.id)
    self.rest_of_request(form)
    return self.started(task=task)


def no_enqueue(self, form):
    """Creates the task and forgets the job."""
    from workshop_project.tasks.models import Task

    task = Task.objects.create(url=form.cleaned_data["url"])
    self.rest_of_request(form)
    return self.started(task=task)


def wrong_id(self, form):
    """Waits for the commit, then enqueues the job for another task's id."""
    from django.db import transaction

    from workshop_project.tasks.jobs import get_url_length
    from workshop_project.tasks.models import Task

    task = Task.objects.create(url=form.cleaned_data["url"])
    transaction.on_commit(partial(get_url_length.delay, task.id + 1))
    self.rest_of_request(form)
    return self.started(task=task)


def enqueue_twice(self, form):
    """Waits for the commit, and registers the callback twice: two jobs, two fetches."""
    from django.db import transaction

    from workshop_project.tasks.jobs import get_url_length
    from workshop_project.tasks.models import Task

    task = Task.objects.create(url=form.cleaned_data["url"])
    transaction.on_commit(partial(get_url_length.delay, task.id))
    transaction.on_commit(partial(get_url_length.delay, task.id))
    self.rest_of_request(form)
    return self.started(task=task)


def wrong_function(self, form):
    """Waits for the commit, with the right id, but enqueues another job (one that creates a task)."""
    from django.db import transaction

    from workshop_project.tasks.jobs import create_task_and_measure
    from workshop_project.tasks.models import Task

    task = Task.objects.create(url=form.cleaned_data["url"])
    transaction.on_commit(partial(create_task_and_measure.delay, task.id))
    self.rest_of_request(form)
    return self.started(task=task)


def commits_a_failed_request(self, form):
    """Catches the request's failure and answers 500 itself: the transaction commits, and the job is enqueued
    for a request that failed."""
    from django.db import transaction
    from django.http import HttpResponseServerError

    from workshop_project.tasks.jobs import get_url_length
    from workshop_project.tasks.models import Task

    task = Task.objects.create(url=form.cleaned_data["url"])
    transaction.on_commit(partial(get_url_length.delay, task.id))
    try:
        self.rest_of_request(form)
    except Exception:
        return HttpResponseServerError("the request failed")
    return self.started(task=task)


def enqueue_now_and_at_the_commit(self, form):
    """Registers the right callback, and also enqueues at once after the request's work (a failing request
    enqueues nothing): its callbacks look right; the queue holds a job before the commit, and two after it."""
    from django.db import transaction

    from workshop_project.tasks.jobs import get_url_length
    from workshop_project.tasks.models import Task

    task = Task.objects.create(url=form.cleaned_data["url"])
    transaction.on_commit(partial(get_url_length.delay, task.id))
    self.rest_of_request(form)
    get_url_length.delay(task.id)
    return self.started(task=task)


def enqueue_now_beside_another_callback(self, form):
    """The article's bug in a view that uses on_commit for something else (a log line): one callback is
    waiting, one job is queued after the block, both as a test that counts them expects; but the job was
    enqueued at once, before the commit."""
    import logging

    from django.db import transaction

    from workshop_project.tasks.jobs import get_url_length
    from workshop_project.tasks.models import Task

    task = Task.objects.create(url=form.cleaned_data["url"])
    transaction.on_commit(partial(logging.getLogger(__name__).info, "task %s started", task.id))
    self.rest_of_request(form)
    get_url_length.delay(task.id)
    return self.started(task=task)


def job_for_another_task(self, form):
    """Saves the task twice (a retried save), answers with the first and enqueues the second: the job's task
    exists and has the form's URL, but it is not the task the view created and showed."""
    from django.db import transaction

    from workshop_project.tasks.jobs import get_url_length
    from workshop_project.tasks.models import Task

    task = Task.objects.create(url=form.cleaned_data["url"])
    again = Task.objects.create(url=form.cleaned_data["url"])
    transaction.on_commit(partial(get_url_length.delay, again.id))
    self.rest_of_request(form)
    return self.started(task=task)


MUTANTS = {
    "premature_enqueue": premature_enqueue,
    "no_enqueue": no_enqueue,
    "wrong_id": wrong_id,
    "enqueue_twice": enqueue_twice,
    "wrong_function": wrong_function,
    "commits_a_failed_request": commits_a_failed_request,
    "enqueue_now_and_at_the_commit": enqueue_now_and_at_the_commit,
    "enqueue_now_beside_another_callback": enqueue_now_beside_another_callback,
    "job_for_another_task": job_for_another_task,
}
