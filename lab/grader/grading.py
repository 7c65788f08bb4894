"""The graders' vocabulary: what ``exercises/exNN_*/test_*.py`` import.

Every check ends in :func:`fail` with one plain sentence (what was expected,
what happened) or passes. Nothing here mocks ``.delay()``, Redis or the
database: jobs are run by a real rq worker on another thread with its own
database connection, and what they did is read back from rq
(:class:`lab.core.outcomes.Outcome`). A learner's value is never trusted: a
``None``, a string that is not a job id or a model instance where an id was
expected gives the check's sentence, never a grader traceback.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import django_rq
import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from rq.job import Job
from rq.registry import FailedJobRegistry

from lab.core import amplifier as amplifier_module

# What graders take from the shared core, through this module (exercises import only lab.grader).
from lab.core.amplifier import amplifier as amplifier  # noqa: E402
from lab.core.amplifier import run_on_thread as run_on_thread  # noqa: E402
from lab.core.outcomes import Outcome, fetch_outcome
from lab.core.outcomes import clear_jobs as clear_jobs  # noqa: E402
from lab.core.web import page_path as page_path  # noqa: E402
from lab.testing.processes import free_port as free_port  # noqa: E402
from workshop_project import exercise_registry


class Verdict(pytest.fail.Exception):
    """A check's failure: one sentence, and what the answer did (``cause``), which picks its hint."""

    cause: str | None = None


def fail(sentence: str, cause: str | None = None) -> NoReturn:
    """Fail the current check with one plain sentence and no traceback.

    ``cause`` names what the answer did ("called_delay_now", "no_using"): ``[<slug>.causes]``
    in exercises.toml maps it to the hint that fits, so the hint follows what was seen,
    not only which check saw it."""
    __tracebackhide__ = True
    verdict = Verdict(sentence, pytrace=False)
    verdict.cause = cause
    raise verdict


#: Errors that a grader's own look at a learner's value raises (sorting objects that do not sort,
#: reading an attribute a returned value does not have): the answer's doing, so a verdict.
INSPECTION_ERRORS = (TypeError, AttributeError, ValueError, LookupError, ArithmeticError)
UNUSABLE_VALUE = "unusable_value"


@contextmanager
def inspecting(what: str) -> Iterator[None]:
    """Any error raised while the check looks at ``what`` (a learner's value) fails with a sentence."""
    __tracebackhide__ = True
    try:
        yield
    except Exception as error:
        fail(
            f"The check could not use {what}: {type(error).__name__}: {error}; expected what the exercise asks for.",
            cause=UNUSABLE_VALUE,
        )


def is_learner_code(filename: str) -> bool:
    """A file of the graded package (exercises/, solutions/, a mutant's copy) that is not the grader
    (and not a library in a virtualenv inside the project)."""
    try:
        parts = Path(filename).resolve().relative_to(settings.BASE_DIR).parts
    except ValueError:
        return False
    graded = {"exercises", "solutions", getattr(settings, "WORKSHOP_EXERCISE_PACKAGE", "exercises")}
    return len(parts) > 1 and parts[0] in graded and not parts[-1].startswith(("test_", "conftest"))


def describe_error(error: BaseException, tb=None) -> str:
    """``Your code raised TypeError: ... (exercises/ex04_on_commit/views.py, line 25)``"""
    name = type(error).__qualname__  # "Task.DoesNotExist", "NotImplementedError"
    what = f"{name}: {error}" if str(error) else name
    frames = traceback.extract_tb(tb or error.__traceback__)
    mine = [frame for frame in frames if is_learner_code(frame.filename)]
    if mine:
        return f"Your code raised {what} ({exercise_registry.relative(mine[-1].filename)}, line {mine[-1].lineno})"
    frame = frames[-1] if frames else None
    where = f"{exercise_registry.relative(frame.filename)}, line {frame.lineno}" if frame else ""
    ours = [frame for frame in frames if in_project(frame.filename)]
    if isinstance(error, INSPECTION_ERRORS) and ours and is_grader_code(ours[-1].filename):
        where = f"{exercise_registry.relative(ours[-1].filename)}, line {ours[-1].lineno}"
        return (
            f"Your answer gave the check something it could not use: {what} (while {where} looked at it); "
            "expected the values the exercise asks for"
        )
    return f"The check stopped with {what}" + (f" ({where})" if where else "")


def in_project(filename: str) -> bool:
    """A file of the project itself, not of a library (even one in a virtualenv inside the project)."""
    try:
        parts = Path(filename).resolve().relative_to(settings.BASE_DIR).parts
    except ValueError:
        return False
    return "site-packages" not in parts and not parts[0].startswith(".")


def is_grader_code(filename: str) -> bool:
    """The grader's own code: an exercise's test_*.py or conftest.py, or the lab's."""
    parts = Path(filename).resolve().relative_to(settings.BASE_DIR).parts
    return parts[0] == "lab" or parts[-1].startswith(("test_", "conftest"))


