"""The first and last cells of every lesson.

``start`` makes "Restart Kernel and Run All" safe at any time: it checks the
services a lesson drives (one line per problem, with its fix) and empties
rq's failed-job registry, so the failures a lesson counts are its own. It
touches nothing else: the learner's tasks and files stay as they are.

``next_exercise`` points at the exercise that follows the lesson (✔ when it
is already solved); ``grade`` grades it in place, with the real grader, and
``watch`` (``workshop watch``) grades again at every save;
``try_exercise`` runs the learner's own view against the live stack and
``call_learner`` calls a function from the learner's file, each saying what
happened in a sentence instead of crashing while the file is still the
starter (or half-edited).
"""

import logging
import os
import re
import subprocess
import sys
from contextlib import contextmanager

import requests
from django.conf import settings

from lab.core import progress, web
from lab.core.outcomes import clear_failures
from lab.lessons import race
from lab.stack import doctor
from workshop_project import exercise_registry

#: The last line of the grader's progress table ("3 of 9 exercises done."): a grade cell prints only it.
PROGRESS_LINE = re.compile(r"\d+ of \d+ exercises done\.")

#: The checks a lesson cannot run without (the kernel is obviously running).
NEEDED = ("Redis", "database 'default'", "web", "worker")


class StackNotReady(RuntimeError):
    """A service the lesson drives is down; the message says which and how to start it."""


def start(clear=True):
    """Check the live stack; empty the failed-job registry (``clear=False`` keeps it)."""
    results = doctor.checks(queues=False)  # lesson 13 checks its own workers
    problems = [str(check) for check in results if not check.ok and check.name in NEEDED]
    if problems:
        raise StackNotReady("\n".join(problems))
    for check in results:
        if not check.ok:  # e.g. stale worker code: worth knowing, not worth stopping for
            print(check)
    if clear:
        clear_failures()
    print(
        f"Ready: the web answers at {web.base_url()}, a worker listens"
        + (", and the failed-job registry is empty." if clear else ".")
    )


def next_exercise(*slugs: str) -> None:
    """Say which exercise(s) practise this lesson, and how to grade them (✔ when already solved)."""
    records = progress.load()
    for slug in slugs:
        try:
            exercise = exercise_registry.find(slug)
        except LookupError:
            print(f"Next: exercise {slug} (in exercises/{slug}/); grade it with `pytest exercises/{slug}`.")
            continue
        if progress.row_from_record(exercise, records).state == "done":
            print(f"✔ {exercise.slug}: {exercise.title}: solved (graded, and unchanged since).")
            continue
        print(f"Next: {exercise.slug}: {exercise.title}")
        print(f"  edit   exercises/{exercise.slug}/{exercise.file}")
        print(f"  grade  lesson.grade({exercise.slug!r}) here, or pytest exercises/{exercise.slug} in a terminal")
        if exercise.hints:
            print(f"  stuck? {exercise.hints[0]}")


def grade_command(slug: str, hints: bool = False, solutions: bool = False) -> list[str]:
    """The terminal's command that grades one exercise, as ``grade`` runs it."""
    options = ["--color=yes", *(["--hints"] if hints else []), *(["--solutions"] if solutions else [])]
    return [sys.executable, "-m", "pytest", f"exercises/{slug}", *options]


def grade(slug: str, hints: bool = False) -> None:
    """Grade one exercise here, as ``pytest exercises/<slug>`` does in a terminal.

    It runs that very command (the real grader, in its own process, so your
    latest edits count and nothing it imports stays in this kernel) and
    prints its verdict as it comes: the first failure's sentence and hint,
    or ✔, and your progress table (``hints=True``: every hint). The grader
    records the result, so ``next_exercise`` and ``workshop progress`` see it.
    """
    run_grader(slug, hints)


