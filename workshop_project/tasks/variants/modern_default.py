"""django-rq 4's default: ``COMMIT_MODE = "on_db_commit"``.

The view is the article's original code. The job is decorated on a queue in
django-rq's default mode, so ``.delay()`` inside a transaction on the
*default* database is deferred to the commit and returns ``None`` there.

The mode is fixed when ``@job`` runs, at import: this project sets
``RQ = {"COMMIT_MODE": "auto"}`` to show the 2019 bug, so this module asks for
the modern mode on its own queue object instead of changing the setting.
"""

import django_rq

from ..jobs import get_url_length as original_job
from ..models import Task
from ..views import TaskFormView


@django_rq.job(django_rq.get_queue("default", commit_mode="on_db_commit"))
def get_url_length(task_id):
    original_job(task_id)


class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        task = Task.objects.create(url=form.cleaned_data["url"])
        get_url_length.delay(task.id)  # returns None here: deferred to the commit
        self.rest_of_request(form)
        return self.started(task=task)
