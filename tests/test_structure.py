"""``workshop check``: the structural check CI runs first, with no services."""

import re
import shutil

import pytest
from django.conf import settings
from django.core.management import call_command

from lab.grader import structure
from workshop_project import exercise_registry


def test_the_repository_is_wired_up(capsys):
    call_command("workshop", "check")
    assert "everything in place" in capsys.readouterr().out


@pytest.fixture
def project(tmp_path):
    """The files the check reads, copied."""
    for name in ("exercises", "solutions", "notebooks", "README.md"):
        source = settings.BASE_DIR / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "backups"))
        else:
            shutil.copy2(source, tmp_path / name)
    shutil.copytree(settings.BASE_DIR / "tests" / "mutants", tmp_path / "tests" / "mutants")
    return tmp_path


def test_it_names_each_missing_piece(project):
    (project / "solutions" / "ex04_on_commit" / "views.py").unlink()
    (project / "exercises" / "ex99_unlisted").mkdir()
    shutil.rmtree(project / "tests" / "mutants" / "ex02_non_atomic")
    registry = project / "exercises" / "exercises.toml"
    registry.write_text(registry.read_text().replace("test_the_view_writes_nothing = 3", "test_no_such_check = 9"))

    found = structure.problems(project)

    assert "exercises/ex99_unlisted/ is not registered in exercises/exercises.toml." in found
    assert "ex04_on_commit: its solution solutions/ex04_on_commit/views.py is missing." in found
    assert any(line.startswith("ex02_non_atomic: tests/mutants/ex02_non_atomic/ has 0 wrong answers") for line in found)
    assert any("attaches a hint to test_no_such_check, which its grader does not define" in line for line in found)
    assert any("the hint number for test_no_such_check is 9" in line for line in found)


def test_it_names_a_lesson_that_forgets_its_exercise_and_a_readme_that_forgets_a_lesson(project):
    readme = project / "README.md"
    readme.write_text(readme.read_text().replace("| `ex03_create_in_job` |", "| ex03 |"))
    notebook = project / "notebooks" / "03_fix_autocommit.ipynb"
    notebook.write_text(notebook.read_text().replace("ex02_non_atomic", "ex02_elsewhere"))
    (project / "notebooks" / "11_new.ipynb").write_text('{"cells": []}')

    found = structure.problems(project)

    assert "ex03_create_in_job: README.md's exercise table does not list it." in found
    assert any(line.startswith("ex02_non_atomic: notebooks/03_fix_autocommit.ipynb never sends") for line in found)
    assert "README.md's lesson table does not list 11_new." in found


def test_the_registry_reads_promises_and_picks_a_hint_by_cause(project):
    registry = project / "exercises" / "exercises.toml"
    # ex04's own promises and causes out first: the ones below are the test's
    own = re.compile(r"^\[\[?ex04_on_commit\.(promises|causes)\]\]?\n(?:[^\[\n].*\n)*\n?", re.MULTILINE)
    registry.write_text(
        own.sub("", registry.read_text())
        + '\n[[ex04_on_commit.promises]]\nsays = "a failing request enqueues nothing"\n'
        + 'checks = ["test_a_failing_request_enqueues_nothing"]\n'
        + "\n[ex04_on_commit.causes]\ncalled_delay_now = 2\n"
    )

    exercise = next(e for e in exercise_registry.load(project) if e.slug == "ex04_on_commit")

    assert exercise.promises == [
        {"says": "a failing request enqueues nothing", "checks": ["test_a_failing_request_enqueues_nothing"]}
    ]
    assert exercise.hint_number("test_the_worker_finds_its_row", cause="called_delay_now") == 2
    assert exercise.hint_number("test_a_rolled_back_savepoint_enqueues_nothing", cause="unknown") == 4
    assert exercise.hint_number("test_the_worker_finds_its_row") == 1


def test_each_promise_names_checks_its_grader_defines(project, monkeypatch):
    registry = project / "exercises" / "exercises.toml"
    own = re.compile(r"^\[\[ex04_on_commit\.promises\]\]\n(?:[^\[\n].*\n)*\n?", re.MULTILINE)  # the test's own below
    registry.write_text(
        own.sub("", registry.read_text())
        + '\n[[ex04_on_commit.promises]]\nsays = "a failing request enqueues nothing"\n'
        + 'checks = ["test_a_failing_request_enqueues_nothing"]\n'
        + '\n[[ex04_on_commit.promises]]\nsays = "it works with two databases"\nchecks = ["test_no_such_check"]\n'
        + '\n[[ex04_on_commit.promises]]\nsays = "every job runs"\nchecks = []\n'
        + '\n[[ex04_on_commit.promises]]\nchecks = ["test_the_worker_finds_its_row"]\n'
    )

    found = [line for line in structure.problems(project) if line.startswith("ex04_on_commit:")]

    assert found == [
        "ex04_on_commit: promise 2 ('it works with two databases') names the check 'test_no_such_check', "
        "which its grader does not define.",
        "ex04_on_commit: promise 3 ('every job runs') has no check: add checks = [\"test_...\"] naming the checks "
        "that hold it.",
        "ex04_on_commit: promise 4 in exercises.toml has no `says` line saying what it promises.",
    ]


def test_an_exercise_without_promises_is_named_once_they_are_required(project, monkeypatch):
    registry = project / "exercises" / "exercises.toml"
    without = re.sub(r"^\[\[ex05_many_jobs\.promises\]\]\n(?:(?!\[).*\n)*", "", registry.read_text(), flags=re.M)
    registry.write_text(without)
    monkeypatch.setattr(structure, "PROMISES_REQUIRED", True)

    found = structure.problems(project)

    lacking = "exercises.toml lists no promises for it ([[ex05_many_jobs.promises]]: says, checks)."
    assert f"ex05_many_jobs: {lacking}" in found
