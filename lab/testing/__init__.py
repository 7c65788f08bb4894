"""Real servers on free ports, for the test suite, CI, the grader and lessons' throwaway servers.

Imported by: ``tests/``, ``.ci/run`` and the Makefile (``python -m lab.testing -- pytest``),
the grader (its own databases), ``manage.py workshop redis`` (the stack's Redis) and
``lab.core.relaying`` (a Redis to stop and start). Imports: the standard library, redis,
and nothing else of the lab's.

- ``processes``: start a process, poll until it is ready, stop it.
- ``redis_servers``: a throwaway Redis; the stack's Redis (``bin/run redis``).
- ``servers``: PostgreSQL, the web server and an rq worker; ``python -m lab.testing``.
- ``queue_workers``: lesson 13's Celery worker and django-tasks-db's worker (imported by its own name).
"""

from lab.testing.processes import (
    BASE_DIR,
    START_TIMEOUT,
    ServiceError,
    free_port,
    project_process,
    running,
    stop,
    wait_until,
)
from lab.testing.redis_servers import (
    NO_REDIS_SERVER,
    SHARED_REDIS,
    redis_binary,
    redis_command,
    redis_server,
    serve_redis,
)
from lab.testing.servers import database_url, django_env, main, postgres_server, rq_worker, web_server

__all__ = [
    "BASE_DIR",
    "NO_REDIS_SERVER",
    "SHARED_REDIS",
    "START_TIMEOUT",
    "ServiceError",
    "database_url",
    "django_env",
    "free_port",
    "main",
    "postgres_server",
    "project_process",
    "redis_binary",
    "redis_command",
    "redis_server",
    "rq_worker",
    "running",
    "serve_redis",
    "stop",
    "wait_until",
    "web_server",
]
