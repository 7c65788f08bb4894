"""Exercise 03, solved: the job creates the row, the view only enqueues.

There is no uncommitted row for the worker to miss. The price: until the
worker runs, nothing in the database says the request was made, and if the
job is lost, so is the request.
"""

from django_rq import job

from workshop_project.tasks.jobs import measure
from workshop_project.tasks.models import Task
from workshop_project.tasks.views import TaskFormView


@job("default")
def measure_url(url):
    task = Task.objects.create(url=url)
    measure(task)  # fetches the page and records this job's id on the task
    return task.id


class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        job = measure_url.delay(form.cleaned_data["url"])
        self.rest_of_request(form)
        return self.started(job=job)
