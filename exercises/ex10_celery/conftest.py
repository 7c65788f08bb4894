"""Exercise 10's checks share this: an empty Celery database before each, and Celery's
settings as they were after each (a check_view that switched eager mode on leaves it here)."""

import pytest

from lab.grader import celery_worker
from workshop_project.celery import app as celery_app


@pytest.fixture(autouse=True)
def celery_state():
    celery_worker.flush()
    eager = celery_app.conf.task_always_eager
    yield
    celery_app.conf.task_always_eager = eager
