"""The worker container's health check: ``python -m lab.stack.worker_health`` (docker-compose.yml).

Healthy (exit 0) when an rq worker of this container (same hostname) is
registered in Redis *and* its process is alive: a killed worker stays
registered for minutes, so the registration alone would say "healthy" for a
worker that is gone. Light on purpose (redis and rq only, no Django): it runs
every few seconds.
"""

import os
import socket
import sys

import psutil
import redis
import rq


def healthy():
    connection = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=3)
    here = socket.gethostname()
    return any(worker.hostname == here and psutil.pid_exists(worker.pid) for worker in rq.Worker.all(connection))


if __name__ == "__main__":
    sys.exit(0 if healthy() else 1)
