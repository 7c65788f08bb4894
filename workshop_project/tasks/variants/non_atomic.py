"""Fix 2: ``@transaction.non_atomic_requests`` on this one view.

The rest of the project keeps a transaction per request; this view manages
its own: the row is created in an explicit ``atomic()`` block, the block
commits, and only then is the job enqueued. The cost: if the request fails
after the block, the row is already committed and stays behind.
"""

from django.db import transaction
from django.utils.decorators import method_decorator

from ..jobs import get_url_length
from ..models import Task
from ..views import TaskFormView


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        with transaction.atomic():
            task = Task.objects.create(url=form.cleaned_data["url"])
        job = get_url_length.delay(task.id)  # committed: the worker will find it
        # Outside the block on purpose: what a failure here leaves behind is this fix's cost.
        self.rest_of_request(form)
        return self.started(task=task, job=job)
