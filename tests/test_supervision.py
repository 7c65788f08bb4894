"""The worker is supervised: it comes back after it dies, and a restart leaves no orphan.

A real ``bin/run worker`` (the supervisor, rq and its scheduler) on a private
Redis this test can stop and start again; real faults: SIGKILL, Redis gone
while a job finishes, two file saves 0.5 s apart.
"""

import contextlib
import os
import signal
import subprocess
import time
from datetime import timedelta

import pytest
import redis
from rq import Queue, Worker
from rq.job import Job, JobStatus

from lab import testing
from lab.lessons.barrier import marker
from tests.conftest import process_env

BASE_DIR = testing.BASE_DIR
DEADLINE = 60.0


def wait_until(condition, what, timeout=DEADLINE):
    testing.wait_until(condition, what, timeout=timeout)


@pytest.fixture
def private_redis():
    """A redis-server of this test's own, on a fixed port so it can be stopped and started again."""
    port = testing.free_port()
    stack = contextlib.ExitStack()
    holder = {"stack": stack}

    def start():
        holder["url"] = stack.enter_context(testing.redis_server(port=port))
        return holder["url"]

    def stop():
        stack.close()

    holder.update(start=start, stop=stop, port=port)
    start()
    yield holder
    stack.close()


def queue_on(url):
    # The worker runs the test settings: its queue lives on database 15 of REDIS_URL.
    return Queue("default", connection=redis.Redis.from_url(url.rsplit("/", 1)[0] + "/15"))


@pytest.fixture
def worker_env():
    """Extra environment for the supervised worker (a test parametrizes it)."""
    return {}


@pytest.fixture
def supervised_worker(private_redis, transactional_db, tmp_path, worker_env):
    """``bin/run worker`` on the private Redis, watching a folder of this test only."""
    watched = tmp_path / "watched"
    watched.mkdir()
    (watched / "module.py").write_text("")
    env = process_env(REDIS_URL=private_redis["url"], WORKSHOP_WATCH=str(watched), **worker_env)
    env.pop("TEST_REDIS_URL", None)
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        ["bin/run", "worker"], cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    queue = queue_on(private_redis["url"])
    try:
        wait_until(lambda: live_workers(queue), "the supervised worker")
        yield {"process": process, "queue": queue, "watched": watched, "log": tmp_path / "worker.log"}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"
    return True


def live_workers(queue):
    """Registered workers whose process is still alive (a killed worker stays registered for a while)."""
    return [worker for worker in Worker.all(connection=queue.connection) if alive(worker.pid)]


def runs(queue, count=1):
    """Enqueue ``count`` do-nothing jobs; return how many finished before the deadline."""
    jobs = [queue.enqueue(marker) for _ in range(count)]
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        statuses = [job.get_status(refresh=True) for job in jobs]
        if all(status in (JobStatus.FINISHED, JobStatus.FAILED) for status in statuses):
            break
        time.sleep(0.05)
    return sum(job.get_status(refresh=True) == JobStatus.FINISHED for job in jobs)


def test_a_killed_worker_comes_back(supervised_worker):
    queue = supervised_worker["queue"]
    (first,) = live_workers(queue)
    os.kill(first.pid, signal.SIGKILL)
    wait_until(lambda: [w for w in live_workers(queue) if w.pid != first.pid], "a new worker after SIGKILL")
    assert runs(queue) == 1, "a job submitted after the worker was killed did not run"


def test_the_worker_comes_back_after_redis_went_away_while_a_job_finished(supervised_worker, private_redis):
    queue = supervised_worker["queue"]
    (first,) = live_workers(queue)
    job = queue.enqueue(time.sleep, 2)
    wait_until(lambda: Job.fetch(job.id, connection=queue.connection).get_status() == JobStatus.STARTED, "job start")
    private_redis["stop"]()  # the job finishes while Redis is gone
    wait_until(lambda: not alive(first.pid), "the worker to quit on the lost connection", timeout=30)
    private_redis["start"]()
    assert runs(queue) == 1, "a job submitted after Redis came back did not run: the worker did not come back"


