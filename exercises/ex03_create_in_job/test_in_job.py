"""Grades exercise 03: the job creates its own task and returns its id; the view writes nothing."""

from lab.grader import grading
from lab.grader.grading import page_path
from workshop_project.tasks.models import Task

PAGE = page_path("ex03_create_in_job")


def post(browser, samples, amp=None, url=None):
    before = len(amp.job_ids) if amp else 0
    grading.post_form(browser, PAGE, url or samples.url())
    job_ids = amp.job_ids if amp else grading.queued_job_ids()
    return grading.expect_one(job_ids[before:], "For one request")


def test_the_job_creates_its_task_and_returns_its_id(browser, samples, amp):
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
    returned = grading.fetch_job(job_id).return_value()
    if returned != task.id or not isinstance(returned, int):
        grading.fail(
            f"The job returned {grading.shown(returned)}; expected the id of the task it created, {task.id} "
            "(whoever enqueued it can find the task from the job's result)."
        )


def test_the_same_url_twice_makes_two_tasks(browser, samples, amp):
    url = samples.url(4321)
    first, second = post(browser, samples, amp, url), post(browser, samples, amp, url)
    tasks = list(Task.objects.filter(url=url).order_by("id"))
    if len(tasks) != 2:
        grading.fail(
            f"Two requests for the same URL left {len(tasks)} task(s); expected two, one per request "
            "(get_or_create merges two people's requests into one row)."
        )
    recorded = {task.job_id for task in tasks}
    if recorded != {first, second}:
        grading.fail(f"The two tasks record the jobs {sorted(map(str, recorded))}; expected each its own job.")


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
