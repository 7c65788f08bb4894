"""The transactional outbox: the variant's request, the relay, and a real Redis outage.

Everything is real: the view runs in its request's transaction, the relay
(``workshop_project.tasks.outbox``) enqueues on a real Redis, a real rq
worker runs the jobs, and "exactly once" is counted where it matters: how
often each task's page was fetched.
"""

import os
import sys
import time

import django_rq
import pytest
import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client, override_settings

from lab import testing
from lab.core import fixtures, relaying, web
from lab.grader import grading
from lab.stack import relay as stack_relay
from workshop_project.tasks import outbox
from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Outbox, Task

from .conftest import process_env

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

#: The queue these tests' rows name: the session's live relay (tests/conftest.py) relays
#: "default" only, so it never takes a row from under a test. Same Redis as "default".
QUEUE = "outbox-tests"


@pytest.fixture(autouse=True)
def own_queue():
    queues = {**settings.RQ_QUEUES, QUEUE: settings.RQ_QUEUES["default"]}
    with override_settings(RQ_QUEUES=queues, WORKSHOP_OUTBOX_QUEUE=QUEUE):
        yield


def queued():
    return grading.queued_job_ids(QUEUE)


def run_jobs(**options):
    return grading.run_queued_jobs(QUEUE, **options)


@pytest.fixture(scope="module")
def pages():
    with fixtures.sample_pages() as served:
        yield served


@pytest.fixture
def samples(pages):
    pages.reset()
    return pages


def start_tasks(samples, count, first=3000):
    """``count`` tasks and their outbox rows, each in its own committed transaction (a request's)."""
    tasks = []
    for n in range(count):
        with transaction.atomic():
            task = Task.objects.create(url=samples.url(first + n))
            outbox.add(get_url_length, task.id)
        tasks.append(task)
    return tasks


def fetch_counts(tasks, samples):
    return {task.id: samples.fetches(task.url) for task in tasks}


def test_the_request_writes_its_task_and_row_and_enqueues_nothing(samples):
    client = Client(HTTP_HOST="localhost", raise_request_exception=False)
    ok = client.post(web.page_path("outbox"), {"url": samples.url(1200)})
    failed = client.post(web.page_path("outbox"), {"url": samples.url(1201), "fail": "on"})
    assert (ok.status_code, failed.status_code) == (302, 500)
    task = Task.objects.get()
    row = Outbox.objects.get()
    expected = (samples.url(1200), outbox.dotted_path(get_url_length), [task.id], None, QUEUE)
    assert (task.url, row.func, row.args, row.sent_on, row.queue) == expected
    assert queued() == [], "the request itself must not talk to Redis"


def test_the_relay_sends_each_row_once_and_the_job_finds_its_task(samples):
    tasks = start_tasks(samples, 5)
    first, second = stack_relay.relay_once(), stack_relay.relay_once()
    assert (first.sent, second.sent) == (5, 0), (first, second)
    assert sorted(queued()) == sorted(row.job_id for row in Outbox.objects.all())
    run_jobs()
    assert fetch_counts(tasks, samples) == {task.id: 1 for task in tasks}
    assert set(Task.objects.values_list("result", flat=True)) == {"OK"}


def test_two_relays_at_once_send_each_row_once(samples, django_db_blocker):
    tasks = start_tasks(samples, 10)
    both = relaying.two_relays_at_once(stack_relay.relay_once)
    assert (both.first.error, both.second.error) == (None, None)
    assert both.first.result.marked + both.second.result.marked == 10, (both.first.result, both.second.result)
    assert both.first.result.duplicates + both.second.result.duplicates == 0
    if outbox.can_skip_locked():  # PostgreSQL: the second skipped the first's rows, it did not wait
        assert both.overlapped, "the second relay waited for the first instead of skipping its rows"
    else:  # SQLite: no row locks; the relays took turns on the database's write lock
        assert not both.overlapped
    run_jobs()
    assert fetch_counts(tasks, samples) == {task.id: 1 for task in tasks}


