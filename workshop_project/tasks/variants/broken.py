"""The article's original view: enqueue inside the request's transaction.

With ``ATOMIC_REQUESTS = True`` the whole request is one transaction that
commits only after ``form_valid`` returns. The job is pushed to Redis at once
(``COMMIT_MODE = "auto"``), so the worker can start before the commit, run
``Task.objects.get(id=...)`` on its own connection, and not find the row.
"""

from ..jobs import get_url_length
from ..models import Task
from ..views import TaskFormView


class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        task = Task.objects.create(url=form.cleaned_data["url"])
        job = get_url_length.delay(task.id)  # the worker may start right now...
        self.rest_of_request(form)  # ...while this transaction is still open
        return self.started(task=task, job=job)
