"""Learner code cannot reach live data: a process it starts during grading sees the grader's databases.

The learner's file below is exercise 01's solution plus one line a learner
might write: start ``manage.py`` in a subprocess (as ``rqworker --burst``
would). That child reads its settings from the environment it inherits, so
the grader must have put its own test databases and its own Redis database
there, not only in its own process's Django settings.
"""

import json
import os

import redis
from django.conf import settings

from workshop_project.test_settings import redis_url_beside

from .test_exercises import copy_of_the_project, grade

CHILD = """
import json, os, django_rq
from django.conf import settings

from workshop_project.test_settings import redis_url_beside
from workshop_project.tasks.models import Task
Task.objects.create(url="http://child.invalid/written-by-a-child-process/")
django_rq.get_connection("default").set("written-by-a-child-process", 1)
json.dump({
    "settings": os.environ["DJANGO_SETTINGS_MODULE"],
    "databases": [str(database["NAME"]) for database in settings.DATABASES.values()],
    "redis": settings.RQ_QUEUES["default"]["URL"],
}, open(os.environ["CHILD_REPORT"], "w"))
"""

LEARNER_LINE = """
    subprocess.run([sys.executable, "manage.py", "shell", "-c", {child!r}], check=True, timeout=60)
"""


def test_a_child_process_started_by_learner_code_sees_only_the_graders_data(tmp_path):
    project = copy_of_the_project(tmp_path / "project")
    learner = project / "exercises" / "ex01_reproduce" / "reproduce.py"
    solution = (settings.BASE_DIR / "solutions" / "ex01_reproduce" / "reproduce.py").read_text()
    start = "    queue = django_rq.get_queue(queue_name)\n"
    assert start in solution
    learner.write_text(
        "import subprocess\nimport sys\n" + solution.replace(start, start + LEARNER_LINE.format(child=CHILD), 1)
    )
    report = tmp_path / "child.json"
    data = tmp_path / "data"
    data.mkdir()

    result = grade(
        "exercises/ex01_reproduce",
        "-k",
        "outside_a_transaction",
        cwd=project,
        tmp_path=data,
        CHILD_REPORT=report,
    )

    assert report.exists(), result.output[-3000:]
    child = json.loads(report.read_text())
    assert child["settings"] == "workshop_project.test_settings", child
    for name in child["databases"]:
        assert "grader" in name, f"the child used {name}, not one of the grader's test databases"
    assert not (data / "workshop.sqlite3").exists(), "the child created the live database"
    assert not (data / "second.sqlite3").exists(), "the child created the live second database"
    assert child["redis"] == redis_url_beside(settings.RQ_QUEUES["default"]["URL"]), child
    live = redis.Redis.from_url(os.environ["REDIS_URL"])  # the stack's own database (0 here)
    assert not live.exists("written-by-a-child-process"), "the child wrote into the live Redis database"
