"""The graders' vocabulary never crashes on a learner's value: each odd value gets a sentence.

Real Redis and a real database: a job is really enqueued and really run.
"""

import django_rq
import pytest
from rq.job import Job

from lab.core.amplifier import amplifier
from lab.grader import grading
from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

Verdict = pytest.fail.Exception  # what grading.fail raises: the check's sentence, no traceback


def sentence_for(call, *args):
    with pytest.raises(Verdict) as raised:
        call(*args)
    return str(raised.value.msg)


@pytest.mark.parametrize(
    "value",
    [None, "", "not-a-job-id", 42, b"bytes", ["a", "list"], object()],
    ids=["None", "empty", "not-a-job-id", "int", "bytes", "list", "object"],
)
def test_a_value_that_is_no_job_id_gets_a_sentence(value):
    for call in (grading.job_id_of, grading.job_run):
        sentence = sentence_for(call, value)
        assert sentence.endswith("."), sentence
        assert "job" in sentence


def test_a_model_instance_where_a_job_id_was_expected_gets_a_sentence():
    task = Task.objects.create(url="http://example.invalid/")
    sentence = sentence_for(grading.job_id_of, task, "reproduce()'s return value")
    assert sentence.startswith("reproduce()'s return value was <Task: Task"), sentence


def test_a_job_and_its_id_both_name_the_job():
    job = django_rq.get_queue("default").enqueue(get_url_length, 1)
    assert grading.job_id_of(job) == grading.job_id_of(job.id) == job.id
    assert isinstance(job, Job)


def run_now(*args):
    """Enqueue get_url_length and run it at once on another thread (the amplifier: the session's
    live worker, listening on this Redis database, never sees it)."""
    with amplifier():
        return get_url_length.delay(*args)


def test_a_wrong_id_is_named_before_the_race():
    task = Task.objects.create(url="http://example.invalid/")
    job = run_now(task.id + 1000)
    sentence = sentence_for(grading.expect_found, grading.job_run(job.id), task.id)
    assert sentence == (
        f"The job was enqueued as get_url_length({task.id + 1000}); expected it to be given the task's id, {task.id}."
    )


def test_a_row_that_never_got_committed_is_not_called_the_race():
    job = run_now(999_999)
    sentence = sentence_for(grading.expect_found, grading.job_run(job.id), 999_999)
    assert "does not exist even now" in sentence
    assert "before the task was committed" not in sentence


def test_an_error_on_the_workers_thread_is_raised_on_the_callers():
    from lab.core.amplifier import run_on_thread

    def fails():
        raise ValueError("signal only works in main thread of the main interpreter")

    with pytest.raises(ValueError, match="signal only works"):
        run_on_thread(fails, "learner-thread")


def test_a_job_redis_no_longer_holds_is_not_called_never_enqueued():
    """result_ttl=0: rq deletes the job as soon as it has run. The sentence says what was seen."""
    task = Task.objects.create(url="http://example.invalid/")
    with amplifier():
        job = django_rq.get_queue("default").enqueue(get_url_length, task.id, result_ttl=0)
    sentence = sentence_for(grading.job_run, job.id)
    assert sentence.startswith(f"Redis holds no job '{job.id}' now (never enqueued, or already deleted"), sentence
    assert "result_ttl=0" in sentence


def test_a_failure_carries_its_cause():
    with pytest.raises(Verdict) as raised:
        grading.fail("The job ran before the commit.", cause="called_delay_now")
    assert raised.value.cause == "called_delay_now"


def test_values_the_grader_cannot_compare_give_a_verdict_not_a_crash():
    """A grader sorting what a learner's jobs were given (Task instances: they do not sort)."""
    tasks = [Task.objects.create(url="http://example.invalid/") for _ in range(2)]
    with pytest.raises(TypeError) as raised:
        sorted(tasks)  # as a grader's own line would
    sentence = grading.describe_error(raised.value, raised.tb)
    assert sentence.startswith("Your answer gave the check something it could not use: TypeError: '<' not"), sentence
    assert "(while tests/test_grading.py, line" in sentence


def test_a_look_at_a_learners_value_inside_inspecting_gives_its_sentence():
    with pytest.raises(Verdict) as raised, grading.inspecting("the ids start_tasks() returned"):
        sorted([Task(url="a"), Task(url="b")])
    assert str(raised.value.msg).startswith("The check could not use the ids start_tasks() returned: TypeError")
    assert raised.value.cause == "unusable_value"


def test_a_row_on_another_database_is_named_in_order():
    """ "task on 'second'" is the row "task 7 on 'second'", not "task on 'second' 7"."""
    task = Task.objects.create(url="http://example.invalid/")
    job = run_now(task.id + 1000)
    with pytest.raises(Verdict) as raised:
        grading.expect_found(grading.job_run(job.id), task.id, model="task on 'second'")
    assert str(raised.value.msg).endswith(f"expected it to be given the id of task {task.id} on 'second'.")
    assert raised.value.cause == "wrong_id"
