"""Grades exercise 02: the job finds its row; a failure inside the block leaves no row and no job;
the view answers with its task and its job; and only this view leaves the request's transaction."""

from lab.grader import grading
from lab.grader.grading import page_path
from workshop_project.tasks.models import Task
from workshop_project.tasks.views import JOB_ID_HEADER, TaskFormView

PAGE = page_path("ex02_non_atomic")
BROKEN = page_path("broken")  # another page of the app: it must keep ATOMIC_REQUESTS


def test_the_worker_finds_its_row(browser, samples, amp):
    response = grading.post_form(browser, PAGE, samples.url())
    if len(amp.job_ids) != 1:
        grading.fail(f"The request enqueued {len(amp.job_ids)} jobs; expected exactly one.")
    task_id = grading.task_id_of(response)
    grading.expect_found(grading.job_run(amp.job_ids[0]), task_id)
    answered = response.get(JOB_ID_HEADER, "")
    if answered != amp.job_ids[0]:
        grading.fail(
            f"Your view answered with job {answered or 'none'} ({JOB_ID_HEADER}), but the job enqueued for task "
            f"{task_id} was {amp.job_ids[0]}; expected the view to enqueue it itself and answer "
            "self.started(task=task, job=job).",
            cause="job_not_in_answer",
        )


def test_a_failure_inside_the_block_leaves_no_row_and_no_job(browser, samples, amp):
    grading.post_form(browser, PAGE, samples.url(), failing=True)
    rows = list(Task.objects.values_list("id", flat=True))
    jobs = grading.runs(amp.job_ids)
    if rows and jobs:
        grading.fail(
            f"A request that failed left task {rows[0]} behind and enqueued {jobs[0].call}; "
            "expected no row and no job: "
            "put the work that can fail inside the atomic() block, and enqueue after it."
        )
    if jobs:
        grading.fail(
            f"A request that failed still enqueued {jobs[0].call} (the worker said: {jobs[0]}); "
            "expected no job: enqueue only after the block has committed.",
            cause="enqueue_in_the_block",
        )
    if rows:
        grading.fail(f"A request that failed left task {rows[0]} behind; expected the failure to roll it back.")
    # Nothing was left behind: and a request that succeeds still starts its job?
    grading.post_form(browser, PAGE, samples.url())
    if len(amp.job_ids) != 1:
        grading.fail(f"A request that succeeds enqueued {len(amp.job_ids)} jobs; expected exactly one.")


def test_only_this_view_leaves_the_request_transaction(browser, samples, amp):
    """ "For this one view": the app's other pages still run in the request's transaction (the article's race)."""
    response = grading.post_form(browser, PAGE, samples.url())  # your view first: whatever it changes is in place
    grading.expect_found(
        grading.job_run(grading.expect_one(amp.job_ids, "For one request")), grading.task_id_of(response)
    )
    fresh = TaskFormView.as_view()  # a page made now from the app's shared view, as each exercise's page is
    if getattr(fresh, "_non_atomic_requests", None):
        grading.fail(
            "With your file loaded, a page made now from the app's shared TaskFormView is marked non_atomic_requests "
            f"({sorted(fresh._non_atomic_requests)}): every such page loses the request's transaction. Expected only "
            'your view marked: @method_decorator(transaction.non_atomic_requests, name="dispatch") on your class.',
            cause="not_this_view_only",
        )
    grading.post_form(browser, BROKEN, samples.url())
    broken = grading.job_run(amp.job_ids[-1])
    if not broken.missed_its_row:
        grading.fail(
            f"With your file loaded, the app's broken page ({BROKEN}) no longer runs in the request's transaction: "
            f"its job {broken}, before that request committed. Expected only your view to leave ATOMIC_REQUESTS "
            "(non_atomic_requests on this one view), not every view of the project.",
            cause="not_this_view_only",
        )
