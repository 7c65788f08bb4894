"""The grader, graded: both directions for every exercise, plus what a learner sees.

Each grading run is a real ``pytest exercises/`` in a subprocess, on this
run's databases (SQLite or PostgreSQL) and Redis server. The starters are
graded in a copy of the project where every learner file is its pristine
starter, so a contributor's own edits never change the verdict. The
grader uses Redis database 14 here (its mutation run 13): the session's live
worker listens on 15 and must not take the grader's jobs.
"""

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.core.management import call_command

from lab import testing
from lab.core import progress
from workshop_project import exercise_registry
from workshop_project.test_settings import redis_url_beside

EXERCISES = [exercise.slug for exercise in exercise_registry.load()]
PROJECT = ["workshop_project", "lab", "exercises", "solutions", "manage.py", "pytest.ini"]


class Grading:
    """One ``pytest exercises/ ...`` run: its output, exit code and each check's outcome."""

    def __init__(self, completed, junit):
        self.returncode = completed.returncode
        self.output = completed.stdout + completed.stderr
        self.cases = {}  # slug -> {check name: "passed" | "failed"}
        if junit.exists():
            for case in ET.parse(junit).iter("testcase"):
                slug = case.get("classname").split(".")[1]
                failed = any(child.tag in ("failure", "error") for child in case)
                self.cases.setdefault(slug, {})[case.get("name")] = "failed" if failed else "passed"


def grade(*args, cwd=settings.BASE_DIR, tmp_path, timeout=300, **env):
    junit = tmp_path / "junit.xml"
    environment = testing.django_env(
        **{
            "TEST_REDIS_URL": redis_url_beside(settings.RQ_QUEUES["default"]["URL"]),
            "WORKSHOP_DATA_DIR": tmp_path,
            **env,
        }
    )
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", f"--junitxml={junit}", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Grading(completed, junit)


def copy_of_the_project(folder):
    """The project's code in ``folder``, every learner file reset to its pristine starter."""
    for name in PROJECT:
        source = settings.BASE_DIR / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__", "backups"))
        else:
            shutil.copy2(source, folder / name)
    for exercise in exercise_registry.load():
        shutil.copyfile(exercise.starter_path(), folder / "exercises" / exercise.slug / exercise.file)
    return folder


@pytest.fixture(scope="module")
def solutions(tmp_path_factory):
    return grade("exercises/", "--solutions", tmp_path=tmp_path_factory.mktemp("solutions"))


@pytest.fixture(scope="module")
def starters(tmp_path_factory):
    project = copy_of_the_project(tmp_path_factory.mktemp("project"))
    return grade("exercises/", cwd=project, tmp_path=tmp_path_factory.mktemp("starters"))


@pytest.mark.parametrize("slug", EXERCISES)
def test_the_grader_passes_on_the_solution(solutions, slug):
    checks = solutions.cases.get(slug)
    assert checks, solutions.output[-3000:]
    assert set(checks.values()) == {"passed"}, (checks, solutions.output[-3000:])


@pytest.mark.parametrize("slug", EXERCISES)
def test_every_check_fails_on_the_untouched_starter(starters, slug):
    checks = starters.cases.get(slug)
    assert checks, starters.output[-3000:]
    assert set(checks.values()) == {"failed"}, (checks, starters.output[-3000:])


def test_every_exercise_has_a_starter_a_solution_hints_and_a_todo():
    for exercise in exercise_registry.load():
        starter = exercise.starter_path().read_text()
        assert "TODO" in starter, exercise.slug
        assert exercise.path("solutions").exists(), exercise.slug
        assert len(exercise.hints) >= 2, exercise.slug
        assert list((settings.BASE_DIR / "exercises" / exercise.slug).glob("test_*.py")), exercise.slug


def test_the_shipped_learner_files_are_the_starters():
    """What a fresh clone gives the learner is what ``workshop reset`` restores."""
    for exercise in exercise_registry.load():
        assert exercise.path().read_bytes() == exercise.starter_path().read_bytes(), (
            f"{exercise_registry.relative(exercise.path())} differs from "
            f"{exercise_registry.relative(exercise.starter_path())}: "
            "change both, or `python manage.py workshop reset` it"
        )


