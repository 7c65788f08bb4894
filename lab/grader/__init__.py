"""The grader: ``pytest exercises/`` and what its checks import.

Imported by ``exercises/`` (``from lab.grader import grading``) and ``tests/``. Imports
``lab.core``, ``lab.stack``, ``lab.testing`` and ``workshop_project``; never
``lab.lessons``.

- ``plugin``: the grader's pytest plugin: options, databases, the report, progress.
- ``grading``: the vocabulary grader files import (``fail``, ``post_form``, ``job_run``, ``expect_found``).
- ``mutation``: exercise 07's grading: the learner's tests against broken views.
- ``celery_worker``: exercise 10's real Celery worker on a thread, its barrier, and what it ran.
- ``structure``: ``workshop check``: every exercise and lesson wired up everywhere (no services).

The shared core a grader needs is offered here too: ``fixtures`` and ``relaying``.
"""

from importlib import import_module

_MODULES = {"fixtures": "lab.core.fixtures", "relaying": "lab.core.relaying"}


def __getattr__(name):
    """Import on first use, so the plugin can be loaded before Django is set up."""
    if name in _MODULES:
        return import_module(_MODULES[name])
    raise AttributeError(f"module 'lab.grader' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_MODULES])
