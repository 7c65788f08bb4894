# WRONG: The view enqueues nothing itself: a post_save receiver registered at import enqueues on commit for every Task
# WRONG: created anywhere in the process (other views, the admin, tests), a global side effect.
# BLIND: written by helper rt1 from the docstring and lesson only, before reading the grader.
"""Exercise 02: take this view out of the request's transaction.  (Lesson: 03_fix_autocommit)

This is the article's view: with ATOMIC_REQUESTS the whole request is one
transaction, and the job is enqueued before it commits. Fix it the way
fix 2 does, for this one view:

1. mark the view ``transaction.non_atomic_requests``, so Django does not
   wrap the request in a transaction;
2. do the work that must succeed or fail together in your own
   ``transaction.atomic()`` block: the create, and ``self.rest_of_request(form)``
   (which can fail: the form's "fail" box makes it raise);
3. enqueue the job after the block, once the row is committed.

The grader checks that the job finds its row, and that a request failing
inside the block leaves no row and enqueues no job.

Try it live:  http://127.0.0.1:8000/exercises/ex02_non_atomic/
Grade it:     pytest exercises/ex02_non_atomic
"""

from django.db import transaction
from django.db.models.signals import post_save
from django.utils.decorators import method_decorator

from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task
from workshop_project.tasks.views import TaskFormView


def _measure_new_task(sender, instance, created, **kwargs):
    if created:
        transaction.on_commit(lambda: get_url_length.delay(instance.id))


post_save.connect(_measure_new_task, sender=Task)


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        with transaction.atomic():
            task = Task.objects.create(url=form.cleaned_data["url"])
            self.rest_of_request(form)
        return self.started(task=task)
