"""Wait until the worker has run every job queued before now, without sleeping.

rq hands a queue's jobs out in order. A do-nothing job queued now is
therefore taken after every earlier one, and with one worker (the workshop
runs one) it ends after them too. Lessons use this to say "nothing was
enqueued" with confidence, and to make sure no earlier job is still writing
before a cell holds a transaction open (with SQLite that job would wait for
the notebook while the notebook waits for the worker).

This module is kept tiny on purpose: the worker imports it for every
``marker`` job it runs.
"""

import django_rq

from lab.core.outcomes import wait_for


def marker() -> None:
    """A job that does nothing; its end is the signal ``settle`` waits for."""


def settle(queue_name: str = "default", timeout: float = 15) -> None:
    """Return once the worker has finished every job queued on ``queue_name`` before this call."""
    job = django_rq.get_queue(queue_name, commit_mode="auto").enqueue(marker)
    outcome = wait_for(job_id=job.id, timeout=timeout, queue_name=queue_name)
    if outcome.status == "timeout":
        raise TimeoutError(f"the worker did not get through queue {queue_name!r} within {timeout:g} s: is it running?")
