"""Lesson 13's stack: the Celery worker and django-tasks-db's, and every way of enqueuing, measured.

Real processes throughout (``queue_workers``: a Celery worker and ``manage.py
db_worker``, beside the live web and rq worker); nothing is mocked. The table
test is the lesson's own table: each way must end as the lesson says it does.
"""

import os
import socket
import subprocess
import sys

import pytest
from celery.result import AsyncResult
from django.conf import settings
from django.test import Client

from lab.lessons import every_queue
from lab.stack import doctor
from workshop_project.celery import app as celery_app
from workshop_project.tasks.forms import default_url
from workshop_project.tasks.models import Task

from .conftest import process_env

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_the_articles_view_on_celery_fails_with_does_not_exist(live_stack, queue_workers):
    response = Client(HTTP_HOST="localhost").post("/variants/celery/", {"url": default_url()})
    assert response.status_code == 302
    result = AsyncResult(response["X-Job-Id"], app=celery_app)
    assert result.state == "FAILURE", f"Celery recorded {result.state} for the article's view"
    assert type(result.result).__name__ == "DoesNotExist", repr(result.result)
    assert Task.objects.get(id=response["X-Task-Id"]).status == "pending"


def test_eager_mode_hides_the_race(live_stack, queue_workers):
    """task_always_eager runs the task on the request's own connection: the broken view passes."""
    celery_app.conf.task_always_eager = True
    try:
        response = Client(HTTP_HOST="localhost").post("/variants/celery/", {"url": default_url()})
    finally:
        celery_app.conf.task_always_eager = False
    assert Task.objects.get(id=response["X-Task-Id"]).status == "OK"


def test_every_way_of_enqueuing_ends_as_the_lesson_says(live_stack, queue_workers):
    env = {**process_env(WORKSHOP_WEB_URL=live_stack, FETCH_TIMEOUT_SECONDS=2), **queue_workers}
    rows = every_queue.measure(env=env)
    every_queue.expect(rows)  # raises TableChanged with every way that ended otherwise
    assert [row.way.name for row in rows] == list(every_queue.EXPECTED)


def test_doctor_names_the_new_workers(live_stack, queue_workers):
    checks = {check.name: check for check in doctor.checks()}
    assert checks["Celery worker"].ok, checks["Celery worker"]
    assert checks["database worker"].ok, checks["database worker"]
    quick = [check.name for check in doctor.checks(queues=False)]
    assert "Celery worker" not in quick
    assert "database worker" not in quick


def health(kind):
    """``python -m lab.stack.worker_health KIND``, as the containers run it: its exit status."""
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL}
    return subprocess.run([sys.executable, "-m", "lab.stack.worker_health", kind], env=env, check=False).returncode


def test_the_containers_health_checks_see_the_new_workers(queue_workers):
    assert socket.gethostname()  # the Celery worker is celery@<this host>, as in its container
    assert health("celery") == 0
    assert health("db-worker") == 0


def test_the_celery_health_check_fails_without_a_worker_of_this_host(monkeypatch):
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL.rsplit("/", 1)[0] + "/3"}  # Celery on 11: nobody there
    completed = subprocess.run([sys.executable, "-m", "lab.stack.worker_health", "celery"], env=env, check=False)
    assert completed.returncode == 1
