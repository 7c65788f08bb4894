"""Grades exercise 02: the job finds its row; a failure inside the block leaves no row and no job."""

from lab.grader import grading
from lab.grader.grading import page_path
from workshop_project.tasks.models import Task

PAGE = page_path("ex02_non_atomic")


def test_the_worker_finds_its_row(browser, samples, amp):
    response = grading.post_form(browser, PAGE, samples.url())
    if len(amp.job_ids) != 1:
        grading.fail(f"The request enqueued {len(amp.job_ids)} jobs; expected exactly one.")
    grading.expect_found(grading.job_run(amp.job_ids[0]), grading.task_id_of(response))


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
            "expected no job: enqueue only after the block has committed."
        )
    if rows:
        grading.fail(f"A request that failed left task {rows[0]} behind; expected the failure to roll it back.")
    # Nothing was left behind: and a request that succeeds still starts its job?
    grading.post_form(browser, PAGE, samples.url())
    if len(amp.job_ids) != 1:
        grading.fail(f"A request that succeeds enqueued {len(amp.job_ids)} jobs; expected exactly one.")
