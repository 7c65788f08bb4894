"""The project's rq queue: django-rq's own, remembering which job each task was last enqueued with.

The page shows a task whose job failed as failed (a job that raised
``Task.DoesNotExist`` never writes to its row). Finding that job by reading
rq's whole failed-job registry took 1.8 s per row with 10,000 failed jobs;
this queue notes ``task id -> job id`` whenever a job is made whose first
argument is an int (``get_url_length.delay(task.id)``, a learner's own job,
the outbox relay's, a scheduled one), so the page reads only its rows' jobs.
Settings select it (``RQ["QUEUE_CLASS"]``); the key is rq's namespace, so
clearing rq's keys (the grader, ``lab.core.outcomes.clear_jobs``) clears it too.

It also notes, in the job's meta, the page whose request made the job: a task
the job creates (fix 3, ``in_job``) then names that page, as a view's does.
"""

from django_rq.queues import DjangoRQ

from .models import STARTED_FROM_META, started_from

#: A Redis hash: task id -> the id of the last job made for it.
JOB_OF_TASK = "rq:workshop:job-of-task"


class TaskQueue(DjangoRQ):
    def create_job(self, *args, **kwargs):
        """rq's job, and a note of it under its task's id (every enqueue, enqueue_in/at and
        enqueue_many makes its jobs here). The last job made for a task is the one the page shows."""
        job = super().create_job(*args, **kwargs)
        page, lab = started_from.get()
        if page or lab:  # made during a page's request: a task its job creates names that page (models.current_page)
            job.meta.setdefault(STARTED_FROM_META, [page, lab])
        task_id = job.args[0] if job.args else None
        if type(task_id) is int:  # not a bool, not a URL
            self.connection.hset(JOB_OF_TASK, str(task_id), job.id)
        return job
