"""The task list stays fast and quiet with a big failed-job registry and old pending rows.

A real Redis holding 10,000 failed jobs, a real rq worker (SimpleWorker) failing
a row's own job, the real views; the Redis commands a row's poll sends are
counted with Redis' own MONITOR; the dev server's console is a real runserver's.
"""

import contextlib
import datetime
import subprocess
import sys
import threading

import django_rq
import pytest
import requests
from django.test import Client
from django.utils import timezone
from rq import SimpleWorker
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry

from lab import testing
from lab.core.outcomes import wait_for
from tests.conftest import process_env
from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task
from workshop_project.tasks.queues import TaskQueue

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "second"])

FAILED_JOBS = 10_000
END_OF_REQUEST = "end-of-the-request-under-watch"


def fill_failed_registry(connection, count):
    """``count`` failed jobs of other tasks, as a long day of lessons leaves them (rq's own API)."""
    queue = django_rq.get_queue("default")
    registry = FailedJobRegistry(queue=queue)
    before = registry.count
    exception = "Task.DoesNotExist: Task matching query does not exist."
    with connection.pipeline() as pipeline:
        for number in range(count):
            job = Job.create(get_url_length, args=(1_000_000 + number,), connection=connection, origin=queue.name)
            job.set_status(JobStatus.FAILED, pipeline=pipeline)
            job.save(pipeline=pipeline)
            registry.add(job, ttl=3600, exc_string=exception, pipeline=pipeline)
        pipeline.execute()
    assert registry.count == before + count


@contextlib.contextmanager
def redis_commands(connection):
    """Every command the Redis server receives on the tests' database while the block runs (MONITOR)."""
    commands, started = [], threading.Event()

    def listen():
        with connection.monitor() as monitor:
            started.set()
            for event in monitor.listen():
                if END_OF_REQUEST in event["command"]:
                    return
                if event["db"] == connection.connection_pool.connection_kwargs.get("db", 0):
                    commands.append(event["command"])

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert started.wait(10), "MONITOR did not start"
    try:
        yield commands
    finally:
        connection.echo(END_OF_REQUEST)
        thread.join(10)


def a_task_whose_job_failed_before_its_commit(connection):
    """The workshop's race, replayed: the job runs (and fails: no such task) before the row exists.

    On a queue of this test's own (the project's queue class, which notes the task's job), so the
    session's live worker, on "default", cannot take the job after the row exists."""
    # An id the database has handed out already: on PostgreSQL, a row created later by its
    # sequence would otherwise be given this explicit id again (duplicate key).
    reserved = Task.objects.create(url="http://127.0.0.1:9/")
    task_id = reserved.id
    reserved.delete()
    queue = TaskQueue("page-polling", connection=connection)
    queue.enqueue_job(queue.create_job(get_url_length, args=(task_id,)))  # (not in RQ_QUEUES: no .enqueue)
    SimpleWorker([queue], connection=connection).work(burst=True)
    return Task.objects.create(id=task_id, url="http://127.0.0.1:9/")


def test_a_row_poll_reads_its_own_job_not_the_failed_registry(redis_connection):
    task = a_task_whose_job_failed_before_its_commit(redis_connection)
    fill_failed_registry(redis_connection, FAILED_JOBS)
    with redis_commands(redis_connection) as commands:
        response = Client().get(f"/tasks/{task.id}/row/")
    assert "Task.DoesNotExist" in response.content.decode(), "the row must still show its job's failure"
    scans = [command for command in commands if "rq:failed:" in command]
    assert scans == [], f"a row's poll read the failed-job registry: {scans[:3]}"
    assert len(commands) <= 10, f"a row's poll sent {len(commands)} Redis commands: {commands[:5]}…"
    print(f"one row's poll, {FAILED_JOBS:,} failed jobs in Redis: {len(commands)} Redis commands")


