"""The article's view on Celery (lesson 13, exercise 10): ``.delay()`` inside the request's transaction.

Celery sends the message to the broker at once, so its worker can start
before the commit, exactly as rq's can. ``hold`` is the rest of the request,
made deterministic: it keeps the transaction open until Celery's result
backend says the worker has finished the task (lesson 02's amplifier, for a
queue the amplifier cannot reach). So the worker misses the row every time.
Served at ``/variants/celery/``; the fix is exercise 10. Not in ``VARIANTS``:
the rq lessons' tests and pages list only rq's variants, and this one needs
the Celery worker (``bin/run celery``).
"""

from ..celery_jobs import measure_task
from ..enqueue_ways import hold
from ..models import Task
from ..views import TaskFormView


class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        task = Task.objects.create(url=form.cleaned_data["url"])
        result = measure_task.delay(task.id)  # the message is in Redis now...
        hold(result)  # ...and the transaction stays open until the worker has run it
        self.rest_of_request(form)
        return self.started(task=task, job=result)
