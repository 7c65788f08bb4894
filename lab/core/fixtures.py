"""The world the graders set up: sample pages that count their fetches, a Redis that is down.

Used by the fixtures in ``exercises/conftest.py``; the graders reach them only
through those fixtures (``samples``, ``redis_down``).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.test import override_settings


class FetchCounter:
    """A WSGI wrapper around the project's app that counts the requests for each path."""

    def __init__(self, app):
        self.app = app
        self.counts = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.counts[environ.get("PATH_INFO", "")] += 1
        return self.app(environ, start_response)


@dataclass
class SamplePages:
    """The project's sample pages, served in this process, counting how often each is fetched."""

    base: str
    counter: FetchCounter

    def url(self, size: int = 1234) -> str:
        return f"{self.base}/samples/{size}/"

    def fetches(self, url: str) -> int:
        return self.counter.counts[url.removeprefix(self.base).split("?")[0]]

    def reset(self):
        with self.counter.lock:
            self.counter.counts.clear()


@contextmanager
def sample_pages() -> Iterator[SamplePages]:
    from django.core.wsgi import get_wsgi_application

    from lab.stack.samples_server import serving

    counter = FetchCounter(get_wsgi_application())
    with serving(counter) as base:
        yield SamplePages(base, counter)


@contextmanager
def redis_down(queue_name: str = "default") -> Iterator[str]:
    """Point the queue at a port where nothing listens: every enqueue really fails
    with a refused connection (code that asks django_rq.get_queue() at call time)."""
    from lab.testing import free_port

    closed = f"redis://127.0.0.1:{free_port()}/0"
    queues = {**settings.RQ_QUEUES, queue_name: {**settings.RQ_QUEUES[queue_name], "URL": closed}}
    with override_settings(RQ_QUEUES=queues):
        yield closed
