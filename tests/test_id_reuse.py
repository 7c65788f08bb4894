"""A rolled-back task's id is never given to another task, on SQLite as on PostgreSQL.

Otherwise the job a failed request left behind (enqueued before its rollback,
the article's bug) finds the *next* learner's task under that id and measures
it: that page is fetched twice, and the orphan does not fail with
DoesNotExist as the lessons say. Real web, real worker, real rollback.
"""

import time

import django_rq
import pytest
from django.db import transaction

from lab.core import web
from lab.core.outcomes import failures, wait_for
from lab.lessons.barrier import settle
from workshop_project.tasks.models import Task


class Rollback(Exception):
    pass


@transaction.atomic
def create_then_roll_back(created):
    created.append(Task.objects.create(url="http://example.com/").id)
    raise Rollback


@pytest.mark.django_db(transaction=True)
def test_an_id_rolled_back_is_not_used_again():
    created = []
    with pytest.raises(Rollback):
        create_then_roll_back(created)
    (rolled_back,) = created
    assert Task.objects.create(url="http://example.com/").id != rolled_back


def test_the_orphaned_job_of_a_failed_request_finds_no_other_task(live_stack):
    django_rq.get_queue("default", commit_mode="auto").enqueue(time.sleep, 2)  # the worker is busy...
    failed = web.submit("broken", fail=True)  # ...while this request enqueues, then rolls back
    assert failed.status_code == 500
    victim = web.submit("on_commit")  # the next task: must not get the rolled-back id
    assert wait_for(task_id=victim.task_id, timeout=30).status == "OK"
    settle()
    orphans = [failure for failure in failures() if failure.func_name.endswith("get_url_length")]
    assert len(orphans) == 1, (
        f"the failed request's job should fail with DoesNotExist; it found task {victim.task_id} instead"
    )
    assert orphans[0].missed_its_row, orphans[0]
    assert orphans[0].args != (victim.task_id,)
