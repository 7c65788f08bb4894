"""Lesson 12's helpers (lab/lessons/production.py) on real servers: a throwaway Redis never outlives
the kernel that started it, and the health numbers count what rq's registries hold."""

import math
import os
import subprocess
import sys

import psutil
from django.conf import settings
from rq import Queue

from lab.lessons import production


def test_a_scratch_redis_left_open_stops_with_the_kernel_that_started_it():
    code = "from lab.lessons import production; s = production.ScratchRedis(); print(s.process.pid, s.folder)"
    said = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    pid, folder = int(said[0]), said[1]
    alive = psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    if alive:
        psutil.Process(pid).kill()
    assert not alive, f"the lesson's redis-server {pid} outlived its kernel"
    assert not os.path.exists(folder), f"its folder {folder} was left behind"


def test_queue_health_counts_queued_and_failed_jobs_and_workers():
    with production.ScratchRedis() as scratch:
        queue = Queue("health", connection=scratch.redis)
        queue.enqueue(math.sqrt, -1)  # ValueError: math domain error
        assert production.run_burst(queue) is True
        queue.enqueue(math.sqrt, 4)
        health = production.queue_health(queue)
        assert (health.queued, health.failed, health.started, health.workers) == (1, 1, 0, 0), health
        assert health.oldest_queued_seconds >= 0