def test_a_crash_between_enqueue_and_mark_resends_without_a_second_run(samples):
    tasks = start_tasks(samples, 3)
    with relaying.crash_before_mark() as crashes, pytest.raises(relaying.SimulatedCrash):
        stack_relay.relay_once()
    assert crashes
    assert Outbox.objects.filter(sent_on__isnull=True).count() == 3, "the crash rolled the marks back"
    assert len(queued()) == 3, "but the jobs were enqueued"
    resend = stack_relay.relay_once()
    assert (resend.sent, resend.duplicates) == (0, 3), resend
    assert len(queued()) == 3
    run_jobs()
    assert fetch_counts(tasks, samples) == {task.id: 1 for task in tasks}


def test_a_poison_row_stops_at_the_limit_and_blocks_nothing(samples):
    poison = Outbox.objects.create(queue=QUEUE, func="workshop_project.tasks.jobs.renamed_long_ago", args=[1])
    tasks = start_tasks(samples, 2)
    passes = [stack_relay.relay_once(max_attempts=3) for _ in range(5)]
    poison.refresh_from_db()
    assert (poison.attempts, poison.sent_on) == (3, None)
    assert "renamed_long_ago" in poison.last_error
    assert [done.failed for done in passes] == [1, 1, 1, 0, 0]
    assert passes[0].sent == 2
    run_jobs()
    assert fetch_counts(tasks, samples) == {task.id: 1 for task in tasks}


POISON_MODULE = "outbox_poison_row_module"


@pytest.mark.parametrize("raised", ["SystemExit(3)", "BaseException('not an Exception')"])
def test_a_row_whose_import_raises_anything_is_its_own_failed_attempt(samples, tmp_path, monkeypatch, raised):
    """A module that ends the process on import (SystemExit is no Exception) once stopped the
    relay on every pass; now the relay never imports what a row names: it is refused."""
    (tmp_path / f"{POISON_MODULE}.py").write_text(f"raise {raised}\n")
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.delitem(sys.modules, POISON_MODULE, raising=False)
    poison = Outbox.objects.create(queue=QUEUE, func=f"{POISON_MODULE}.job", args=[1])
    tasks = start_tasks(samples, 2)
    done = stack_relay.relay_once()
    poison.refresh_from_db()
    assert (done.sent, done.failed) == (2, 1), done
    assert (poison.attempts, poison.sent_on) == (1, None)
    assert "is not a registered job" in poison.last_error, poison.last_error
    assert POISON_MODULE not in sys.modules, "the relay imported the row's module"
    run_jobs()
    assert fetch_counts(tasks, samples) == {task.id: 1 for task in tasks}


def test_a_row_may_name_only_a_registered_job(samples, tmp_path):
    """``Outbox.func`` is data (the admin edits it): naming ``os.system`` must not run a shell command."""
    witness = tmp_path / "ran"
    row = Outbox.objects.create(queue=QUEUE, func="os.system", args=[f"touch {witness}"])
    done = stack_relay.relay_once()
    row.refresh_from_db()
    assert (done.sent, done.failed, queued()) == (0, 1, []), done
    assert row.last_error.startswith("UnknownJob: 'os.system' is not a registered job"), row.last_error
    assert outbox.dotted_path(get_url_length) in row.last_error, "the sentence names the jobs a row may name"
    run_jobs()
    assert not witness.exists()
    with pytest.raises(ValidationError, match="'os.system' is not a registered job"):
        row.full_clean()  # what the admin's form runs
    with pytest.raises(ValueError, match="is not a registered job"):
        outbox.add(os.system, "true")
    assert Outbox(queue=QUEUE, func=outbox.dotted_path(get_url_length), args=[1]).full_clean() is None


def test_a_row_for_an_unknown_queue_says_so_and_the_relay_goes_on(samples):
    stray = Outbox.objects.create(queue="no-such-queue", func=outbox.dotted_path(get_url_length), args=[1])
    tasks = start_tasks(samples, 2)
    first, second = stack_relay.relay_once(), stack_relay.relay_once()
    stray.refresh_from_db()
    assert (first.sent, first.unknown_queue, second.unknown_queue) == (2, 1, 0), (first, second)
    assert (stray.attempts, stray.sent_on) == (0, None), "another relay that knows the queue may still send it"
    assert stray.last_error.startswith("Unknown queue 'no-such-queue'"), stray.last_error
    assert "not in RQ_QUEUES" in stray.last_error
    with pytest.raises(ValidationError, match="Unknown queue 'no-such-queue'"):
        stray.full_clean()
    run_jobs()
    assert fetch_counts(tasks, samples) == {task.id: 1 for task in tasks}


