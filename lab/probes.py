"""Jobs that ask the worker one question, for the grader and the notebooks.

``find_task`` answers "can the worker see this row yet?": it fails with
``Task.DoesNotExist`` unless the task is committed on the database it is
told to read, exactly like the article's job does on its first line.
"""

from django_rq import job

from workshop_project.tasks.models import Task


@job("default")
def find_task(task_id, using="default"):
    """Return ``task_id`` if the worker can read that task on database ``using``."""
    return Task.objects.using(using).get(id=task_id).id
