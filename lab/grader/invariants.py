"""What a learner's file must leave as it found it, checked around every check.

An exercise can "work" while it changes the rest of the process: a setting
flipped at import, a signal receiver connected, rq's ``Queue.enqueue``
patched, a job re-decorated with another commit mode, a clock cached in a
module. The next check, and the next exercise, would then be graded in a
different world. So the grader takes a :class:`Snapshot` once, before any
learner file is imported, and compares the process with it around every
check (``lab.grader.guard``): what changed is named, and put back.

What is watched, and why:

- Django's settings (every uppercase one, by value): ``settings.RQ["COMMIT_MODE"]``
  decides what ``.delay()`` does everywhere.
- The receivers of every ``Signal`` of Django, django-rq and the project that
  are not a library's own: a ``post_save`` receiver runs for every row.
- The project's URL patterns.
- Every attribute of the project's modules (``workshop_project``; containers by
  their items), the attributes of its classes, and the functions and classes
  of what the exercises are about (rq, django-rq, Django's ``transaction``,
  models and connections, the clock, Celery's ``Task``).
- The commit mode of the queue behind each of the project's ``@job`` functions.
- The process's signal handlers (rq's worker installs its own on the main thread).
"""

from __future__ import annotations

import importlib
import pkgutil
import signal
import sys
import types
import warnings
import weakref
from dataclasses import dataclass, field

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import Signal
from django.urls import clear_url_caches, get_resolver

from .changes import MISSING, deep_copy, describe, first_difference, is_container, items_of, name_of, refill, same_items

OWN_SETTINGS = {"WORKSHOP_EXERCISE_PACKAGE"}  # set by the grader itself, per graded package
PROJECT = "workshop_project"
SKIPPED_MODULES = ("workshop_project.settings", "workshop_project.test_settings", "workshop_project.wsgi")
LIBRARY_MODULES = (
    *("django.db", "django.db.transaction", "django.db.models", "django.utils.timezone"),
    *("django_rq", "django_rq.queues", "django_rq.decorators", "rq", "rq.queue", "rq.job", "rq.worker"),
    *("rq.decorators", "time", "datetime", "functools", "threading"),
    # The grader's own vocabulary: a learner's file that replaced fail() would pass everything after it.
    *("lab.core.amplifier", "lab.core.outcomes", "lab.core.relaying", "lab.grader.grading", "lab.grader.interleave"),
)
LIBRARY_CLASSES = (
    *("rq.queue.Queue", "rq.job.Job", "rq.worker.base.BaseWorker", "rq.worker.Worker", "rq.worker.SimpleWorker"),
    *("django_rq.queues.DjangoRQ", "django.db.models.Model", "django.db.models.QuerySet"),
    *("django.db.models.manager.BaseManager", "django.db.transaction.Atomic"),
    *("django.db.backends.base.base.BaseDatabaseWrapper", "django.test.client.Client", "celery.app.task.Task"),
)
# pytest-django blocks and unblocks the database by swapping ensure_connection: not the learner's doing.
IGNORED_ATTRIBUTES = {"__dict__", "__weakref__", "__abstractmethods__", "_abc_impl", "ensure_connection"}
SIGNAL_PREFIXES = ("django.", "django_rq", PROJECT)
HANDLED_SIGNALS = [
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGALRM", "SIGUSR1") if hasattr(signal, name)
]
LIBRARY_PREFIXES = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})


def _lookup(dotted: str):
    module_name, _, attribute = dotted.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, attribute, None)


def _project_modules() -> list[types.ModuleType]:
    """Every module of the project, imported now (before any learner file can change one)."""
    package = importlib.import_module(PROJECT)
    for info in pkgutil.walk_packages(package.__path__, f"{PROJECT}."):
        if ".migrations" not in info.name and ".management" not in info.name and info.name not in SKIPPED_MODULES:
            importlib.import_module(info.name)
    return [
        module
        for name, module in sorted(sys.modules.items())
        if (name == PROJECT or name.startswith(f"{PROJECT}.")) and name not in SKIPPED_MODULES
    ]


def _state_of(module: types.ModuleType, project: bool) -> dict:
    return {
        name: (value, items_of(value) if project and is_container(value) else value)
        for name, value in vars(module).items()
        if not name.startswith("__") and not isinstance(value, types.ModuleType) and (project or callable(value))
    }


