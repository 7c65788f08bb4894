"""``workshop reset`` is atomic: two resets at once never lose the learner's file, and a
backup it names is always a complete copy. A missing file is said to be missing.

Real files, real threads and real processes (fork), racing on one exercise.
"""

import multiprocessing
import threading
from pathlib import Path

import pytest
from django.core.management import call_command

from lab.core import progress
from workshop_project import exercise_registry

TRIALS = 150


@pytest.fixture
def learner_copy(tmp_path, settings):
    import shutil

    shutil.copytree(
        settings.BASE_DIR / "exercises", tmp_path / "exercises", ignore=shutil.ignore_patterns("__pycache__", "backups")
    )
    settings.BASE_DIR = tmp_path
    settings.DATA_DIR = tmp_path / "data"
    return tmp_path


def kept_versions(exercise):
    folder = progress.backup_path(exercise).parent
    return [path.read_text() for path in folder.glob("*.py")] if folder.exists() else []


def check_trial(exercise, mine, named):
    """The learner's version is in exactly one backup; every backup a reset named holds it whole."""
    kept = kept_versions(exercise)
    assert kept.count(mine) == 1, f"the learner's version is in {kept.count(mine)} backups"
    for backup in named:
        assert backup.read_text() == mine, f"{backup.name} is named as the backup but holds {backup.read_text()!r}"
    assert exercise.path().read_bytes() == exercise.starter_path().read_bytes()


def _reset_on_a_thread(exercise, start, results):
    start.wait()
    results.append(progress.reset(exercise))


def test_two_resets_at_once_on_threads_never_lose_the_learners_file(learner_copy):
    exercise = exercise_registry.find("ex04")
    for trial in range(TRIALS):
        mine = f"# attempt {trial}, which must never be lost\n" + "x = 1\n" * 200
        exercise.path().write_text(mine)
        start, results = threading.Barrier(2), []
        threads = [threading.Thread(target=_reset_on_a_thread, args=(exercise, start, results)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(result.state for result in results) == ["already", "restored"], results
        check_trial(exercise, mine, [result.backup for result in results if result.backup])


def _reset_in_a_process(slug, start, queue):
    start.wait()
    done = progress.reset(exercise_registry.find(slug))
    queue.put((done.state, str(done.backup) if done.backup else None))


def test_two_resets_at_once_in_processes_never_lose_the_learners_file(learner_copy):
    exercise = exercise_registry.find("ex04")
    context = multiprocessing.get_context("fork")  # the children keep this test's settings
    for trial in range(20):
        mine = f"# process attempt {trial}\n" + "y = 2\n" * 200
        exercise.path().write_text(mine)
        start, queue = context.Barrier(2), context.Queue()
        processes = [context.Process(target=_reset_in_a_process, args=("ex04", start, queue)) for _ in range(2)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(30)
            assert process.exitcode == 0, "a reset failed"
        results = [queue.get(timeout=5) for _ in processes]
        assert sorted(state for state, _ in results) == ["already", "restored"], results
        check_trial(exercise, mine, [Path(backup) for _, backup in results if backup])


def test_reset_of_a_missing_file_says_it_was_missing(learner_copy, capsys):
    exercise = exercise_registry.find("ex04")
    exercise.path().unlink()
    call_command("workshop", "reset", "ex04")
    out = capsys.readouterr().out
    assert "was missing: the starter is back" in out, out
    assert "already the starter" not in out
    assert exercise.path().read_bytes() == exercise.starter_path().read_bytes()


def _reset_and_report(slug, start, queue):
    start.wait()
    try:
        progress.reset(exercise_registry.find(slug))
    except Exception as error:  # reported to the test, which counts them
        queue.put((slug, f"{type(error).__name__}: {error}"))
    else:
        queue.put((slug, None))


def test_resets_of_different_exercises_in_processes_at_once_leave_no_stale_record(learner_copy):
    """Each reset forgets its exercise's record in progress.json: done by several processes at
    once, none may raise (one temporary name shared by all) nor bring back a record another
    one had just removed (read, change, write without one lock for the file)."""
    exercises = exercise_registry.load()[:4]
    slugs = {exercise.slug for exercise in exercises}
    context = multiprocessing.get_context("fork")  # the children keep this test's settings
    errors, stale, trials = [], [], 40
    for trial in range(trials):
        for exercise in exercises:
            exercise.path().write_text(f"# trial {trial}: the learner's edit\n")
        progress.record({slug: (False, "graded before the reset") for slug in slugs})
        start, queue = context.Barrier(len(exercises)), context.Queue()
        processes = [context.Process(target=_reset_and_report, args=(slug, start, queue)) for slug in slugs]
        for process in processes:
            process.start()
        for process in processes:
            process.join(30)
        errors += [f"{slug}: {error}" for slug, error in (queue.get(timeout=5) for _ in processes) if error]
        stale += sorted(slugs & set(progress.load()))
    resets = trials * len(exercises)
    assert (errors, stale) == ([], []), (
        f"{len(errors)} of {resets} resets raised (e.g. {errors[:1]}); "
        f"{len(stale)} left a stale record in progress.json (e.g. {stale[:1]})"
    )
