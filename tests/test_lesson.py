"""Grading in place: ``lesson.grade`` prints what ``pytest exercises/<slug>`` prints, from the same run.

The grader runs in a subprocess on its own Redis database (beside the
session's, as in test_exercises.py) and a private data folder.
"""

import re
import subprocess

import pytest
from django.conf import settings
from django.test import override_settings

from lab.core import progress
from lab.lessons import lesson
from workshop_project import exercise_registry
from workshop_project.test_settings import redis_url_beside

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def grader_env(monkeypatch, tmp_path):
    monkeypatch.setenv("TEST_REDIS_URL", redis_url_beside(settings.RQ_QUEUES["default"]["URL"]))
    monkeypatch.setenv("WORKSHOP_DATA_DIR", str(tmp_path))
    return tmp_path


def plain(text):
    """Without colours and pytest's timing line (the only part that differs between two runs)."""
    return [line for line in ANSI.sub("", text).splitlines() if not re.search(r" in [\d.]+s", line)]


def test_grade_prints_the_terminals_verdict(grader_env, capsys):
    slug = "ex04_on_commit"
    terminal = subprocess.run(
        lesson.grade_command(slug), cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )
    lesson.grade(slug)
    printed = plain(capsys.readouterr().out)

    assert printed[0] == f"Grading {slug} (exercises/{slug}/views.py)…"
    if terminal.returncode == 0:
        assert printed[-1] == f"✔ {slug} passes."
        verdict = printed[1:-1]
    else:
        assert any(line.startswith("--") and f"✘ {slug}" in line for line in printed), printed
        assert any(line.strip().startswith("Hint") for line in printed), printed
        verdict = printed[1:]
    assert verdict, "the grader's summary is missing"
    progress_lines = [line for line in verdict if line.startswith("your progress: ")]
    assert len(progress_lines) == 1, verdict
    assert progress_lines[0].split(": ", 1)[1].split(" (")[0] in terminal.stdout
    table = [line for line in verdict if re.match(r"[·✘✔] ex\d\d ", line)]
    assert not table, f"lesson.grade printed the progress table, not one line: {table}"
    expected = plain(terminal.stdout)
    missing = [line for line in verdict if line not in expected and line not in progress_lines]
    assert not missing, f"lesson.grade printed lines the terminal did not: {missing}"


def test_grade_names_an_unknown_exercise(capsys):
    lesson.grade("ex99_nothing")
    assert capsys.readouterr().out.startswith("Cannot grade ex99_nothing: there is no exercise")


def test_next_exercise_says_solved_only_while_the_graded_file_is_unchanged(tmp_path, capsys):
    exercise = exercise_registry.find("ex04_on_commit")
    with override_settings(DATA_DIR=tmp_path):
        lesson.next_exercise(exercise.slug)
        assert capsys.readouterr().out.startswith(f"Next: {exercise.slug}")

        progress.record({exercise.slug: (True, "")})
        lesson.next_exercise(exercise.slug)
        assert capsys.readouterr().out.startswith(f"✔ {exercise.slug}")

        progress.record({exercise.slug: (False, "The worker ran …")})
        lesson.next_exercise(exercise.slug)
        assert capsys.readouterr().out.startswith(f"Next: {exercise.slug}")


def test_watch_grades_the_exercise_and_moves_on_when_it_passes(grader_env, capsys):
    exercises = [exercise_registry.find("ex04"), exercise_registry.find("ex05")]
    lesson.watch(exercises=exercises, changes=lambda folder: iter(()), solutions=True)
    printed = [
        line for line in plain(capsys.readouterr().out) if line.startswith(("Grading", "✔ ex0", "✔ All", "Next"))
    ]
    assert printed == [
        "Grading ex04_on_commit (exercises/ex04_on_commit/views.py)…",
        "✔ ex04_on_commit passes.",
        f"Next: ex05_many_jobs: {exercises[1].title} (lesson {exercises[1].lesson})",
        "Grading ex05_many_jobs (exercises/ex05_many_jobs/batch.py)…",
        "✔ ex05_many_jobs passes.",
        "✔ All 2 exercises pass. Well done!",
    ]


@pytest.mark.parametrize(
    ("live", "grader"),
    [("redis://127.0.0.1:6379/0", None), ("redis://127.0.0.1:6379/15", "redis://127.0.0.1:6379/14")],
)
def test_the_grader_never_shares_the_kernels_redis_database(monkeypatch, live, grader):
    """A kernel whose worker listens on the grader's usual database (the tests' stack) hands
    the grader the database beside it; the live stack's (0) needs nothing."""
    monkeypatch.delenv("TEST_REDIS_URL", raising=False)
    with override_settings(RQ_QUEUES={"default": {"URL": live}}):
        assert lesson.grader_env().get("TEST_REDIS_URL") == grader


def test_the_live_check_never_calls_an_answer_fixed():
    """5/5 OK at one hold is what it measured, not a verdict: only the grader checks every promise."""
    from lab.lessons.race import Row

    row = Row("ex02_non_atomic", "live", runs=5, failures=0, ok=5, other=0, seconds=1.0, hold_ms=200)
    said = lesson.live_verdict("ex02_non_atomic", row, runs=5, hold_ms=200)
    assert "fixed" not in said.replace("not fixed yet", "")
    assert said.startswith("ex02_non_atomic live, 200 ms hold: 5/5 OK"), said
    assert "lesson.grade('ex02_non_atomic')" in said
