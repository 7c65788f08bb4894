"""The stack's rq worker: rq's own ``Worker``, plus what a supervised worker on a learner's laptop needs.

    python manage.py rqworker default --with-scheduler --worker-class lab.stack.worker.SupervisedWorker

(``bin/run worker``, restarted by ``lab/stack/supervisor.py``.) rq 3.0 leaves the first three to its
maintenance, which runs every 10 minutes; a worker that is killed, restarted at every save, and
sees Redis stop cannot wait that long:

1. **A killed worker swallows no job.** rq's scheduler is a child forked from the worker, and a
   fork inherits every open socket: the scheduler kept the worker's Redis connection open after
   a ``kill -9`` of the worker, and with it the worker's pending ``BLMOVE``. Redis then handed
   the next job to that dead connection: into ``rq:queue:<name>:intermediate``, where nobody
   runs it (rq's clean-up fails it, at a maintenance a minute after first seeing it). Here every
   child forked from the worker (scheduler, work horse) closes its copy of the worker's sockets
   at once; the horse opens its own (redis-py resets a pool in a new process).
2. **On start, what a dead predecessor left is undone.** Dead means registered from this host
   with its process gone (the supervisor ends the old worker's whole process group, adopted
   orphans included, before it starts a new one). A job Redis had handed it but it never
   started goes back to the front of its queue, as if never taken; the dead workers are
   unregistered and their scheduler's lock released, so this worker's scheduler starts now, not
   when the lock expires a minute later. A job it had *started* is left to rq: its horse may
   have done the work and only failed to record it (Redis gone), and running it again would
   do the work twice.
3. **The scheduler is restarted as soon as it is found dead.** It exits on a lost Redis
   connection (an outage), and rq starts it again only at the next maintenance: a job scheduled
   after Redis came back ran 10 minutes late. Here every heartbeat looks at it; the idle wait
   for a job lasts ``IDLE_WAIT`` seconds (rq's: ``worker_ttl - 15``, 405 s) so that a heartbeat
   comes round that often, and Redis is tried again every ``max_connection_wait_time`` seconds
   at most while it is away.
4. **A restart waits for the job in hand, then requeues it.** On the supervisor's SIGINT (a file
   saved) rq finishes the job first. A job still running ``WORKSHOP_RESTART_GRACE`` seconds
   (75 by default: past rq's 60 s job timeout, which fails a job properly) after the request
   is stopped by this worker and put back at the front of its queue, to run on the next worker
   with the new code: its task is not left pending, and only a job this worker itself stopped
   is run again.
"""

import contextlib
import os

import psutil
from rq import Worker
from rq.exceptions import SchedulerNotFound
from rq.scheduler import RQScheduler
from rq.scripts import release_lock
from rq.utils import now as utcnow

#: Seconds an idle worker waits in one BLMOVE: how often it looks at its scheduler.
IDLE_WAIT = 5
#: Seconds between two looks at a running job (rq's default: 30), so the restart grace is kept to the second.
MONITOR_INTERVAL = 1


def restart_grace():
    """How long a restart waits for the job in hand (the supervisor SIGKILLs a little later)."""
    return float(os.environ.get("WORKSHOP_RESTART_GRACE") or 75)


#: Redis only: the job id goes back from the intermediate list to the front of its queue, if still there.
BACK_TO_FRONT = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) > 0 then
    redis.call('LPUSH', KEYS[2], ARGV[1])
    return 1
