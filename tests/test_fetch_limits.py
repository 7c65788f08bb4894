"""The job's fetch is bounded in time and in where it may go; a task never stays pending.

Real servers on loopback (a trickling one, a "private service" that counts
its visitors, a redirector), a real rq worker (rq's SimpleWorker, in this
process, on a queue of this test's own so the session's live worker never
takes these jobs), the real job, the test database.
"""

import contextlib
import socket
import threading
import time

import django_rq
import pytest
import redis
from rq import Queue, SimpleWorker

from lab import testing
from lab.stack.samples_server import serving
from tests.conftest import process_env
from workshop_project.tasks.fetch import REFUSED
from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task
from workshop_project.test_settings import redis_url_with_database

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "second"])


@contextlib.contextmanager
def tcp_server(handle):
    """A loopback server; ``handle(connection)`` answers each client on its own thread."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    visits = []

    def serve():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            visits.append(1)
            threading.Thread(target=answer, args=(connection,), daemon=True).start()

    def answer(connection):
        with connection, contextlib.suppress(OSError):
            connection.recv(65536)
            handle(connection, stop)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/", visits
    finally:
        stop.set()
        thread.join()
        listener.close()


def trickle_body(connection, stop):
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(100):  # a byte every 0.3 s: never a 5 s silence, 30 s in all
        if stop.wait(0.3):
            return
        connection.sendall(b"x")


def trickle_headers(connection, stop):
    connection.sendall(b"HTTP/1.1 200 OK\r\n")
    for _ in range(100):
        if stop.wait(0.3):
            return
        connection.sendall(b"X-Slow: a\r\n")


def ok_page(connection, stop):
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecret")


def run_job(url, job_timeout=20):
    """Create a task for ``url`` and run its job on a real rq worker; return the task afterwards."""
    task = Task.objects.create(url=url)
    queue = Queue("fetch-limits", connection=django_rq.get_connection("default"))
    job = queue.enqueue(get_url_length, task.id, job_timeout=job_timeout)
    started = time.monotonic()
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    task.refresh_from_db()
    task.elapsed = time.monotonic() - started
    task.job = job
    return task


@pytest.mark.parametrize("trickle", [trickle_body, trickle_headers], ids=["body", "headers"])
def test_a_trickling_page_is_cut_at_the_deadline_and_the_task_says_so(trickle, settings):
    settings.FETCH_DEADLINE_SECONDS = 2
    with tcp_server(trickle) as (url, _):
        settings.FETCH_ALLOWED_URLS = [url]
        task = run_job(url, job_timeout=10)
    assert task.result == "error: the page did not arrive within the 2 s limit", (
        f"expected the deadline on the task; it says {task.result!r} after {task.elapsed:.1f} s"
    )


def test_a_job_timeout_marks_the_task_failed_not_pending(settings):
    settings.FETCH_DEADLINE_SECONDS = 30  # longer than the job may run: rq's timeout fires first
    with tcp_server(trickle_body) as (url, _):
        settings.FETCH_ALLOWED_URLS = [url]
        task = run_job(url, job_timeout=1)
    assert task.status == "error", f"the job timed out but the task is {task.status} ({task.result!r})"
    assert task.result == "error: the job failed (JobTimeoutException)"
    assert task.job.get_status(refresh=True) == "failed", "rq must record the failure too"


def test_loopback_and_private_addresses_are_refused_before_any_connection():
    with tcp_server(ok_page) as (private, visits):
        port = int(private.rsplit(":", 1)[1].strip("/"))
        closed = socket.create_server(("127.0.0.1", 0))
        closed_port = closed.getsockname()[1]
        closed.close()
        results = {
            url: run_job(url).result
            for url in (
                private,
                f"http://localhost:{port}/",
                f"http://0.0.0.0:{port}/",
                f"http://127.0.0.1:{closed_port}/",  # closed: same sentence, so no port-scan oracle
                "http://169.254.169.254/latest/meta-data/",
                "http://10.0.0.1/",
                "http://[::1]/",
            )
        }
    assert visits == [], f"the private service was reached {len(visits)} time(s)"
    assert results == dict.fromkeys(results, f"error: {REFUSED}")


def test_a_redirect_to_a_private_address_is_refused(settings):
    with tcp_server(ok_page) as (private, visits):

        def redirect(connection, stop):
            connection.sendall(f"HTTP/1.1 302 Found\r\nLocation: {private}\r\nContent-Length: 0\r\n\r\n".encode())

        with tcp_server(redirect) as (redirector, _):
            settings.FETCH_ALLOWED_URLS = [redirector]  # as if it were a public page
            task = run_job(redirector)
    assert visits == [], "the redirect reached the private service"
    assert task.result == f"error: {REFUSED}"


def test_the_apps_own_sample_pages_are_still_fetched():
    with serving() as base:
        task = run_job(f"{base}/samples/1234/")
    assert (task.result, task.url_length) == ("OK", 1234)


@contextlib.contextmanager
def trickling_server(length):
    """Headers at once, then a ``length``-byte body one byte a second. Yields (url, seen):
    ``seen["hung_up_after"]`` is how many body bytes had gone when the client closed its end."""
    seen = {"hung_up_after": None}

    def trickle(connection, stop):
        connection.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n".encode())
        for sent in range(length):
            with contextlib.suppress(BlockingIOError):
                if connection.recv(1, socket.MSG_DONTWAIT) == b"":  # the client's end of file
                    seen["hung_up_after"] = sent
                    return
            connection.sendall(b"x")
            if stop.wait(1):
                return
        connection.settimeout(30)
        with contextlib.suppress(OSError):
            connection.recv(1)
        seen["hung_up_after"] = length

    with tcp_server(trickle) as (url, _):
        yield url, seen


def poll(condition, what, timeout=90):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.1)


#: A Redis database of this test's own (on the tests' server), so the session's live worker
#: (database 15) never takes the jobs of the worker started below with a short deadline.
OWN_WORKER_DATABASE = 11


def test_a_body_trickling_a_byte_a_second_fails_at_the_deadline_and_frees_the_worker(settings):
    """The report's case, on a real worker process (``manage.py rqworker``, a forked work horse):
    a body of 60 bytes at one byte a second. The deadline must cut the connection (not wait for the
    body: ``response.close()`` waited for the reading thread's lock, 59 s), write the sentence, and
    leave the worker free for the next job."""
    deadline = 2
    redis_url = redis_url_with_database(settings.REDIS_URL, OWN_WORKER_DATABASE)
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    with trickling_server(60) as (slow, seen), tcp_server(ok_page) as (fine, _):
        env = process_env(
            FETCH_DEADLINE_SECONDS=deadline, FETCH_ALLOWED_URLS=f"{slow},{fine}", TEST_REDIS_URL=redis_url
        )
        queue = Queue("default", connection=connection)
        with testing.rq_worker(env, connection):
            task = Task.objects.create(url=slow)
            job = queue.enqueue(get_url_length, task.id, job_timeout=120)
            poll(lambda: job.get_status(refresh=True) in ("finished", "failed"), "the trickling job's end")
            task.refresh_from_db()
            after = Task.objects.create(url=fine)
            queue.enqueue(get_url_length, after.id)
            poll(lambda: Task.objects.get(id=after.id).result is not None, "the next job")
        job.refresh()
        took = (job.ended_at - job.started_at).total_seconds()
    print(f"cut after {seen['hung_up_after']} of 60 bytes; the job took {took:.1f} s ({deadline} s deadline)")
    assert task.result == f"error: the page did not arrive within the {deadline} s limit", task.result
    assert seen["hung_up_after"] is not None, "the fetch never closed its connection"
    assert seen["hung_up_after"] < 60, "the fetch read the body to its end (60 of 60 bytes) instead of cutting it"
    assert took < deadline + 8, f"the job took {took:.1f} s with a {deadline} s deadline"
    assert Task.objects.get(id=after.id).result == "OK", "the worker did not take the next job"
    connection.flushdb()
