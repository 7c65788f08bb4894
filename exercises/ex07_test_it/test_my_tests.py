"""Grades exercise 07 by mutation: your tests must pass on the on_commit view and fail on each broken copy.

Your test file runs once, in its own pytest process, against every version
of the view (see lab/grader/mutation.py for the broken copies); conftest.py beside
this file starts that run and gives its ``report`` to the checks below.
"""

from lab.grader import grading

WHAT_IT_DOES = {
    "premature_enqueue": "enqueues the job at once, before the commit (the article's bug)",
    "no_enqueue": "never enqueues the job",
    "wrong_id": "enqueues the job after the commit, for the wrong task id",
    "enqueue_twice": "enqueues the job twice after the commit",
    "wrong_function": "enqueues another function than get_url_length after the commit",
    "commits_a_failed_request": "catches a failing request's error and answers 500, so its transaction commits "
    "and its job is enqueued",
    "enqueue_now_and_at_the_commit": "registers the right callback and also enqueues the job at once, after the "
    "request's work (a job in the queue before the commit, two after it)",
    "enqueue_now_beside_another_callback": "enqueues the job at once, after the request's work, and registers an "
    "on_commit callback for something else (a log line)",
    "job_for_another_task": "saves the task twice, answers with the first and enqueues the job for the second "
    "(a task that exists, with the form's URL, but not the one the view created)",
}


def expect_passing_on_the_correct_view(report):
    if report["errors"]:
        grading.fail(f"pytest could not run your tests: {report['errors'][0]}")
    correct = report["results"]["correct"]
    if not correct["passed"] and not correct["failed"]:
        grading.fail("Your file has no tests that ran; expected at least one test function (named test_...).")
    if correct["failed"]:
        name, why = correct["failed"][0]
        grading.fail(f"{name} fails on the correct view ({why}); expected your tests to pass there.")


def expect_caught(report, mutant):
    expect_passing_on_the_correct_view(report)
    if not report["results"][mutant]["failed"]:
        grading.fail(
            f"All your tests pass on a view that {WHAT_IT_DOES[mutant]}; expected at least one of them to fail."
        )


def test_your_tests_pass_on_the_correct_view(report):
    expect_passing_on_the_correct_view(report)


def test_they_catch_an_enqueue_before_the_commit(report):
    expect_caught(report, "premature_enqueue")


def test_they_catch_a_view_that_never_enqueues(report):
    expect_caught(report, "no_enqueue")


def test_they_catch_the_wrong_task_id(report):
    expect_caught(report, "wrong_id")


def test_they_catch_a_view_that_enqueues_twice(report):
    expect_caught(report, "enqueue_twice")


def test_they_catch_the_wrong_function(report):
    expect_caught(report, "wrong_function")


def test_they_catch_a_job_for_a_request_that_failed(report):
    expect_caught(report, "commits_a_failed_request")


def test_they_catch_a_view_that_enqueues_now_and_at_the_commit(report):
    expect_caught(report, "enqueue_now_and_at_the_commit")


def test_they_catch_an_enqueue_before_the_commit_beside_another_callback(report):
    expect_caught(report, "enqueue_now_beside_another_callback")


def test_they_catch_a_job_for_another_task_that_exists(report):
    expect_caught(report, "job_for_another_task")


def test_they_leave_the_process_as_they_found_it(report):
    expect_passing_on_the_correct_view(report)
    if report["changed"]:
        named = "; ".join(report["changed"][:3])
        grading.fail(
            f"Your test file changed {named} in the process that runs it (when it was imported, or while a test "
            "ran); expected it to leave the process as it found it: a setting, a signal receiver or a patched "
            "class left behind changes every test that runs after it.",
            cause="changed_the_process",
        )
