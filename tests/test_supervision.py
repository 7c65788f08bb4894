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
def supervised_worker(private_redis, transactional_db, tmp_path):
    """``bin/run worker`` on the private Redis, watching a folder of this test only."""
    watched = tmp_path / "watched"
    watched.mkdir()
    (watched / "module.py").write_text("")
    env = process_env(REDIS_URL=private_redis["url"], WORKSHOP_WATCH=str(watched))
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


def test_two_quick_saves_then_twenty_jobs_all_run(supervised_worker):
    """A job outlasts the warm shutdown's grace, so the restart has to SIGKILL: nothing of the
    old worker (scheduler, horse) may still run when the new one starts, and the next 20 jobs
    all run. (An orphaned scheduler holding the dead worker's Redis connection is what moved
    jobs into rq:queue:default:intermediate, never to run.)"""
    queue = supervised_worker["queue"]
    (first,) = live_workers(queue)
    job = queue.enqueue(time.sleep, 8)
    wait_until(lambda: Job.fetch(job.id, connection=queue.connection).get_status() == JobStatus.STARTED, "job start")
    old = descendants(first.pid)
    assert old, "rq's scheduler and work horse should run below the worker"
    module = supervised_worker["watched"] / "module.py"
    module.write_text("# first save\n")
    time.sleep(0.5)  # the fault itself: a second save half a second later (not a wait for anything)
    module.write_text("# second save\n")
    wait_until(lambda: [w for w in live_workers(queue) if w.pid != first.pid], "the restarted worker")
    survivors = [pid for pid in old if alive(pid)]
    assert not survivors, f"processes of the old worker outlived the restart (orphans): {survivors}"
    assert runs(queue, 20) == 20, (
        f"not every job ran after two quick saves; stuck in the intermediate queue: "
        f"{queue.connection.llen('rq:queue:default:intermediate')}"
    )
    assert queue.connection.llen("rq:queue:default:intermediate") == 0
