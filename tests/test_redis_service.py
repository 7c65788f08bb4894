"""``bin/run redis``: the stack's Redis keeps its queue across a restart, and never shares
itself with another workshop; the grader's clean-up deletes only rq's keys.

Real redis-server processes started by ``bin/run redis`` on free ports, with a
data folder of the test's own.
"""

import contextlib
import os
import signal
import subprocess

import django_rq
import pytest
import redis
from rq import Queue

from lab import testing
from lab.core.outcomes import clear_jobs
from lab.lessons.barrier import marker

BASE_DIR = testing.BASE_DIR


@contextlib.contextmanager
def bin_run_redis(port, data_dir):
    env = testing.django_env(REDIS_PORT=port, WORKSHOP_DATA_DIR=data_dir)
    env.pop("REDIS_URL", None)  # the port decides, as in local mode
    process = subprocess.Popen(
        ["bin/run", "redis"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def answers(port):
    def ping():
        return redis.Redis(port=port, socket_connect_timeout=1).ping()

    testing.wait_until(ping, f"bin/run redis on port {port}")


def test_queued_jobs_survive_a_restart_of_the_stacks_redis(tmp_path):
    port = testing.free_port()
    with bin_run_redis(port, tmp_path) as server:
        answers(port)
        queue = Queue("default", connection=redis.Redis(port=port))
        job = queue.enqueue(marker)
        os.killpg(server.pid, signal.SIGTERM)
        assert server.wait(20) == 0
    with bin_run_redis(port, tmp_path):
        answers(port)
        queue = Queue("default", connection=redis.Redis(port=port))
        assert queue.job_ids == [job.id], "the queued job did not survive the restart"


def test_it_refuses_a_redis_that_is_not_this_workshops(tmp_path):
    port = testing.free_port()
    with testing.redis_server(port=port), bin_run_redis(port, tmp_path) as process:
        try:
            out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("bin/run redis kept running on another Redis: its workers would take this workshop's jobs")
    assert process.returncode == 1
    assert f"Another Redis already answers on port {port}" in err, err


def test_it_uses_this_workshops_own_redis_when_it_already_runs(tmp_path):
    port = testing.free_port()
    with bin_run_redis(port, tmp_path):
        answers(port)
        with bin_run_redis(port, tmp_path) as second:
            line = second.stdout.readline()
            assert "This workshop's Redis already answers" in line, line
            assert second.poll() is None


def test_the_graders_clean_up_deletes_only_rqs_keys():
    connection = django_rq.get_connection("default")
    connection.set("myapp:session:15", "someone else's")
    django_rq.get_queue("default").enqueue(marker)
    try:
        clear_jobs()
        assert connection.get("myapp:session:15") == b"someone else's", "clear_jobs deleted a key that is not rq's"
        assert [key for key in connection.scan_iter(match="rq:queue:*")] == []
    finally:
        connection.delete("myapp:session:15")
