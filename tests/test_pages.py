"""The web page shows the race: which task and job a submit started, each task's page, and a
task whose job failed as failed, with the exception read from rq's failed-job registry.

The jobs run on a real worker (the amplifier's thread, with its own database connection).
"""

import html

import pytest
from django.test import Client
from django.urls import reverse

from lab.core import web
from lab.core.amplifier import amplifier
from workshop_project import exercise_registry
from workshop_project.tasks.models import Task
from workshop_project.tasks.variants import VARIANTS
from workshop_project.tasks.views import JOB_ID_HEADER, TASK_ID_HEADER

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def submit(client, variant, **headers):
    with amplifier():
        response = client.post(web.page_path(variant), {"url": "http://127.0.0.1:9/", "hold_ms": 0}, headers=headers)
    assert response.status_code == 302, response
    return response


def test_a_failed_job_shows_as_failed_with_its_exception_and_the_row_stops_polling():
    client = Client()
    response = submit(client, "broken")
    task_id, job_id = int(response[TASK_ID_HEADER]), response[JOB_ID_HEADER]

    page = client.get(response["Location"]).content.decode()
    assert f"Started task {task_id}; enqueued job {job_id}." in page

    row = client.get(reverse("tasks:row", args=[task_id])).content.decode()
    assert '<td class="failed">failed</td>' in row
    assert "Task.DoesNotExist: Task matching query does not exist." in row
    assert job_id in row
    assert "hx-trigger" not in row


def test_the_hold_you_chose_stays_in_the_form_after_a_submit():
    with amplifier():
        response = Client().post(web.page_path("on_commit"), {"url": "http://127.0.0.1:9/", "hold_ms": 300})
    assert response["Location"] == "/variants/on_commit/?hold_ms=300"
    page = Client().get(response["Location"]).content.decode()
    assert 'name="hold_ms" value="300"' in page


def test_a_pending_row_polls_until_it_is_done():
    task = Task.objects.create(url="http://127.0.0.1:9/")
    row = Client().get(reverse("tasks:row", args=[task.id])).content.decode()
    assert 'hx-trigger="every 1s"' in row
    assert ">pending<" in row

    task.result, task.url_length = "OK", 1234
    task.save()
    row = Client().get(reverse("tasks:row", args=[task.id])).content.decode()
    assert "hx-trigger" not in row
    assert ">OK<" in row


@pytest.mark.parametrize("variant", ["on_commit", "ex04_on_commit"])
def test_each_task_records_the_page_it_came_from(variant):
    response = submit(Client(), variant)
    assert Task.objects.get(id=response[TASK_ID_HEADER]).page == variant


def test_the_labs_tasks_are_kept_apart_from_yours():
    mine = submit(Client(), "on_commit")
    labs = submit(Client(), "on_commit", **web.LAB_HEADERS)
    page = Client().get(web.page_path("on_commit")).content.decode()
    assert f'id="task-{mine[TASK_ID_HEADER]}"' in page
    assert f'id="task-{labs[TASK_ID_HEADER]}"' not in page
    assert "1 task started by the notebooks' experiments is not listed" in page

    everything = Client().get(web.page_path("on_commit") + "?lab").content.decode()
    assert f'id="task-{labs[TASK_ID_HEADER]}"' in everything


def test_a_task_a_notebook_creates_with_the_orm_is_the_labs(monkeypatch):
    """Lesson 02 creates rows in the kernel (its stale read, its queue no worker reads); the page listed
    them as "pending for 5 minutes: is the worker running?" while the worker ran fine."""
    monkeypatch.setenv("WORKSHOP_LAB_KERNEL", "1")  # what the Shell-Plus kernel's spec sets (lab/stack/kernel.py)
    task = Task.objects.create(url="http://127.0.0.1:9/")
    assert task.lab
    assert f'id="task-{task.id}"' not in Client().get(web.page_path("on_commit")).content.decode()


def test_the_exercise_index_links_every_exercise_page():
    page = html.unescape(Client().get("/exercises/").content.decode())
    for exercise in exercise_registry.load():
        assert exercise.title in page
        if exercise.view:
            assert f'href="/exercises/{exercise.slug}/"' in page


def test_page_paths_come_from_the_url_names():
    assert [web.page_path(name) for name in VARIANTS[:2]] == ["/variants/broken/", "/variants/autocommit/"]
    assert web.page_path("ex04_on_commit") == "/exercises/ex04_on_commit/"


def test_the_page_loads_htmx_from_this_server():
    page = Client().get(web.page_path("broken")).content.decode()
    assert '<script src="/static/tasks/htmx-2.0.11.min.js"' in page
    assert "https://" not in page.split("<body>")[0]  # no CDN