end
return 0
"""

_pools = []  # the connection pools whose sockets a child forked from this process closes


def _close_inherited_sockets():
    """In a child just forked: close this process's copy of the parent's Redis sockets.

    Only the child's file descriptors: the parent's connections stay open. redis-py keeps no
    public way to reach a pool's connections from a forked child (its ``disconnect`` resets the
    pool first, for a new process, and then finds none), hence the private lists.
    """
    for pool in _pools:
        connections = [*getattr(pool, "_available_connections", ()), *getattr(pool, "_in_use_connections", ())]
        for connection in connections:
            sock, connection._sock = getattr(connection, "_sock", None), None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()


def _alive(pid):
    try:
        return psutil.Process(int(pid)).status() != psutil.STATUS_ZOMBIE
    except (psutil.Error, TypeError, ValueError):
        return False


class SupervisedWorker(Worker):
    """rq's forking ``Worker``; see the module's docstring for what it adds and why."""

    max_connection_wait_time = 5.0  # rq's: 60 s between tries while Redis is away

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("job_monitoring_interval", MONITOR_INTERVAL)
        super().__init__(*args, **kwargs)
        self._stopped_for_restart = None  # the id of the job this worker stopped to let a restart happen

    @property
    def dequeue_timeout(self):
        return IDLE_WAIT

    def work(self, *args, **kwargs):
        pool = self.connection.connection_pool
        if not _pools:
            os.register_at_fork(after_in_child=_close_inherited_sockets)
        if pool not in _pools:
            _pools.append(pool)
        self.undo_dead_predecessors()
        return super().work(*args, **kwargs)

    def heartbeat(self, *args, **kwargs):
        super().heartbeat(*args, **kwargs)
        self.revive_scheduler()

    def revive_scheduler(self):
        """Start rq's scheduler again if it has died (rq itself waits for its next maintenance)."""
        scheduler = self.scheduler
        if scheduler is None or self.is_horse or self._stop_requested or self._shutdown_requested_date:
            return
        process = scheduler._process  # rq's own maintenance reads it the same way
        if process is not None and process.is_alive():
            return
        if process is not None and getattr(self, "_reported_scheduler", None) != process.pid:
            self._reported_scheduler = process.pid
            self.log.warning(
                "Worker %s: rq's scheduler (pid %s) exited with %s: starting it again",
                self.name,
                process.pid,
                process.exitcode,
            )
        scheduler.acquire_locks(auto_start=True)

    def maintain_heartbeats(self, job, execution):
        """While a job runs: once a restart has waited ``restart_grace()``, stop the job to requeue it."""
        super().maintain_heartbeats(job, execution)
        asked = self._shutdown_requested_date
        if asked is None or self._stopped_for_restart or not self.horse_pid:
            return
        if (utcnow() - asked).total_seconds() > restart_grace():
            self.log.warning(
                "Worker %s: job %s still runs %g s after the restart was asked for: stopping it; "
                "it goes back to the front of the queue, for the next worker",
                self.name,
                job.id,
                restart_grace(),
            )
            self._stopped_for_restart = job.id
            self.kill_horse()

    def handle_job_failure(self, job, queue, *args, **kwargs):
        super().handle_job_failure(job, queue, *args, **kwargs)
        if job.id == self._stopped_for_restart:
            queue.failed_job_registry.requeue(job, at_front=True)
            self.log.info("Worker %s: job %s requeued at the front of %s", self.name, job.id, queue.name)

    # --- On start: undo what a dead predecessor left -------------------------------------

    def undo_dead_predecessors(self):
        everyone = Worker.all(connection=self.connection)
        mine = [w for w in everyone if w.hostname == self.hostname and w.name != self.name]
        dead = {w.name: w for w in mine if not _alive(w.pid)}
        for queue in self.queues:
            others = [w for w in everyone if w.name not in dead and queue.name in w.queue_names()]
            # Another live worker's entries may be its own, between its BLMOVE and the job's start.
            restored = 0 if others else self._restore_intermediate(queue)
            if restored:
                self.log.warning(
                    "Worker %s: %d job(s) a dead worker had been handed but not started: back at the front of %s",
                    self.name,
                    restored,
                    queue.name,
                )
            self._release_dead_scheduler_lock(queue)
        for worker in dead.values():
            worker.register_death()

    def _restore_intermediate(self, queue):
        back_to_front = self.connection.register_script(BACK_TO_FRONT)
        intermediate, count = queue.intermediate_queue, 0
        for job_id in intermediate.get_job_ids():
            if job_id in queue.started_job_registry:
                continue
            count += back_to_front(keys=[intermediate.key, queue.key], args=[job_id])
            self.connection.delete(intermediate.get_first_seen_key(job_id))
        return count

    def _release_dead_scheduler_lock(self, queue):
        key = RQScheduler.get_locking_key(queue.name)
        owner = self.connection.get(key)
        if owner is None:
            return
        owner = owner.decode()
        try:
            scheduler = RQScheduler.fetch(owner, connection=self.connection)
        except SchedulerNotFound:
            return  # its record expired: so will its lock, with the same time to live
        if scheduler.hostname == self.hostname and not _alive(scheduler.pid):
            release_lock(self.connection, key, owner)
