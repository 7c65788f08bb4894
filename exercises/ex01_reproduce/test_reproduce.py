"""Grades exercise 01: the worker fails with Task.DoesNotExist, every time, because of the race."""

from rq.job import JobStatus

from lab import grading
from workshop_project.tasks.models import Task

RUNS = 5


def reproduce_once(learner, samples):
    """Call reproduce(); then a worker runs whatever is still queued; return what the job did."""
    returned = learner.reproduce(samples.url())
    job_id = getattr(returned, "id", returned)  # the job or its id
    if not isinstance(job_id, str):
        grading.fail(f"reproduce() returned {returned!r}; expected the id of the job it enqueued.")
    if job_id in grading.queued_job_ids():
        grading.run_queued_jobs()  # a worker that arrives after reproduce() returned
    return grading.job_run(job_id)


def expect_does_not_exist(run):
    if run.missed_its_row:
        return
    if run.status == JobStatus.FINISHED:
        grading.fail(
            f"The worker ran {run.call} after the transaction had committed, found the task and measured it: "
            "no race. Expected it to run before the commit and fail with Task.DoesNotExist."
        )
    if run.status == JobStatus.FAILED:
        grading.fail(f"The job {run}; expected it to fail with Task.DoesNotExist.")
    grading.fail(f"The job {run.call} is {run.status}: it never ran. Expected it to fail with Task.DoesNotExist.")


def test_the_worker_fails_with_does_not_exist(learner, samples):
    expect_does_not_exist(reproduce_once(learner, samples))


def test_the_task_exists_after_the_commit(learner, samples):
    run = reproduce_once(learner, samples)
    expect_does_not_exist(run)
    task_id = run.args[0] if run.args else None
    if not Task.objects.filter(id=task_id).exists():
        grading.fail(
            f"The worker did fail, but task {task_id!r} does not exist even now: that is a wrong id, not the race. "
            "Expected the job to get the id of the task your transaction committed."
        )


def test_it_fails_every_time(learner, samples):
    for attempt in range(1, RUNS + 1):
        if not reproduce_once(learner, samples).missed_its_row:
            grading.fail(
                f"Attempt {attempt} of {RUNS}: the worker did not fail with Task.DoesNotExist; "
                f"expected it to, {RUNS} times out of {RUNS}."
            )
