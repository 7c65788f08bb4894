"""lab.grader.interleave places a second relay's claim inside the first relay's transaction, every time.

What it must show: a relay that lets its rows go before it marks them sends
them twice when a second relay claims in that window (not sometimes: every
run), while the project's relay, which claims, sends and marks in one
transaction, marks each row once, on SQLite and on PostgreSQL.
"""

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from rq.exceptions import DuplicateJobError

from lab.core import relaying
from lab.grader import interleave
from lab.stack import relay as stack_relay
from workshop_project.tasks import outbox
from workshop_project.tasks.models import Outbox

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

QUEUE = "interleave-tests"  # the session's live relay relays "default" only: it never takes these rows
TABLE = Outbox._meta.db_table


@pytest.fixture(autouse=True)
def own_queue():
    queues = {**settings.RQ_QUEUES, QUEUE: settings.RQ_QUEUES["default"]}
    with override_settings(RQ_QUEUES=queues, WORKSHOP_OUTBOX_QUEUE=QUEUE):
        yield


def waiting(count):
    for n in range(count):
        outbox.add("workshop_project.tasks.jobs.get_url_length", 10_000 + n)


def project_relay():
    return stack_relay.relay_once(queues=[QUEUE]).marked


def relay_marking_in_a_second_transaction():
    """Wrong on purpose: the claim's transaction ends before the mark, so its locks are gone by then."""
    with transaction.atomic():
        rows = list(stack_relay.claim(queues=[QUEUE]))
        for row in rows:
            try:
                stack_relay.send(row)
            except DuplicateJobError:
                pass
    with transaction.atomic():
        Outbox.objects.filter(pk__in=[row.pk for row in rows]).update(sent_on=timezone.now())
    return len(rows)


def is_claim(sql):
    return interleave.first_word(sql) == "select" and TABLE in sql.lower() and connection.in_atomic_block


@pytest.mark.parametrize(("window", "when"), [(is_claim, "after"), (relaying.is_mark, "before")], ids=["claim", "mark"])
def test_the_projects_relay_marks_each_row_once_whatever_the_window(window, when):
    waiting(5)
    both = interleave.at_once(project_relay, TABLE, window, when=when)
    assert [copy.error for copy in both.copies] == [None, None]
    assert both.first.paused, "relay A never reached its window"
    assert both.forced, "relay B never claimed (or waited for A's lock) while relay A stood at its window"
    assert both.first.result + both.second.result == 5
    assert not Outbox.objects.filter(queue=QUEUE, sent_on__isnull=True).exists()


def test_a_relay_that_marks_in_a_second_transaction_sends_every_row_twice_every_time():
    for _ in range(3):  # not a matter of luck
        Outbox.objects.all().delete()
        waiting(4)
        both = interleave.at_once(relay_marking_in_a_second_transaction, TABLE, relaying.is_mark, when="before")
        assert [copy.error for copy in both.copies] == [None, None]
        assert (both.first.result, both.second.result) == (4, 4)
    Outbox.objects.all().delete()
    waiting(4)
    one_after_the_other = [relay_marking_in_a_second_transaction(), relay_marking_in_a_second_transaction()]
    assert one_after_the_other == [4, 0], "run one after the other, the same relay looks right"
