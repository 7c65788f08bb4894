"""The jobs an outbox row may name: one registry, by dotted path.

An ``Outbox`` row is data: the admin edits it, a restored backup brings old
rows back. If the relay imported whatever dotted path a row names, a row
could run any function in the worker (``os.system``), and a module that
raises ``SystemExit`` on import would stop the relay on every pass. So the
relay never imports a row's name: it looks it up here, among the jobs this
project registered (``@job_registry.register`` above ``@job(...)``, in
``jobs.py``, the one module that registers any). A name that is not here is
that row's failed attempt, with a sentence saying which names are allowed.
"""

import importlib

from django.core.exceptions import ValidationError

#: The modules whose import registers jobs (each ``register`` call is in the module itself).
REGISTERING_MODULES = ("workshop_project.tasks.jobs",)

_jobs = {}


class UnknownJob(ValueError):
    """A row (or a caller of ``outbox.add``) named a function that is not a registered job."""


def dotted_path(func):
    """``workshop_project.tasks.jobs.get_url_length`` for a function (or a dotted path already)."""
    if isinstance(func, str):
        return func
    return f"{func.__module__}.{func.__qualname__}"


def register(func):
    """Allow outbox rows to name ``func``, an rq job (put it above ``@job(...)``)."""
    if not callable(getattr(func, "delay", None)):
        raise TypeError(f"{dotted_path(func)} is not an rq job: put @register above @job(...), not below it.")
    _jobs[dotted_path(func)] = func
    return func


def names():
    """Every registered job's dotted path, sorted."""
    for module in REGISTERING_MODULES:
        importlib.import_module(module)  # the project's own modules: their import registers their jobs
    return sorted(_jobs)


def find(name):
    """The registered job called ``name``; ``UnknownJob`` (one sentence) for anything else. Never imports ``name``."""
    allowed = names()
    if name not in _jobs:
        raise UnknownJob(
            f"{name!r} is not a registered job: an outbox row may name only {', '.join(allowed)} "
            "(workshop_project/tasks/job_registry.py)."
        )
    return _jobs[name]


def validate(name):
    """``Outbox.func``'s validator: the admin's form refuses an unregistered name with the same sentence."""
    try:
        find(name)
    except UnknownJob as error:
        raise ValidationError(str(error)) from None
