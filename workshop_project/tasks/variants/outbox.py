"""The transactional outbox: the request writes its job down instead of enqueueing it.

The task and an ``Outbox`` row naming its job are created in the request's
one transaction: they commit together, or roll back together. Nothing here
talks to Redis, so a Redis outage cannot fail the request or lose its job.
The relay (``manage.py relay``, lesson 10) sends the row to rq after the
commit; the job finds its task because a row is only visible once committed.
"""

from .. import outbox
from ..jobs import get_url_length
from ..models import Task
from ..views import TaskFormView


class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        task = Task.objects.create(url=form.cleaned_data["url"])
        outbox.add(get_url_length, task.id)  # a row, in this transaction: no Redis call
        self.rest_of_request(form)  # a failure here rolls back the task and its row
        return self.started(task=task)