def descendants(pid):
    """Every process below ``pid`` (rq's scheduler, and the work horse while a job runs)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as stat:
                parents[int(entry)] = int(stat.read().split(")")[-1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def status_of(job, queue):
    return Job.fetch(job.id, connection=queue.connection).get_status()


def save_twice(module):
    module.write_text("# first save\n")
    time.sleep(0.5)  # the fault itself: a second save half a second later (not a wait for anything)
    module.write_text("# second save\n")


def test_two_quick_saves_during_a_job_wait_for_it_then_twenty_jobs_all_run(supervised_worker):
    """A save while a job runs is a warm shutdown: the job (8 s, longer than the old 5 s grace)
    finishes, then the worker restarts; nothing of the old worker (scheduler, horse) outlives it,
    and the next 20 jobs all run. (The old restart SIGKILLed the horse: task pending for ever.)"""
    queue = supervised_worker["queue"]
    (first,) = live_workers(queue)
    job = queue.enqueue(time.sleep, 8)
    wait_until(lambda: status_of(job, queue) == JobStatus.STARTED, "job start")
    old = descendants(first.pid)
    assert old, "rq's scheduler and work horse should run below the worker"
    save_twice(supervised_worker["watched"] / "module.py")
    wait_until(lambda: [w for w in live_workers(queue) if w.pid != first.pid], "the restarted worker")
    assert status_of(job, queue) == JobStatus.FINISHED, "the job in hand did not finish before the restart"
    survivors = [pid for pid in old if alive(pid)]
    assert not survivors, f"processes of the old worker outlived the restart (orphans): {survivors}"
    assert runs(queue, 20) == 20, (
        f"not every job ran after two quick saves; stuck in the intermediate queue: "
        f"{queue.connection.llen(queue.intermediate_queue_key)}"
    )
    assert queue.connection.llen(queue.intermediate_queue_key) == 0


@pytest.mark.parametrize("worker_env", [{"WORKSHOP_RESTART_GRACE": "1"}])
def test_a_job_that_outlasts_the_restart_grace_is_requeued_not_left_started(supervised_worker):
    queue = supervised_worker["queue"]
    (first,) = live_workers(queue)
    job = queue.enqueue(time.sleep, 8)
    wait_until(lambda: status_of(job, queue) == JobStatus.STARTED, "job start")
    (supervised_worker["watched"] / "module.py").write_text("# saved while the job runs\n")
    wait_until(lambda: [w for w in live_workers(queue) if w.pid != first.pid], "the restarted worker")
    wait_until(lambda: status_of(job, queue) == JobStatus.FINISHED, "the requeued job to run again and finish")
    assert job.id not in queue.started_job_registry


def blocked_in_blmove(connection):
    return any(client.get("cmd") == "blmove" for client in connection.client_list())


def test_a_job_enqueued_just_after_a_kill_is_not_swallowed(supervised_worker):
    """The killed worker's BLMOVE must die with it: a job enqueued at once goes to the next worker,
    not into rq's intermediate queue (the scheduler child, forked from the worker, held its socket)."""
    queue = supervised_worker["queue"]
    (first,) = live_workers(queue)
    wait_until(lambda: blocked_in_blmove(queue.connection), "the worker waiting for a job")
    os.kill(first.pid, signal.SIGKILL)
    job = queue.enqueue(marker)  # at once: the window the review found (0.07-0.13 s after the kill)
    wait_until(lambda: status_of(job, queue) == JobStatus.FINISHED, "the job enqueued just after the kill")
    assert queue.connection.llen(queue.intermediate_queue_key) == 0


def test_a_job_a_dead_worker_left_in_the_intermediate_queue_runs_after_the_restart(supervised_worker):
    """Redis moved a job to the worker (BLMOVE), then the worker died before starting it: the
    next worker moves it back at once (rq's own clean-up would fail it, a minute later at best)."""
    queue = supervised_worker["queue"]
    (first,) = live_workers(queue)
    wait_until(lambda: blocked_in_blmove(queue.connection), "the worker waiting for a job")
    os.kill(first.pid, signal.SIGSTOP)  # frozen in its BLMOVE: Redis still hands it the next job
    try:
        job = queue.enqueue(marker)
        wait_until(lambda: queue.connection.llen(queue.intermediate_queue_key) == 1, "the job handed to the worker")
    finally:
        os.kill(first.pid, signal.SIGKILL)
    wait_until(lambda: status_of(job, queue) == JobStatus.FINISHED, "the job the dead worker was handed")
    assert queue.connection.llen(queue.intermediate_queue_key) == 0


def scheduler_alive(connection):
    return bool(connection.keys("rq:scheduler-lock:*"))


def test_the_scheduler_comes_back_promptly_after_a_redis_outage(supervised_worker, private_redis):
    """rq's scheduler process dies on the lost connection and rq starts it again only at its next
    maintenance (10 minutes): a job scheduled after Redis came back waited that long."""
    queue = supervised_worker["queue"]
    (first,) = live_workers(queue)
    wait_until(lambda: scheduler_alive(queue.connection), "rq's scheduler")
    wait_until(lambda: blocked_in_blmove(queue.connection), "the worker waiting for a job (past its start-up)")
    private_redis["stop"]()
    wait_until(lambda: not [pid for pid in descendants(first.pid) if alive(pid)], "the scheduler to die with Redis")
    private_redis["start"]()
    job = queue.enqueue_in(timedelta(seconds=5), marker)
    wait_until(lambda: status_of(job, queue) == JobStatus.FINISHED, "the job scheduled 5 s ahead")
    assert alive(first.pid), (
        "the idle worker should have waited Redis out: " + supervised_worker["log"].read_text()[-3000:]
    )


def test_a_job_whose_worker_is_killed_just_after_it_started_runs_once(supervised_worker):
    """The horse of a killed worker finishes its job; the next worker must not requeue that job
    meanwhile (a horse forked just before the kill is an orphan the supervisor had not seen yet:
    it adopts orphans now, as a child subreaper, and waits for them)."""
    queue = supervised_worker["queue"]
    (first,) = live_workers(queue)
    job = queue.enqueue(time.sleep, 10)  # still running when the next worker is up (a few seconds)
    wait_until(lambda: status_of(job, queue) == JobStatus.STARTED, "job start")
    os.kill(first.pid, signal.SIGKILL)  # at once: its horse is a few milliseconds old
    wait_until(lambda: [w for w in live_workers(queue) if w.pid != first.pid], "a new worker after SIGKILL")
    wait_until(lambda: status_of(job, queue) == JobStatus.FINISHED, "the job to finish")
    assert runs(queue) == 1, "a job submitted after the restart did not run"
    assert len(Job.fetch(job.id, connection=queue.connection).results()) == 1, "the job ran twice"