def shown(value: Any, limit: int = 80) -> str:
    """A learner's value, short enough for a sentence."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Driving the learner's view -------------------------------------------------


def post_form(browser: Client, page: str, url: str, failing: bool = False) -> HttpResponse:
    """Post the form to ``page`` as a browser would. A request that should start a task must
    redirect; one asked to fail must fail with the form's SimulatedFailure and nothing else."""
    from workshop_project.tasks.views import SimulatedFailure

    response = browser.post(page, {"url": url, **({"fail": "on"} if failing else {})})
    error = getattr(response, "exc_info", None)
    if failing and error and error[0] is SimulatedFailure:
        return response
    if not failing and response.status_code == 302:
        return response
    expected = "fail with SimulatedFailure (the form's fail box)" if failing else "start a task and redirect (302)"
    if error:
        fail(
            f"{describe_error(error[1], error[2])} while handling the form; expected your view to {expected}.",
            cause=f"view_raised_{error[0].__name__}",
        )
    fail(f"Your view answered {response.status_code}; expected it to {expected}.", cause="view_answered")


def task_id_of(response: HttpResponse) -> int:
    """The id of the task a view started, from its X-Task-Id header."""
    from workshop_project.tasks.views import TASK_ID_HEADER

    value = response.get(TASK_ID_HEADER, "")
    if not str(value).isdigit():
        fail(
            f"Your view answered without the task it started ({TASK_ID_HEADER}: {value!r}); "
            "expected self.started(task=...)."
        )
    return int(value)


# --- What did the worker do? ----------------------------------------------------


def job_id_of(value: Any, what: str = "The value") -> str:
    """The id of the job ``value`` names (a job or its id); one sentence for anything else."""
    job_id = value.id if isinstance(value, Job) else value
    if not isinstance(job_id, str) or not job_id:
        fail(
            f"{what} was {shown(value)}; expected the id of the job it enqueued (job.id, a string).",
            cause="not_a_job_id",
        )
    if fetch_outcome(job_id) is None:
        fail(
            f"{what} was {shown(value)}, and Redis holds no job with that id now (never enqueued, or already "
            "deleted: rq deletes a finished job at once when result_ttl=0); expected the id of a job it enqueued "
            "that Redis still holds.",
            cause="no_such_job",
        )
    return job_id


def job_run(job_id: Any) -> Outcome:
    """What the job with this id did, as rq recorded it."""
    outcome = fetch_outcome(job_id) if isinstance(job_id, str) else None
    if outcome is None:
        fail(
            f"Redis holds no job {shown(job_id)} now (never enqueued, or already deleted: rq deletes a finished "
            "job at once when result_ttl=0), so the check cannot read what it did; expected a job rq keeps.",
            cause="no_such_job",
        )
    return outcome


def runs(job_ids: Iterable[str]) -> list[Outcome]:
    return [job_run(job_id) for job_id in job_ids]


def queued_job_ids(queue_name: str = "default") -> list[str]:
    return django_rq.get_queue(queue_name).get_job_ids()


def failed_job_ids(queue_name: str = "default") -> list[str]:
    """The ids in rq's failed-job registry: where a real worker files a job that raised."""
    return FailedJobRegistry(queue=django_rq.get_queue(queue_name)).get_job_ids()


def run_queued_jobs(queue_name: str = "default", timeout: float = 60) -> list[str]:
    """:func:`lab.core.amplifier.run_queued_jobs`, ending the check with its sentence at the deadline."""
    try:
        return amplifier_module.run_queued_jobs(queue_name, timeout)
    except TimeoutError as error:
        fail(str(error))


def expect_found(run: Outcome, task_id: int, model: str = "task", using: str = "default") -> None:
    """Fail unless ``run`` is a job that was given ``task_id`` and found that row.

    A job given another id is a wrong id, whatever it did; a job that missed a row
    that exists now ran before the commit (the race); one that missed a row that
    does not exist even now was given a row that never got committed."""
    from workshop_project.tasks.models import Task

    kind, _, where = model.partition(" on ")  # "task on 'second'": the row is "task 3 on 'second'"
    row = f"{kind} {task_id}" + (f" on {where}" if where else "")
    if tuple(run.args[:1]) != (task_id,):
        given = f"the id of {row}" if where else f"the {kind}'s id, {task_id}"
        fail(f"The job was enqueued as {run.call}; expected it to be given {given}.", cause="wrong_id")
    if run.missed_its_row:
        if not Task.objects.using(using).filter(id=task_id).exists():
            fail(
                f"The worker ran {run.call} and it raised {run.short_type}: {row} does not exist "
                "even now (its transaction rolled back, or the row is on another database). "
                f"Expected the job only for a committed {kind}.",
                cause="row_never_committed",
            )
        fail(
            f"The worker ran {run.call} before {row} was committed and it raised {run.short_type}: "
            f"expected the job to start only after the commit, and to find {row}.",
            cause="ran_before_the_commit",
        )
    if run.failed:
        fail(f"The job {run}; expected it to find {row}.", cause="job_failed")
    if not run.finished:
        fail(
            f"The job {run.call} is {run.job_status}, not finished; expected the worker to have run it.",
            cause="job_not_run",
        )


def expect_one(job_ids: list[str], when: str) -> str:
    """The one job enqueued ``when``; fail if there were none or several (naming them)."""
    if len(job_ids) != 1:
        named = ", ".join(job_run(job_id).call for job_id in job_ids[:3])
        fail(f"{when}, {len(job_ids)} jobs were enqueued{f' ({named})' if named else ''}; expected exactly one.")
    return job_ids[0]


def fetch_job(job_id: str) -> Job:
    """rq's own job, for what the record does not keep (its return value)."""
    return Job.fetch(job_id, connection=django_rq.get_connection("default"))