def grader_env() -> dict[str, str]:
    """The grader's environment: this one, but never the Redis database this kernel's worker listens on.

    The live stack's database is 0 and the grader's 15; where the stack itself
    runs on 15 (the project's tests), the grader gets the one beside it, as
    every run that starts another does (see workshop_project/test_settings.py).
    """
    from workshop_project.test_settings import GRADER_REDIS_DATABASE, redis_url_beside, redis_url_with_database

    env = dict(os.environ)
    live = settings.RQ_QUEUES["default"]["URL"]
    if "TEST_REDIS_URL" not in env and redis_url_with_database(live, GRADER_REDIS_DATABASE) == live:
        env["TEST_REDIS_URL"] = redis_url_beside(live)
    return env


def run_grader(slug: str, hints: bool = False, solutions: bool = False) -> bool:
    """``grade``'s work; returns True when the exercise passes (``workshop watch`` uses it too)."""
    try:
        exercise = exercise_registry.find(slug)
    except LookupError as error:
        print(f"Cannot grade {slug}: {error}.")
        return False
    print(f"Grading {exercise.slug} ({exercise_registry.relative(exercise.path())})…", flush=True)
    process = subprocess.Popen(
        grade_command(exercise.slug, hints, solutions),
        cwd=settings.BASE_DIR,
        env=grader_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    skipped, shown, table = [], False, False
    for line in process.stdout:
        # pytest's header and progress dots come before the grader's own summary: keep them back.
        shown = shown or "✘" in line or "your progress" in line or line.startswith("ERROR")
        table = table or "your progress" in line  # the table, one row per exercise: its last line says it all
        if table:
            if PROGRESS_LINE.search(line):
                print(f"your progress: {PROGRESS_LINE.search(line).group(0)} (`workshop progress` lists them)")
            continue
        if shown:
            print(line, end="", flush=True)
        else:
            skipped.append(line)
    passed = process.wait() == 0
    if passed:
        print(f"✔ {exercise.slug} passes.")
    elif not shown:  # the grader stopped before its summary (a usage error, a crash): show all it said
        print("".join(skipped), end="")
        print(f"{exercise.slug} was not graded: pytest exited with status {process.returncode}.")
    return passed


def saves(folder):
    """Each batch of saved Python files under ``folder`` (WATCHFILES_FORCE_POLLING=1 where events don't arrive)."""
    import watchfiles

    return watchfiles.watch(folder, watch_filter=watchfiles.PythonFilter())


def watch(
    start: exercise_registry.Exercise | None = None,
    exercises: list[exercise_registry.Exercise] | None = None,
    changes=saves,
    solutions: bool = False,
) -> None:
    """``workshop watch``, as rustlings' watch mode: grade the exercise you are on, again at
    every save, and move to the next one not done when it passes. Returns when all pass.

    ``start`` is an exercise (default: the first not done); ``exercises`` the ones to go
    through (default: all). ``changes`` and ``solutions`` let the tests drive it.
    """
    exercises = exercises or exercise_registry.load()
    records, passed = progress.load(), set()

    def done(exercise):
        return exercise.slug in passed or progress.row_from_record(exercise, records).state == "done"

    def next_after(exercise):
        order = exercises[exercises.index(exercise) + 1 :] + exercises[: exercises.index(exercise)]
        return next((candidate for candidate in order if not done(candidate)), None)

    current = start or next((exercise for exercise in exercises if not done(exercise)), None)
    while current is not None:
        if run_grader(current.slug, solutions=solutions):
            passed.add(current.slug)
            records = progress.load()
            current = next_after(current)
            if current is not None:
                print(f"\nNext: {current.slug}: {current.title} (lesson {current.lesson})")
            continue
        edited = exercise_registry.relative(current.path())
        print(f"\nWatching {edited}: save it to grade again (Ctrl-C to stop).", flush=True)
        for _ in changes(current.path().parent):
            break
        print()
    print(f"✔ All {len(exercises)} exercises pass. Well done!")


def try_exercise(slug, runs=5, hold_ms=200):
    """Run the learner's view for ``slug`` live, ``runs`` times; print and return the outcome row.

    Returns None (after one plain sentence) when there is nothing to run
    yet: the exercise has no page, the file does not import, or the view
    fails before it starts a task, as the untouched starter may.
    """
    try:
        exercise = exercise_registry.find(slug)
    except LookupError:
        print(f"{slug} is not in exercises/exercises.toml yet: nothing to run.")
        return None
    if not exercise.view:
        print(f"{slug} has no page on the web; its grader runs it: pytest exercises/{slug}")
        return None
    page = web.page_url(slug)
    answer = requests.get(page, timeout=30)
    if answer.status_code != 200:
        first_line = answer.text.strip().splitlines()[0] if answer.text.strip() else ""
        print(f"Your page {page} answers {answer.status_code}: {first_line[:200]}")
        return None
    first = web.submit(slug, hold_ms=0)
    if not first.succeeded or not (first.task_id or first.job_id):
        print(f"Your view answered {first.status_code} without starting a task: open {page} in a browser to see why.")
        return None
    row = race.live(slug, runs=runs, hold_ms=hold_ms)
    print(live_verdict(slug, row, runs, hold_ms))
    return row


def live_verdict(slug: str, row, runs: int, hold_ms: int) -> str:
    """What the live runs measured, and nothing more: they try one thing (the race, at one hold),
    the grader checks every promise, so only the grader may call an answer right."""
    measured = f"{slug} live, {hold_ms} ms hold: {row.ok}/{runs} OK, {row.failures} DoesNotExist, {row.other} other"
    if row.ok != runs:
        return f"{measured}: not fixed yet."
    return (
        f"{measured}: no race seen in {runs} runs. The grader checks more (failing requests, rollbacks, "
        f"every job's arguments): lesson.grade({slug!r})."
    )


def call_learner(slug, function, *args, **kwargs):
    """Call ``function`` from the learner's file for ``slug`` (re-imported, so edits count).

    Returns what it returns, or None after one sentence saying why it could
    not be called or what it raised.
    """
    try:
        module = exercise_registry.import_learner_module(exercise_registry.find(slug))
    except LookupError as error:
        print(f"Cannot run {slug}: {error}.")
        return None
    except Exception as error:  # the learner's file does not import: say where
        print(f"Your {slug} file does not import: {exercise_registry.describe_import_error(error)}")
        return None
    try:
        return getattr(module, function)(*args, **kwargs)
    except Exception as error:  # the learner's code failed: one line, not a traceback
        print(f"Your {slug} {function}() raised {type(error).__name__}: {error}")
        return None


class _OneLine(logging.Handler):
    def emit(self, record):
        raised = f" [{record.exc_info[0].__name__}: {record.exc_info[1]}]" if record.exc_info else ""
        print(f"logged ({record.levelname}, {record.name}): {record.getMessage()}{raised}")


@contextmanager
def one_line_logs(name):
    """Inside the block, show the ``name`` logger's records as one printed line each, without tracebacks.

    A lesson that triggers a logged error on purpose shows what was logged,
    not a wall of red; the logger's own handlers are put back afterwards.
    """
    logger = logging.getLogger(name)
    saved = logger.handlers[:], logger.propagate
    logger.handlers, logger.propagate = [_OneLine()], False
    try:
        yield
    finally:
        logger.handlers, logger.propagate = saved


def short_tracebacks() -> None:
    """This cell's error in its last line only (IPython's Minimal mode); the next cell is back to
    full tracebacks. ``%xmode`` does the same but prints "Exception reporting mode: ..." each time."""
    from IPython import get_ipython

    shell = get_ipython()
    before = shell.InteractiveTB.mode
    shell.InteractiveTB.set_mode("Minimal")

    def restore(result):
        shell.InteractiveTB.set_mode(before)
        shell.events.unregister("post_run_cell", restore)

    shell.events.register("post_run_cell", restore)