def test_a_lessons_wait_for_reads_the_tasks_own_job_not_the_failed_registry(redis_connection):
    """lab's wait_for(task_id=...) (the lessons' on_commit cells) reads the noted job, as a row does."""
    task = a_task_whose_job_failed_before_its_commit(redis_connection)
    fill_failed_registry(redis_connection, FAILED_JOBS)
    with redis_commands(redis_connection) as commands:
        outcome = wait_for(task_id=task.id, queue_name="default", timeout=5)
    assert outcome.missed_its_row, f"wait_for must still see the job's DoesNotExist: {outcome}"
    assert [command for command in commands if "rq:failed:" in command] == []
    assert len(commands) <= 10, f"wait_for sent {len(commands)} Redis commands: {commands[:5]}…"


def test_the_page_reads_its_rows_jobs_not_the_failed_registry(redis_connection):
    task = a_task_whose_job_failed_before_its_commit(redis_connection)
    for _ in range(29):
        Task.objects.create(url="http://127.0.0.1:9/")
    fill_failed_registry(redis_connection, FAILED_JOBS)
    with redis_commands(redis_connection) as commands:
        response = Client().get("/variants/broken/")
    assert f'id="task-{task.id}"' in response.content.decode()
    assert "Task.DoesNotExist" in response.content.decode()
    assert [command for command in commands if "rq:failed:" in command] == []
    assert len(commands) <= 10, f"the page sent {len(commands)} Redis commands for 30 rows"


def test_a_task_pending_over_a_minute_says_so_and_polls_slowly():
    fresh = Task.objects.create(url="http://127.0.0.1:9/")
    old = Task.objects.create(url="http://127.0.0.1:9/")
    Task.objects.filter(id=old.id).update(created_on=timezone.now() - datetime.timedelta(minutes=3))
    fresh_row = Client().get(f"/tasks/{fresh.id}/row/").content.decode()
    old_row = Client().get(f"/tasks/{old.id}/row/").content.decode()
    assert 'hx-trigger="every 1s"' in fresh_row
    assert 'hx-trigger="every 10s"' in old_row, f"a task pending 3 minutes still polls fast: {old_row}"
    assert "pending for 3\xa0minutes" in old_row, old_row


def test_finished_rows_do_not_poll():
    done = Task.objects.create(url="http://127.0.0.1:9/", result="OK", url_length=3)
    broken = Task.objects.create(url="http://127.0.0.1:9/", result="error: the server answered 404")
    for task in (done, broken):
        assert "hx-trigger" not in Client().get(f"/tasks/{task.id}/row/").content.decode()


def test_row_polls_do_not_flood_the_dev_servers_console(tmp_path):
    """`make up` shows runserver's log: a pending row's poll every second filled it (327 lines
    in 2.5 minutes for one wrong ex01). Polls that succeed are left out; everything else stays."""
    task = Task.objects.create(url="http://127.0.0.1:9/")
    log = tmp_path / "runserver.log"
    port = testing.free_port()
    web = f"http://127.0.0.1:{port}"
    with (
        log.open("w") as console,
        testing.running(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            "the web server",
            lambda: requests.get(f"{web}/healthz", timeout=2).ok,
            env={**process_env(), "WORKSHOP_WEB_URL": web},
            cwd=testing.BASE_DIR,
            stdout=console,
            stderr=subprocess.STDOUT,
        ),
    ):
        for _ in range(5):
            assert requests.get(f"{web}/tasks/{task.id}/row/", timeout=30).ok
        requests.get(f"{web}/tasks/999999/row/", timeout=30)  # a 404: still worth a line
        requests.get(f"{web}/variants/broken/", timeout=30)
        # runserver logs a request after answering it: wait for the last one's line before stopping it.
        testing.wait_until(lambda: "GET /variants/broken/" in log.read_text(), "the page's line in the console")
    lines = log.read_text().splitlines()
    assert [line for line in lines if f"/tasks/{task.id}/row/" in line] == [], "row polls are in the console"
    assert any("/tasks/999999/row/" in line for line in lines), "a failed poll must stay in the console"
