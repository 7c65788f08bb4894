"""Safe defaults of the web app, each against a real server process:

- DEBUG's error page shows no password, though it lists the whole environment;
- with PostgreSQL stopped, no page shows the database's password, and /healthz is a 503;
- SECRET_KEY is made per checkout (data folder), not a string shared by everyone;
- many requests holding SQLite's write lock get a clear 503, never a 500, and
  every task that was committed is measured (none left pending).
"""

import concurrent.futures
import contextlib
import os
import signal
import stat
import subprocess
import sys

import pytest
import requests

from lab import testing
from lab.core.outcomes import wait_for
from tests.conftest import process_env
from workshop_project.safety import SQLITE_BUSY
from workshop_project.tasks.models import Task

CANARY = "relsec-canary-pw"
WRITERS = 24


def post_form(page, session=None, **fields):
    session = session or requests.Session()
    session.get(page, timeout=30).raise_for_status()
    data = {"url": fields.pop("url", ""), "hold_ms": 0, **fields}
    data["csrfmiddlewaretoken"] = session.cookies.get("csrftoken", "")
    return session.post(page, data=data, allow_redirects=False, timeout=60, headers={"Referer": page})


@pytest.fixture
def own_web(live_processes, transactional_db):
    """A web server of this test's own (its settings from ``request.param``-free env below)."""

    @contextlib.contextmanager
    def start(**env):
        with testing.web_server(process_env(**env)) as url:
            yield url

    return start


def test_the_debug_error_page_hides_passwords_in_urls(own_web, live_processes):
    secret_url = f"postgres://workshop:{CANARY}@127.0.0.1:5482/workshop"
    with own_web(WORKSHOP_CANARY_URL=secret_url, DJANGO_DEBUG="1") as url:
        response = post_form(f"{url}/variants/on_commit/", url=f"{live_processes}/samples/10/", fail="on")
    assert response.status_code == 500
    assert "WORKSHOP_CANARY_URL" in response.text, "the page should still list the environment"
    assert CANARY not in response.text, "the DEBUG error page shows a password from the environment"
    assert "postgres://workshop:********************@127.0.0.1:5482/workshop" in response.text


PAGES_WITH_THE_DATABASE_DOWN = [
    "/healthz",
    "/variants/broken/",
    "/variants/on_commit/",
    "/variants/on_commit/?lab",
    "/tasks/1/row/",
    "/exercises/",
    "/admin/",
    "/admin/login/",
    "/django-rq/",
]


def stop_postgres(url):
    """Stop the PostgreSQL server behind ``url`` (its postmaster, fast shutdown) and wait until it is gone."""
    import psycopg

    with psycopg.connect(url) as connection:
        data = connection.execute("SHOW data_directory").fetchone()[0]
    postmaster = int(open(os.path.join(data, "postmaster.pid")).read().split()[0])  # noqa: SIM115, PTH123
    os.kill(postmaster, signal.SIGINT)
    testing.wait_until(lambda: not os.path.exists(f"/proc/{postmaster}"), "PostgreSQL's stop")


def test_with_postgresql_stopped_no_page_shows_its_password(tmp_path):
    """The report's case: DATABASE_URL with a password, PostgreSQL stopped while the web runs.
    DEBUG's page listed the password 16 times (psycopg's ``conn_params`` and ``conninfo`` in the
    traceback's variables, Django's ``settings_dict``); /healthz was one of those 500s."""
    with testing.postgres_server() as trust_url:
        url = trust_url.replace("postgres://workshop@", f"postgres://workshop:{CANARY}@")
        env = testing.django_env(
            DJANGO_SETTINGS_MODULE="workshop_project.test_settings",
            DJANGO_DEBUG="1",
            DATABASE_URL=url,
            SECOND_DATABASE_URL=f"{url}_second",
            WORKSHOP_DATA_DIR=tmp_path,
        )
        port = testing.free_port()
        web = f"http://127.0.0.1:{port}"
        command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
        with testing.running(
            command,
            "the web server",
            lambda: requests.get(f"{web}/healthz", timeout=2) is not None,
            env={**env, "WORKSHOP_WEB_URL": web},
            cwd=testing.BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ):
            stop_postgres(trust_url)
            answers = {page: requests.get(f"{web}{page}", timeout=30) for page in PAGES_WITH_THE_DATABASE_DOWN}
    shown = {page: answer.text.count(CANARY) for page, answer in answers.items() if CANARY in answer.text}
    assert shown == {}, f"the database's password is on these pages (times shown): {shown}"
    health = answers["/healthz"]
    assert health.status_code == 503, f"/healthz answered {health.status_code} with the database down"
    assert health.json()["ok"] is False
    assert health.json()["database"].startswith("The database does not answer"), health.json()


def secret_key_of(data_dir):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    env = testing.django_env(WORKSHOP_DATA_DIR=data_dir, DJANGO_SECRET_KEY="")
    return subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_each_checkout_gets_its_own_secret_key(tmp_path):
    first, again, other = (
        secret_key_of(tmp_path / "one"),
        secret_key_of(tmp_path / "one"),
        secret_key_of(tmp_path / "two"),
    )
    assert first == again, "the key must stay the same for one checkout (sessions survive a restart)"
    assert first != other, "two checkouts must not share a key"
    assert len(first) >= 50
    assert "workshop-only-not-a-secret" not in (first, other)
    assert stat.S_IMODE((tmp_path / "one" / "secret_key").stat().st_mode) == 0o600


def test_the_form_holds_a_transaction_at_most_two_seconds():
    from workshop_project.tasks.forms import TaskForm

    assert TaskForm(data={"url": "http://example.com/", "hold_ms": 1000}).is_valid()  # the article's sleep(1)
    assert "hold_ms" in TaskForm(data={"url": "http://example.com/", "hold_ms": 2001}).errors


@pytest.mark.slow
def test_too_many_writers_get_a_clear_503_and_no_committed_task_is_left_pending(own_web, live_processes):
    """24 requests at once, each holding its transaction 1 s (valid input): on SQLite some
    wait longer than the 20 s timeout. They get a 503 with a sentence, not a 500; every task
    that was committed is measured. (PostgreSQL takes them all.)"""
    with own_web() as url:
        page = f"{url}/variants/on_commit/"
        with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
            responses = list(
                pool.map(
                    lambda _: post_form(page, url=f"{live_processes}/samples/{100}/", hold_ms=1000),
                    range(WRITERS),
                )
            )
    statuses = sorted(response.status_code for response in responses)
    assert 500 not in statuses, f"a request failed with 500 instead of a clear answer: {statuses}"
    for response in responses:
        assert response.status_code in (302, 503), statuses
        if response.status_code == 503:
            assert response.text.startswith(SQLITE_BUSY.split(":")[0]), response.text
    assert Task.objects.count() == statuses.count(302), "a refused request must leave nothing behind"
    pending = [task.id for task in Task.objects.all() if wait_for(task_id=task.id, timeout=60).status != "OK"]
    assert pending == [], f"committed tasks not measured: {pending}"
    print(f"statuses: {statuses.count(302)} x 302, {statuses.count(503)} x 503")


def test_the_page_still_answers_when_redis_does_not(own_web, live_processes):
    """A pending task makes the page read rq's failed-job registry; with Redis gone it says so, not 500."""
    Task.objects.create(url=f"{live_processes}/samples/10/")
    with own_web(REDIS_URL=f"redis://127.0.0.1:{testing.free_port()}/15") as url:
        response = requests.get(f"{url}/", timeout=30)
    assert response.status_code == 200
    assert "Redis does not answer" in response.text
