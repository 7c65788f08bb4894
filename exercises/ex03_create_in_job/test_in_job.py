"""Grades exercise 03: the job creates its own task and returns its id; the view writes nothing.

Besides the request, the job is called more than once in one process, for a
URL that already has tasks (somebody else's, pending or measured), and once
while its task disappears under it: each call is a new task, and an error
reaches rq.
"""

from django.apps import apps
from django.db import connection, connections

from lab.grader import grading
from lab.grader.grading import page_path
from workshop_project.tasks.models import Task
from workshop_project.tasks.views import JOB_ID_HEADER

PAGE = page_path("ex03_create_in_job")


def post(browser, samples, amp=None, url=None, response=None):
    before = len(amp.job_ids) if amp else 0
    answer = grading.post_form(browser, PAGE, url or samples.url())
    job_ids = amp.job_ids if amp else grading.queued_job_ids()
    job_id = grading.expect_one(job_ids[before:], "For one request")
    return (answer, job_id) if response else job_id


def job_ran(job_id):
    """What the job did; a job rq no longer holds is said to be gone, not never enqueued."""
    if grading.fetch_outcome(job_id) is None:
        task = Task.objects.filter(job_id=job_id).first()
        ran = f"and ran ({task} records it)" if task else "and ran"
        grading.fail(
            f"Your job {job_id} was enqueued {ran}, but Redis no longer holds it: rq deletes a job as soon as it "
            "ends when its result_ttl is 0. Expected its result kept: the task's id it returns is how whoever "
            "enqueued it finds the task.",
            cause="result_not_kept",
        )
    return grading.job_run(job_id)


def expect_its_own_task(job_id, url):
    """The job finished, made a task for ``url`` that records this job, and returned that task's id."""
    run = job_ran(job_id)
    if not run.finished:
        grading.fail(f"The job {run}; expected it to create the task and measure it.")
    task = Task.objects.filter(job_id=job_id).first()
    if task is None:
        grading.fail(
            f"The job {run.call} finished, but no task records its job id {job_id}; "
            "expected the task the job created to record it (measure() does).",
            cause="no_measure",
        )
    if task.url != url or task.result != "OK":
        grading.fail(f"The job's task is {task}; expected it to have measured {url} (result OK).")
    returned = grading.fetch_job(job_id).return_value()
    if returned != task.id or not isinstance(returned, int):
        grading.fail(
            f"The job returned {grading.shown(returned)}; expected the id of the task it created, {task.id} "
            "(whoever enqueued it can find the task from the job's result).",
            cause="returns",
        )
    return task


def test_the_job_creates_its_task_and_returns_its_id(browser, samples, amp):
    # under the amplifier: the job runs before the request commits
    response, job_id = post(browser, samples, amp, response=True)
    expect_its_own_task(job_id, samples.url())
    answered = response.get(JOB_ID_HEADER, "")
    if answered != job_id:
        grading.fail(
            f"Your view answered with job {answered or 'none'} ({JOB_ID_HEADER}); expected the job it enqueued, "
            f"{job_id}: the view enqueues at once and answers self.started(job=job).",
            cause="job_not_in_answer",
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


def test_each_call_of_the_job_makes_a_new_task(learner, samples):
    """The job called twice in one process, for a URL that already has a pending task and a measured one."""
    url = samples.url(2345)
    pending = Task.objects.create(url=url)  # somebody else's request, its job still to come
    measured = Task.objects.create(url=url, url_length=2345, result="OK")
    job_ids = [learner.measure_url.delay(url).id, learner.measure_url.delay(url).id]
    grading.run_queued_jobs()
    made = list(Task.objects.filter(url=url).exclude(id__in=[pending.id, measured.id]).values_list("id", flat=True))
    returned = [job_ran(job_id).finished and grading.fetch_job(job_id).return_value() for job_id in job_ids]
    if len(made) != 2 or set(returned) & {pending.id, measured.id}:
        grading.fail(
            f"Task {pending.id} (pending, somebody else's) and task {measured.id} (measured) existed for {url}; "
            f"your job, called twice in this process, made {len(made)} new task(s) and returned {returned}. "
            "Expected a new task for each call: a task is one request, whatever the URL and whatever ran before."
        )
    for job_id in job_ids:
        expect_its_own_task(job_id, url)
    pending.refresh_from_db()
    if pending.job_id or pending.result:
        grading.fail(f"Task {pending.id}, somebody else's, was changed by your job ({pending}); expected it untouched.")


def test_an_error_in_the_job_reaches_rq(learner, samples):
    """The task is deleted while the job fetches its page: measure() raises, and rq must see the job fail."""
    url = samples.url(3456)
    app, deleted = samples.counter.app, []

    def delete_the_task_first(environ, start_response):
        deleted.append(Task.objects.filter(url=url).delete()[0])  # somebody deletes it while its page is fetched
        connections.close_all()  # this server thread's connection
        return app(environ, start_response)

    samples.counter.app = delete_the_task_first
    try:
        job_id = learner.measure_url.delay(url).id
        grading.run_queued_jobs()
    finally:
        samples.counter.app = app
    run = job_ran(job_id)
    if not deleted or not deleted[0]:
        grading.fail(
            f"Your job {run}{' before it fetched the page' if not deleted else ', but no task for its URL existed'}; "
            f"expected it to create a task for {url} and then measure it."
        )
    if not run.failed:
        grading.fail(
            f"The task was deleted while your job fetched its page, so measure() could not save it and raised; "
            f"yet rq recorded {run.call} as {run.job_status}. Expected that error to reach rq (the job failed): "
            "a job that hides its errors is never seen failing, nor retried."
        )


def test_the_view_writes_nothing(browser, samples):
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):  # the request runs on this thread's connection
        job_id = post(browser, samples)
    tables = [model._meta.db_table for model in apps.get_app_config("tasks").get_models()]  # not the session's
    writes = [
        sql
        for sql in statements
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) and any(table in sql for table in tables)
    ]
    if writes:
        grading.fail(
            f"During the request your view wrote to the database ({writes[0][:60]}...), even if nothing of it was "
            "left; expected the view to write nothing and the job to create the task."
        )
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
