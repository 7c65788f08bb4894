"""The grader's guard around every check: the process as it was found, a time limit, no thread left behind.

A pytest plugin (``lab.grader.plugin.configure`` registers this module), used by
every exercise alike, so no grader has to remember it:

- Before any learner file is imported, a :class:`~lab.grader.invariants.Snapshot`
  of what the learner must not change; before and after each check the process
  is compared with it. A change fails the check with one sentence naming it, and
  is put back, so it never leaks into the next check or exercise.
- Each check's set-up and call run under :func:`~lab.grader.deadline.time_limit`:
  code that never returns fails in seconds, on the main thread too.
- A thread the check started and left running fails the check; one that would
  keep the interpreter from exiting ends the run instead of hanging it.
"""

from __future__ import annotations

import threading

import pytest

from . import deadline
from .invariants import Snapshot

#: Causes (``[<slug>.causes]`` in exercises.toml can attach a hint to each).
CHANGED = "changed_the_process"
OUT_OF_TIME = "out_of_time"
LEFT_A_THREAD = "left_a_thread"
THREAD_RAISED = "thread_raised"
#: What a learner is told for these causes when the exercise attaches no hint of its own: its hints
#: are about its subject, these failures are about the process the answer runs in.
ADVICE = {
    CHANGED: "Change only what the exercise asks for: no settings, signal receivers or patched classes, at "
    "import or at run time; what your code needs, it passes as arguments.",
    OUT_OF_TIME: "Wait for a thread with join(), and let a worker stop by itself (work(burst=True) returns once "
    "the queue is empty); never wait for something that only your own code could make happen.",
    LEFT_A_THREAD: "Every thread your code starts must end before your code returns: join() it (a worker "
    "in it with burst=True), and keep and raise again any error it had.",
    THREAD_RAISED: "An error raised on a thread is lost unless you keep it (in the thread, or with a "
    "concurrent.futures Future) and raise it again on the caller's thread after join().",
    "unusable_value": "Return exactly what the docstring asks for (ids as ints, jobs or their ids), and pass "
    "each job the arguments the exercise names.",
}


class _State:
    snapshot: Snapshot | None = None
    leftovers: list = []
    status: int = 0


_state = _State()


def changed(when: str) -> str | None:
    """One sentence naming what differs from the snapshot (and putting it back), or None."""
    if _state.snapshot is None:
        return None
    found = _state.snapshot.changes()
    if not found:
        return None
    _state.snapshot.restore()
    named = "; ".join(found[:3]) + (f"; and {len(found) - 3} more" if len(found) > 3 else "")
    return (
        f"{when}, your code changed {named}: expected it to leave the rest of the process as it found it "
        "(the grader put it back, so that it does not change the other checks)"
    )


def skip_refilling_auth_tables() -> None:
    """After each check pytest-django empties the test databases, and Django's post_migrate then
    writes every content type and permission again, on both databases: a quarter of a grading
    run's time, for tables no exercise reads. The grader's run does without (its own process only)."""
    from django.contrib.auth.management import create_permissions, rename_permissions_after_model_rename
    from django.contrib.contenttypes.management import create_contenttypes
    from django.db.models.signals import post_migrate

    post_migrate.disconnect(dispatch_uid="django.contrib.auth.management.create_permissions")
    post_migrate.disconnect(dispatch_uid="django.contrib.auth.management.rename_permissions")
    for receiver in (create_permissions, rename_permissions_after_model_rename, create_contenttypes):
        post_migrate.disconnect(receiver)


@pytest.fixture(scope="session", autouse=True)
def _process_as_found(django_db_setup, _sample_pages):
    """The snapshot, taken once the grader's own set-up is in place (the test databases, the sample
    pages' server, which registers its address with the fetcher) and before any learner file is imported."""
    skip_refilling_auth_tables()
    _state.snapshot = Snapshot.take()
    yield
    _state.snapshot = None


@pytest.fixture(autouse=True)
def leaves_the_process_as_it_found_it(_process_as_found):
    """Compare the process with the snapshot before the check (the learner's import) and after it."""
    from .grading import fail

    sentence = changed("When your file was imported (or while this check was set up)")
    if sentence:
        fail(sentence, cause=CHANGED)
    yield
    sentence = changed("While this check ran")
    if sentence:
        fail(sentence, cause=CHANGED)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    # Twice the check's limit: the first set-up also creates the test databases and starts servers.
    with deadline.time_limit(2 * deadline.LIMIT, "the check's set-up (importing your file) started"):
        return (yield)


#: The errors raised on threads during a check (``item.stash``): a learner's thread that died of an
#: error is why its check failed far more often than what the check itself saw ("still queued").
THREAD_ERRORS = pytest.StashKey[list]()


def thread_errors(item: pytest.Item) -> list[BaseException]:
    return item.stash.get(THREAD_ERRORS, [])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    from .grading import describe_error, fail

    before = deadline.threads()
    item.stash[THREAD_ERRORS] = errors = []
    previous = threading.excepthook

    def keep(args):
        """A learner's thread's error goes into the check's sentence, not as a traceback above the
        verdict (the walkthrough's ex01 printed four); one the guard raised to stop a thread, nowhere."""
        if isinstance(args.exc_value, deadline.OutOfTime):
            return
        if describe_error(args.exc_value, args.exc_traceback).startswith("Your code raised"):
            errors.append(args.exc_value)
            return
        previous(args)

    threading.excepthook = keep
    try:
        with deadline.time_limit(deadline.LIMIT, "the check started"):
            result = yield
    except BaseException:
        _state.leftovers.extend(deadline.left_running(before, grace=0.5))
        raise
    finally:
        threading.excepthook = previous
    alive = deadline.left_running(before)
    if alive:
        _state.leftovers.extend(alive)
        fail(deadline.describe_left(alive) + ".", cause=LEFT_A_THREAD)
    return result


def pytest_sessionfinish(session, exitstatus):
    _state.status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    deadline.keep_exit_from_hanging(_state.leftovers, _state.status)
