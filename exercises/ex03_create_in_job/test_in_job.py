"""Grades exercise 03: the job creates its task and succeeds; the view writes nothing."""

from lab import grading
from lab.web import page_path
from workshop_project.tasks.models import Task

PAGE = page_path("ex03_create_in_job")


def post(browser, samples, amp=None):
    grading.post_form(browser, PAGE, samples.url())
    job_ids = amp.job_ids if amp else grading.queued_job_ids()
    if len(job_ids) != 1:
        grading.fail(f"The request enqueued {len(job_ids)} jobs; expected exactly one.")
    return job_ids[0]


def test_the_job_succeeds_and_records_its_id(browser, samples, amp):
    job_id = post(browser, samples, amp)  # under the amplifier: the job runs before the request commits
    run = grading.job_run(job_id)
    if not run.finished:
        grading.fail(f"The job {run}; expected it to create the task and measure it.")
    task = Task.objects.filter(job_id=job_id).first()
    if task is None:
        grading.fail(
            f"The job {run.call} finished, but no task records its job id {job_id}; "
            "expected the task the job created to record it (measure() does)."
        )
    if task.url != samples.url() or task.result != "OK":
        grading.fail(f"The job's task is {task}; expected it to have measured {samples.url()} (result OK).")


def test_the_view_writes_nothing(browser, samples):
    job_id = post(browser, samples)
    written = list(Task.objects.all())
    if written:
        grading.fail(
            f"After the request, before any worker ran, the database already holds {written[0]}: the view wrote it. "
            "Expected the view to write nothing and the job to create the task."
        )
    grading.run_queued_jobs()
    if not Task.objects.filter(job_id=job_id).exists():
        grading.fail(
            f"The view wrote nothing, but the job {grading.job_run(job_id)} created no task either; "
            "expected one task with its job id."
        )
