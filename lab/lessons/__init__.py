"""What the notebooks import: ``from lab.lessons import lesson, race, web``.

Imported by ``notebooks/`` only (and ``tests/``). Imports ``lab.core``, ``lab.stack``,
``lab.testing`` and ``workshop_project``; never ``lab.grader`` (the grader runs as a
child process: ``lesson.grade()``), so a learner's tooltip never offers the grader's internals.

- ``lesson``: a notebook's first cell (check, reset) and last (grade, the next exercise).
- ``race``: N trials of a variant, under the amplifier or live.
- ``experiment``: failure rate against hold time, and its plot; what a failing request leaves behind.
- ``barrier``: wait until the worker has run every job queued so far.
- ``probes``: a job that asks the worker one question (can it see this row?).
- ``quiet_queue``: lesson 02 runs the learner's ex01 code on a Redis database no worker listens to.
- ``recipes``: the test recipes lessons 03 to 05 and 08 run (a real worker on the test database).
- ``your_test``: runs the portable test that sees the race (``recipes/test_your_view.py``) on some views.
- ``production``: lesson 12's throwaway Redis servers and rq workers, and a queue's health numbers.
- ``every_queue``: lesson 13's table: every queue and way of enqueuing, each run by a real worker of its queue.
- ``acks_late``: lesson 13's Celery worker killed half-way through a task, with and without ``acks_late``.

The shared core is offered here too, so a notebook needs this one package:
``web``, ``outcomes``, ``relaying``, ``doctor``, ``the_relay`` (the stack's outbox relay), and the names in ``_NAMES``.
"""

from importlib import import_module

_MODULES = {
    "web": "lab.core.web",
    "outcomes": "lab.core.outcomes",
    "relaying": "lab.core.relaying",
    "doctor": "lab.stack.doctor",
    "the_relay": "lab.stack.relay",  # the stack's relay (lessons 10 and 11 run it): exercise 09's answer, out of sight
}
_NAMES = {
    "wait_for": "lab.core.outcomes",
    "failures": "lab.core.outcomes",
    "sample_pages": "lab.core.fixtures",
    "run_queued_jobs": "lab.core.amplifier",
    "free_port": "lab.testing",
    "wait_until": "lab.testing",
}


def __getattr__(name):
    """Import on first use: ``import lab.lessons`` stays cheap and needs no Django set-up."""
    if name in _MODULES:
        return import_module(_MODULES[name])
    if name in _NAMES:
        return getattr(import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'lab.lessons' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_MODULES, *_NAMES])