@dataclass
class Snapshot:
    """The process as the grader found it; :meth:`changes` names what differs, :meth:`restore` puts it back."""

    settings: dict = field(default_factory=dict)  # name -> (object, deep copy, repr)
    receivers: dict = field(default_factory=dict)  # "post_save" -> (signal, [entries])
    urls: list = field(default_factory=list)  # [(list of patterns, its items)]
    modules: dict = field(default_factory=dict)  # module -> (is the project's, {attribute: (object, items)})
    classes: dict = field(default_factory=dict)  # "rq.queue.Queue" -> (class, {attribute: object})
    commit_modes: dict = field(default_factory=dict)  # "workshop_project.tasks.jobs.get_url_length" -> (queue, mode)
    handlers: dict = field(default_factory=dict)  # signal number -> handler

    @classmethod
    def take(cls) -> Snapshot:
        snapshot = cls()
        with warnings.catch_warnings():  # reading a deprecated setting warns
            warnings.simplefilter("ignore")
            for name in _setting_names():
                value = getattr(settings, name)
                snapshot.settings[name] = (value, deep_copy(value), repr(value))
        for module in _project_modules():
            snapshot.modules[module] = (True, _state_of(module, project=True))
            for value in vars(module).values():
                # a class's methods, a function's own attributes (an @job's .delay, a view's _non_atomic_requests)
                if isinstance(value, (type, types.FunctionType)) and value.__module__ == module.__name__:
                    for owner in [value, *(v for v in vars(value).values() if isinstance(v, types.FunctionType))]:
                        key = f"{module.__name__}.{owner.__qualname__}"  # a wrapper first, not its __wrapped__
                        snapshot.classes.setdefault(key, (owner, _behaviour(owner)))
                queue = _job_queue(value)
                if queue is not None and getattr(value, "__module__", None) == module.__name__:
                    snapshot.commit_modes[f"{module.__name__}.{value.__name__}"] = (queue, queue._commit_mode)
        for name in LIBRARY_MODULES:
            module = importlib.import_module(name)
            snapshot.modules[module] = (False, _state_of(module, project=False))
        for dotted in LIBRARY_CLASSES:
            target = _lookup(dotted)
            snapshot.classes[dotted] = (target, _behaviour(target))
        for module_name, module in list(sys.modules.items()):
            if module_name.startswith(SIGNAL_PREFIXES) and isinstance(module, types.ModuleType):
                for attribute, value in list(vars(module).items()):
                    if isinstance(value, Signal) and attribute not in snapshot.receivers:
                        snapshot.receivers[attribute] = (value, list(value.receivers))
        snapshot.urls = [(patterns, list(patterns)) for patterns in _url_pattern_lists()]
        snapshot.handlers = {number: signal.getsignal(number) for number in HANDLED_SIGNALS}
        return snapshot

    def changes(self) -> list[str]:
        """What differs from the snapshot, one phrase each ("settings.RQ['COMMIT_MODE'] ('auto' → 'x')")."""
        found = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in sorted(set(self.settings) | _setting_names()):
                if name not in self.settings:
                    found.append(f"settings.{name} (added: {describe(getattr(settings, name))})")
                elif not hasattr(settings, name):
                    found.append(f"settings.{name} (deleted)")
                elif repr(now := getattr(settings, name)) != self.settings[name][2]:
                    found.append(first_difference(f"settings.{name}", self.settings[name][1], now))
        for short, (sig, receivers) in self.receivers.items():
            added, removed = _receiver_changes(sig, receivers)
            found += [f"the receivers of {short} ({name_of(_live(entry))} connected)" for entry in added]
            found += [f"the receivers of {short} ({name_of(_live(entry))} disconnected)" for entry in removed]
        if any(patterns != items for patterns, items in self.urls):
            found.append("the project's URL patterns")
        for module, (project, state) in self.modules.items():
            now = vars(module)
            for attribute in _added(module, project, state):
                found.append(f"{module.__name__}.{attribute} (added: {describe(now[attribute])})")
            for attribute, (original, items) in state.items():
                value = now.get(attribute, MISSING)
                if value is MISSING:
                    found.append(f"{module.__name__}.{attribute} (deleted)")
                elif value is not original:
                    found.append(f"{module.__name__}.{attribute} (replaced by {describe(value)})")
                elif items is not original and not same_items(original, items):
                    found.append(first_difference(f"{module.__name__}.{attribute}", items, items_of(original)))
        for dotted, (cls, attributes) in self.classes.items():
            now = _behaviour(cls)
            for attribute in sorted((set(attributes) | set(now)) - IGNORED_ATTRIBUTES):
                if attributes.get(attribute, MISSING) is not now.get(attribute, MISSING):
                    what = "added" if attribute not in attributes else "deleted" if attribute not in now else "replaced"
                    found.append(f"{dotted}.{attribute} ({what})")
        for dotted, (queue, mode) in self.commit_modes.items():
            if getattr(queue, "_commit_mode", mode) != mode:
                found.append(f"the commit mode of {dotted}'s queue ({mode!r} → {queue._commit_mode!r})")
        for number, handler in self.handlers.items():
            if signal.getsignal(number) is not handler:
                found.append(f"the process's {signal.Signals(number).name} handler")
        return found

    def restore(self) -> None:
        """Put back everything :meth:`changes` can name."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in _setting_names() - set(self.settings):
                delattr(settings, name)
            for name, (original, saved, saved_repr) in self.settings.items():
                if not hasattr(settings, name) or repr(getattr(settings, name)) != saved_repr:
                    if is_container(original) and repr(original) != saved_repr:
                        refill(original, deep_copy(saved))
                    setattr(settings, name, original)
                    setting_changed.send(sender=type(self), setting=name, value=original, enter=False)
        for sig, receivers in self.receivers.values():
            added, removed = _receiver_changes(sig, receivers)
            if added or removed:
                sig.receivers[:] = [entry for entry in sig.receivers if entry not in added] + removed
                sig.sender_receivers_cache.clear()
        if any(patterns != items for patterns, items in self.urls):
            for patterns, items in self.urls:
                patterns[:] = items
            clear_url_caches()
        for module, (project, state) in self.modules.items():
            for attribute in _added(module, project, state):
                delattr(module, attribute)
            for attribute, (original, items) in state.items():
                if items is not original and not same_items(original, items):
                    refill(original, items)
                if vars(module).get(attribute, MISSING) is not original:
                    setattr(module, attribute, original)
        for cls, attributes in self.classes.values():
            for attribute in set(_behaviour(cls)) - set(attributes) - IGNORED_ATTRIBUTES:
                delattr(cls, attribute)
            for attribute, original in attributes.items():
                if attribute not in IGNORED_ATTRIBUTES and vars(cls).get(attribute, MISSING) is not original:
                    setattr(cls, attribute, original)
        for queue, mode in self.commit_modes.values():
            queue._commit_mode = mode
        for number, handler in self.handlers.items():
            if signal.getsignal(number) is not handler and handler is not None:
                try:
                    signal.signal(number, handler)
                except ValueError:  # not on the main thread: left as it is (and named)
                    pass


def _behaviour(cls: type) -> dict:
    """A class's methods and descriptors (not its data: Django's Manager counts its instances in a
    class attribute, a change that is nobody's doing); every attribute of a function."""
    if isinstance(cls, types.FunctionType):
        return dict(vars(cls))
    return {name: value for name, value in vars(cls).items() if callable(value) or hasattr(type(value), "__get__")}


