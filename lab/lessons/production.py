"""Lesson 12's throwaway servers: production's settings, tried where nothing of the stack's is at risk.

A ``ScratchRedis`` is a real ``redis-server`` (or pip's ``valkey-server``, as for the test
suite) on a free port with a folder of its own: the lesson fills its memory, kills it and
starts it again. ``start_worker`` runs a real ``rq worker`` process (the forking ``Worker``,
rq's default and ``manage.py rqworker``'s) on it, which the lesson stops as a deploy does.
``queue_health`` reads, from rq's own registries, the numbers worth an alert.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import psutil
import redis
from rq import Queue, SimpleWorker, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry

from lab.testing import free_port, redis_binary, stop, wait_until

FILLER_BYTES = 10_000  # one cache entry
HEADROOM = 1_000_000  # bytes of maxmemory above what the empty server uses


class ScratchRedis:
    """A Redis of the lesson's own, on 127.0.0.1; ``close()`` (or the ``with`` block's end) removes it."""

    def __init__(self, appendonly: bool = False):
        self.appendonly = appendonly
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="workshop-lesson12-"))
        self.redis = redis.Redis(port=self.port)
        self.process: subprocess.Popen | None = None
        # A kernel restarted (or shut down) in the middle of the lesson stops its servers too.
        self._remove_folder = weakref.finalize(self, shutil.rmtree, self.folder, True)
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server on its folder: with ``appendonly``, it reads back its append-only file."""
        command = [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        command += ["--save", "", "--appendonly", "yes" if self.appendonly else "no"]  # no snapshots: AOF or nothing
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._stop_process = weakref.finalize(self, stop, self.process)
        wait_until(self.redis.ping, "the lesson's redis-server", process=self.process)

    def crash(self) -> None:
        """SIGKILL, as the out-of-memory killer or a lost machine ends it: no goodbye, no final write."""
        self.process.kill()
        self.process.wait()
        self.redis.connection_pool.disconnect()

    def limit_memory(self, policy: str) -> int:
        """``maxmemory`` a megabyte above what the server uses now, and ``maxmemory-policy``; returns the limit."""
        limit = int(self.redis.info("memory")["used_memory"]) + HEADROOM
        self.redis.config_set("maxmemory", limit)
        self.redis.config_set("maxmemory-policy", policy)
        return limit

    def fill(self, until=lambda: False, most: int = 20_000) -> int:
        """Write cache entries (as an app sharing the Redis would) until ``until()``; returns how many.

        An ``OutOfMemoryError`` (``noeviction``) is raised as Redis answers it."""
        for written in range(1, most + 1):
            self.redis.set(f"cache:{written}", b"x" * FILLER_BYTES)
            if until():
                return written
        raise RuntimeError(f"{most} cache entries written and the condition never held")

    def close(self) -> None:
        self._stop_process()
        self.redis.close()
        self._remove_folder()

    def __enter__(self) -> ScratchRedis:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def exists(job: Job) -> bool:
    """Does Redis still hold the job's data (its hash, ``rq:job:<id>``)?"""
    return bool(job.connection.exists(job.key))


class _QuietWorker(SimpleWorker):
    """A ``SimpleWorker`` that leaves the kernel's signal handlers alone (rq's would stay installed
    after ``work()`` returns, and a later interrupt or shutdown of the kernel would stop a worker)."""

    def _install_signal_handlers(self):
        pass


def run_burst(queue: Queue) -> bool:
    """Run every job queued on ``queue`` in this process, as ``rq worker --burst`` would; True if one ran."""
    return _QuietWorker([queue], connection=queue.connection).work(burst=True, logging_level="CRITICAL")


def start_worker(queue: Queue) -> subprocess.Popen:
    """A real ``rq worker`` process on ``queue`` (the forking ``Worker``); returned once it has registered."""
    before = {worker.name for worker in Worker.all(connection=queue.connection)}
    url = f"redis://127.0.0.1:{queue.connection.connection_pool.connection_kwargs['port']}/0"
    command = [str(Path(sys.executable).with_name("rq")), "worker", "--url", url, queue.name]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(
        lambda: {worker.name for worker in Worker.all(connection=queue.connection)} - before,
        "the rq worker",
        process=process,
    )
    return process


def wait_started(job: Job) -> None:
    wait_until(lambda: job.get_status(refresh=True) == "started", f"job {job.id} to start")


def stop_worker(process: subprocess.Popen, signum: signal.Signals) -> None:
    """Stop a worker as a deploy does. SIGTERM goes to the worker alone (its warm shutdown lets the
    work horse finish); SIGKILL goes to it and its work horse, as a container's end kills every process
    in it (the horse has a process group of its own, so killing the worker's would miss it)."""
    processes = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    if signum == signal.SIGTERM:
        process.send_signal(signum)
    else:
        for each in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                each.send_signal(signum)
    process.wait(timeout=60)
    psutil.wait_procs(processes, timeout=10)


def registry_deadline(registry: StartedJobRegistry, job: Job) -> float:
    """Seconds until ``job``'s entry in the started registry expires (its score is the expiry time)."""
    for member, score in registry.connection.zrange(registry.key, 0, -1, withscores=True):
        if member.decode().startswith(f"{job.id}:"):
            return score - time.time()
    raise LookupError(f"job {job.id} is not in {registry.key}")


@dataclass
class QueueHealth:
    """The numbers worth an alert, for one queue."""

    queued: int
    oldest_queued_seconds: float  # 0 when nothing waits
    started: int
    started_past_timeout: int  # running longer than their job_timeout: abandoned, or stuck
    failed: int
    workers: int

    def __str__(self) -> str:
        return (
            f"queued {self.queued} (oldest {self.oldest_queued_seconds:.0f} s) | started {self.started} "
            f"({self.started_past_timeout} past their timeout) | failed {self.failed} | workers {self.workers}"
        )


def queue_health(queue: Queue) -> QueueHealth:
    """What a monitoring check reads from rq: the same registries the django-rq dashboard counts."""
    now = time.time()
    oldest = 0.0
    first = queue.connection.lindex(queue.key, 0)  # rq pushes at the right and pops at the left
    job = queue.fetch_job(first.decode()) if first else None
    if job is not None and job.enqueued_at:
        oldest = now - job.enqueued_at.timestamp()
    started = StartedJobRegistry(queue=queue)
    past = 0
    for job_id in started.get_job_ids():
        job = queue.fetch_job(job_id)
        if job and job.started_at and job.timeout and job.timeout > 0:
            past += now - job.started_at.timestamp() > job.timeout
    return QueueHealth(
        queued=queue.count,
        oldest_queued_seconds=oldest,
        started=len(started),
        started_past_timeout=past,
        failed=len(FailedJobRegistry(queue=queue)),
        workers=Worker.count(queue=queue),
    )


def drop_connection(conn) -> None:
    """End ``conn``'s session on the PostgreSQL server from another connection, as a database
    restart, a failover or a proxy's idle timeout does: ``conn`` learns it at its next query."""
    from django.db import connections

    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    other = connections.create_connection(conn.alias)
    try:
        with other.cursor() as cursor:  # waits up to 5 s for the session to end (PostgreSQL 14+)
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
    finally:
        other.close()
