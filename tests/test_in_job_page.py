"""Fix 3's page (``in_job``): the job creates the task, so the page has no row to show when the
submit returns. The learner walkthrough saw "Its row below updates by itself" and no row until a
reload, and then the row's page was "—": the task was made in the worker, where no page is known.
"""

import pytest
from django.test import Client
from django.urls import reverse
from rq.job import Job

from lab.core import web
from lab.core.amplifier import amplifier
from workshop_project.tasks.models import Task
from workshop_project.tasks.views import AWAITING_JOB, JOB_ID_HEADER

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_a_task_its_job_creates_names_the_page_that_enqueued_the_job():
    with amplifier():
        response = Client().post(web.page_path("in_job"), {"url": "http://127.0.0.1:9/", "hold_ms": 0})
    assert response.status_code == 302, response
    task = Task.objects.get(job_id=response[JOB_ID_HEADER])
    assert task.page == "in_job", f"the task its job created says page {task.page!r}"


def test_the_page_waits_for_the_jobs_task_then_shows_its_row(redis_connection):
    # A job saved but on no queue: no worker (the session's live one included) can run it before we look.
    job = Job.create(print, connection=redis_connection, origin="default")
    job.save()
    client = Client()
    session = client.session
    session[AWAITING_JOB] = job.id  # what the in_job submit leaves for the page it redirects to
    session.save()
    waiting = reverse("tasks:job_row", args=[job.id])

    page = client.get(web.page_path("in_job")).content.decode()
    assert f'hx-get="{waiting}"' in page, "the page shows no row waiting for the job's task"
    assert f'hx-get="{waiting}"' not in client.get(web.page_path("in_job")).content.decode(), "a reload waits again"

    row = client.get(waiting).content.decode()
    assert 'hx-trigger="every 1s"' in row
    assert "waiting for the job to create its task" in row

    task = Task.objects.create(url="http://127.0.0.1:9/", job_id=job.id, page="in_job")  # as the job does
    row = client.get(waiting).content.decode()
    assert f'id="task-{task.id}"' in row, "once the task exists, the waiting row is not replaced by it"
    assert ">in_job<" in row.replace(" ", "")