def _setting_names() -> set[str]:
    return {name for name in dir(settings) if name.isupper()} - OWN_SETTINGS


def _added(module, project, state) -> list[str]:
    """Attributes the module did not have (for a library module, only functions and classes count)."""
    return [
        name
        for name, value in vars(module).items()
        if name not in state
        and not name.startswith("__")
        and not isinstance(value, types.ModuleType)
        and (project or callable(value))
    ]


def _live(entry):
    receiver = entry[1]
    return receiver() if isinstance(receiver, weakref.ReferenceType) else receiver


def _is_ours(entry) -> bool:
    """A live receiver whose code is not a library's (Django connects some of its own lazily, e.g. a
    storage's ``setting_changed`` receiver): the project's, or the learner's."""
    live = _live(entry)
    function = getattr(live, "__func__", live)
    code = getattr(function, "__code__", None) or getattr(vars(type(live)).get("__call__"), "__code__", None)
    filename = getattr(code, "co_filename", "")
    return live is not None and not (filename.startswith(LIBRARY_PREFIXES) or "site-packages" in filename)


def _receiver_changes(sig: Signal, receivers: list) -> tuple[list, list]:
    before = {entry[0] for entry in receivers}
    now = {entry[0] for entry in sig.receivers}
    added = [entry for entry in sig.receivers if entry[0] not in before and _is_ours(entry)]
    removed = [entry for entry in receivers if entry[0] not in now and _is_ours(entry)]
    return added, removed


def _job_queue(value):
    """The django-rq queue behind an ``@job`` function (rq's decorator keeps it in ``.delay``'s closure)."""
    delay = getattr(value, "delay", None)
    for cell in getattr(delay, "__closure__", None) or ():
        try:
            queue = getattr(cell.cell_contents, "queue", None)
        except ValueError:  # an empty cell
            continue
        if hasattr(queue, "_commit_mode"):
            return queue
    return None


def _url_pattern_lists() -> list[list]:
    """Every list of URL patterns the project's resolver reads (the root's and each include's)."""
    found, pending = [], [get_resolver()]
    while pending:
        resolver = pending.pop()
        patterns = resolver.url_patterns
        if isinstance(patterns, list) and all(patterns is not seen for seen in found):
            found.append(patterns)
        pending.extend(pattern for pattern in patterns if hasattr(pattern, "url_patterns"))
    return found