def test_rows_wait_while_redis_is_down_without_counting_attempts(samples):
    tasks = start_tasks(samples, 3)
    with fixtures.redis_down(QUEUE):
        down = stack_relay.relay_once()
    assert down.redis_error, down
    assert down.marked == 0, down
    assert list(Outbox.objects.values_list("attempts", "sent_on")) == [(0, None)] * 3
    assert stack_relay.relay_once().sent == 3
    run_jobs()
    assert fetch_counts(tasks, samples) == {task.id: 1 for task in tasks}


def test_sent_rows_are_cleaned_after_the_retention(samples):
    start_tasks(samples, 2)
    stack_relay.relay_once()
    start_tasks(samples, 1, first=3100)
    assert stack_relay.clean() == 0
    Outbox.objects.filter(sent_on__isnull=False).update(sent_on=Outbox.objects.first().created_on - outbox.RETENTION)
    assert stack_relay.clean() == 2
    assert Outbox.objects.count() == 1


# --- The reliability test: Redis really stopped while requests keep coming --------------

REQUESTS = 200
OUTAGE = "outage"


@pytest.fixture
def report(request):
    """Figures printed at the end of the session (they go into the closing note)."""
    lines = []
    yield lines
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if lines and reporter:
        with capture.global_and_fixture_disabled():
            reporter.write_line("\noutbox under a Redis outage:\n" + "\n".join(f"  {line}" for line in lines))


@pytest.mark.slow
def test_requests_during_a_redis_outage_each_run_exactly_once(samples, report):
    """200 requests arrive over HTTP while the queue's Redis is stopped; then it comes back."""
    with relaying.StoppableRedis() as outage_redis:
        queues = {**settings.RQ_QUEUES, OUTAGE: {"URL": outage_redis.url, "DEFAULT_TIMEOUT": 60}}
        web_env = process_env(WORKSHOP_OUTBOX_QUEUE=OUTAGE)
        with testing.web_server(web_env) as web_url, override_settings(RQ_QUEUES=queues, WORKSHOP_WEB_URL=web_url):
            relay = stack_relay.Relay(interval=0.1, queues=[OUTAGE]).start()
            try:
                outage_redis.stop()
                started = time.perf_counter()
                session = requests.Session()
                submissions = [
                    web.submit("outbox", url=samples.url(1000 + n), session=session) for n in range(REQUESTS)
                ]
                requests_seconds = time.perf_counter() - started
                assert [s.status_code for s in submissions] == [302] * REQUESTS
                waiting = Outbox.objects.filter(queue=OUTAGE, sent_on__isnull=True).count()
                assert waiting == REQUESTS, "every request's row waits in the outbox"
                outage_passes = relay.passes
                assert outage_passes > 0
                assert relay.totals.marked == 0
                assert not Outbox.objects.filter(attempts__gt=0).exists(), "an outage is not the rows' fault"

                outage_redis.start()
                back = time.perf_counter()
                testing.wait_until(
                    lambda: not Outbox.objects.filter(queue=OUTAGE, sent_on__isnull=True).exists(),
                    "the relay's drain",
                    timeout=120,
                )
                drained = time.perf_counter() - back
            finally:
                relay.stop()
            queued_jobs = django_rq.get_queue(OUTAGE).count
            grading.run_queued_jobs(OUTAGE, timeout=300)  # a real worker, on the Redis that came back
    tasks = list(Task.objects.filter(id__in=[s.task_id for s in submissions]))
    counts = fetch_counts(tasks, samples)
    duplicates = sum(count - 1 for count in counts.values() if count > 1)
    measured = sum(1 for count in counts.values() if count)
    report += [
        f"requests while Redis was stopped: {REQUESTS} in {requests_seconds:.1f} s, all answered 302",
        f"outbox rows waiting: {waiting}; relay passes meanwhile: {outage_passes}, none sent, no attempt counted",
        f"Redis back: the relay drained {waiting} rows in {drained:.2f} s; jobs in the queue: {queued_jobs}",
        f"tasks measured: {measured}, page fetches: {sum(counts.values())}, duplicates: {duplicates}",
    ]
    assert len(tasks) == REQUESTS
    assert queued_jobs == REQUESTS
    assert counts == {task.id: 1 for task in tasks}
    assert {task.result for task in tasks} == {"OK"}
