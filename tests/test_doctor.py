"""`manage.py workshop doctor`: one line per problem, naming the service and the fix."""

import subprocess
import sys

import pytest
from django.conf import settings

from lab import testservers

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


def test_with_redis_stopped_doctor_names_redis_once_and_fails(live_stack):
    result = doctor(REDIS_URL=f"redis://127.0.0.1:{testservers.free_port()}/0", WORKSHOP_WEB_URL=live_stack)
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(problems(result.stdout)) == 1, result.stdout
    assert problems(result.stdout)[0].startswith("✘ Redis: does not answer at redis://127.0.0.1:")
    assert "make up" in problems(result.stdout)[0]
    assert "Traceback" not in result.stderr


def test_with_the_stack_up_doctor_is_clean(live_stack):
    result = doctor(WORKSHOP_WEB_URL=live_stack)
    assert result.returncode == 0, result.stdout + result.stderr
    assert problems(result.stdout) == []
    assert result.stdout.strip().endswith("All good.")


def test_with_the_web_down_doctor_says_how_to_start_it(live_stack):
    result = doctor(WORKSHOP_WEB_URL=f"http://127.0.0.1:{testservers.free_port()}")
    assert result.returncode == 1
    assert [line.split(":")[0] for line in problems(result.stdout)] == ["✘ web"]
