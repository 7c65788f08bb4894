# WRONG: Changes the job's queue options at import for everyone: it rebinds the project's own create_task_and_measure
# WRONG: job module attribute to this measure_url, so the app's in_job page now runs the learner's job.
# BLIND: written by helper rt1 from the docstring and lesson only, before reading the grader.
"""Exercise 03: create the row in the job.  (Lesson: 04_fix_create_in_job)

The race needs a row that the view has created but not yet committed. Take
the row away from the view: the job creates the Task from the URL, so there
is nothing for it to miss.

1. ``measure_url`` takes the URL, creates the Task, measures it (``measure``
   records the job's id on the task) and returns the task's id;
2. the view writes nothing to the database: it only enqueues ``measure_url``
   with the URL (there is no task yet, so ``self.started(job=job)``).

The grader checks that the job succeeds, records its job id and returns
its task's id; that two requests for the same URL make two tasks (one per
request); and that the view itself wrote nothing.

Try it live:  http://127.0.0.1:8000/exercises/ex03_create_in_job/
Grade it:     pytest exercises/ex03_create_in_job
"""

from django_rq import job

from workshop_project.tasks import jobs as app_jobs
from workshop_project.tasks.jobs import measure
from workshop_project.tasks.models import Task
from workshop_project.tasks.views import TaskFormView


@job("default")
def measure_url(url):
    task = Task.objects.create(url=url)
    measure(task)
    return task.id


class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        job = measure_url.delay(form.cleaned_data["url"])
        self.rest_of_request(form)
        return self.started(job=job)


app_jobs.create_task_and_measure = measure_url  # one job for both pages
