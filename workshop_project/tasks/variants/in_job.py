"""Fix 3: the job creates the row, so the view has nothing to commit first.

The view only enqueues the URL. The cost: until the worker runs, there is no
record that anything was asked for; if the job is lost, so is the request.
The view cannot show the new task either: it does not exist yet.
"""

from ..jobs import create_task_and_measure
from ..views import TaskFormView


class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        job = create_task_and_measure.delay(url=form.cleaned_data["url"])  # the data, not an id
        self.rest_of_request(form)
        return self.started(job=job)