def test_a_failing_run_ends_with_a_sentence_a_hint_and_the_progress_table(starters):
    first = exercise_registry.find(EXERCISES[0])
    assert starters.returncode == 1
    assert f"✘ {first.slug}: {first.title}" in starters.output
    hint = first.hint_number(next(iter(starters.cases[first.slug])))
    assert f"Hint {hint}/{len(first.hints)}: {first.hints[hint - 1]}" in starters.output
    assert "Traceback" not in starters.output
    assert "def test_" not in starters.output
    table = starters.output.split("your progress")[-1]
    for exercise in exercise_registry.load():
        assert f"✘ ex{exercise.number}  {exercise.title}" in table
    assert f"0 of {len(EXERCISES)} exercises done." in table


def test_a_file_that_does_not_import_fails_its_exercise_alone(tmp_path):
    project = copy_of_the_project(tmp_path / "project")
    broken = project / "exercises" / "ex02_non_atomic" / "views.py"
    lines = broken.read_text().splitlines()
    number = next(n for n, line in enumerate(lines, 1) if "def form_valid" in line)
    lines[number - 1] = lines[number - 1].rstrip(":")  # a missing colon
    broken.write_text("\n".join(lines) + "\n")
    shutil.copyfile(
        settings.BASE_DIR / "solutions" / "ex04_on_commit" / "views.py",
        project / "exercises" / "ex04_on_commit" / "views.py",
    )

    result = grade(
        "exercises/ex02_non_atomic",
        "exercises/ex04_on_commit",
        "exercises/ex05_many_jobs",
        cwd=project,
        tmp_path=tmp_path,
    )

    assert f"exercises/ex02_non_atomic/views.py, line {number}: SyntaxError" in result.output, result.output
    assert set(result.cases["ex02_non_atomic"].values()) == {"failed"}
    assert set(result.cases["ex04_on_commit"].values()) == {"passed"}, result.output
    assert set(result.cases["ex05_many_jobs"].values()) == {"failed"}  # graded as usual


def test_without_redis_the_grader_says_so_in_one_line(tmp_path):
    closed = f"redis://127.0.0.1:{testing.free_port()}/0"
    result = grade("exercises/", tmp_path=tmp_path, REDIS_URL=closed, TEST_REDIS_URL=closed)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.returncode != 0
    assert len(lines) == 1, result.output
    assert "Redis does not answer at redis://127.0.0.1:" in lines[0]
    assert "make up" in lines[0]


@pytest.fixture
def learner_copy(tmp_path, settings):
    """The commands below work on a copy of exercises/, with their own data folder."""
    shutil.copytree(
        settings.BASE_DIR / "exercises", tmp_path / "exercises", ignore=shutil.ignore_patterns("__pycache__", "backups")
    )
    settings.BASE_DIR = tmp_path
    settings.DATA_DIR = tmp_path / "data"
    return tmp_path


def test_reset_restores_the_starter_and_keeps_a_backup(learner_copy, capsys):
    exercise = exercise_registry.find("ex04")
    mine = "# my attempt, which must never be lost\n"
    exercise.path().write_text(mine)

    call_command("workshop", "reset", "ex04")

    assert exercise.path().read_bytes() == exercise.starter_path().read_bytes()
    backups = list((learner_copy / "exercises" / "backups" / exercise.slug).iterdir())
    assert [backup.read_text() for backup in backups] == [mine]
    assert f"Your version is kept in exercises/backups/{exercise.slug}/views-" in capsys.readouterr().out

    call_command("workshop", "reset", "4")  # already the starter: no second backup
    assert len(list(backups[0].parent.iterdir())) == 1

    exercise.path().write_text(mine + "# second attempt\n")
    call_command("workshop", "reset", "04")  # in the same second: a new name, never an overwrite
    assert sorted(backup.read_text() for backup in backups[0].parent.iterdir()) == sorted(
        [mine, mine + "# second attempt\n"]
    )


def test_progress_shows_what_was_graded_and_what_changed_since(learner_copy, capsys):
    progress.record({"ex01_reproduce": (True, ""), "ex02_non_atomic": (False, "the job did not find its row")})
    exercise_registry.find("ex02").path().write_text("# edited after grading\n")

    call_command("workshop", "progress")

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("✔ ex01  Reproduce the race, every time")
    assert lines[1].startswith("… ex02")
    assert "changed since graded" in lines[1]
    assert lines[2].startswith("· ex03")
    assert lines[-1].startswith(f"1 of {len(EXERCISES)} exercises done.")
