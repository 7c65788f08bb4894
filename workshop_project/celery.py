"""The project's Celery app (lesson 13, exercise 10): ``celery -A workshop_project.celery worker``.

Configured from Django's settings (the ``CELERY_`` ones: broker and results on
the workshop's Redis, in a database of their own). Its one task module,
``workshop_project.tasks.celery_jobs``, is listed here rather than found by
``autodiscover_tasks``, so that only the Celery worker and the code that
enqueues import Celery: the web's other pages, the rq worker and the notebooks
of lessons 00 to 12 never pay for it.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workshop_project.settings")

app = Celery("workshop_project", include=["workshop_project.tasks.celery_jobs"])
app.config_from_object("django.conf:settings", namespace="CELERY")
