"""Which Redis database each queue uses: one rule, read by the settings and by the containers'
health checks (``lab.stack.worker_health``, which must stay light: no Django)."""

from urllib.parse import urlsplit, urlunsplit


def redis_url_with_database(url: str, number: int) -> str:
    """``url`` with its database number replaced: redis://host:port/<number>."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{number}"))


def celery_redis_url(rq_url: str) -> str:
    """Celery's Redis database for a run whose rq queues are on ``rq_url``: the one 8 away
    (0 -> 8 for the stack, 15 -> 7 for the grader), so every run that has an rq database
    of its own (the grader, its mutation run, the project's tests) has a Celery one too."""
    number = int(urlsplit(rq_url).path.strip("/") or 0)
    return redis_url_with_database(rq_url, number - 8 if number >= 8 else number + 8)
