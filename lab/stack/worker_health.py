"""The worker containers' health checks (docker-compose.yml):

    python -m lab.stack.worker_health             the rq worker
    python -m lab.stack.worker_health celery      the Celery worker (lesson 13)
    python -m lab.stack.worker_health db-worker   django-tasks-db's worker (lesson 13)

Healthy (exit 0) when an rq worker of this container (same hostname) is
registered in Redis *and* its process is alive: a killed worker stays
registered for minutes, so the registration alone would say "healthy" for a
worker that is gone. The Celery worker must answer a ping over its broker
(Celery's own remote control), addressed to this container's name. The
database worker keeps no record of itself anywhere, so its process must be
running here. Light on purpose (redis, rq, celery, psutil; no Django): these
run every few seconds.
"""

import os
import socket
import sys

import psutil
import redis
import rq

from workshop_project.redis_urls import celery_redis_url


def healthy():
    connection = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=3)
    here = socket.gethostname()
    return any(worker.hostname == here and psutil.pid_exists(worker.pid) for worker in rq.Worker.all(connection))


def celery_healthy(timeout=2.0):
    from celery import Celery

    broker = celery_redis_url(os.environ["REDIS_URL"])
    replies = Celery(broker=broker).control.ping(
        destination=[f"celery@{socket.gethostname()}"], timeout=timeout, limit=1
    )
    return bool(replies)


def db_worker_healthy():
    def is_db_worker(process):
        try:
            return "db_worker" in process.cmdline()
        except psutil.Error:
            return False

    return any(is_db_worker(process) for process in psutil.process_iter())


CHECKS = {"rq": healthy, "celery": celery_healthy, "db-worker": db_worker_healthy}

if __name__ == "__main__":
    sys.exit(0 if CHECKS[sys.argv[1] if len(sys.argv) > 1 else "rq"]() else 1)
