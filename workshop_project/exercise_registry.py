"""Reads the exercise registry, ``exercises/exercises.toml``.

The project reaches learner code only through here, by module path, never by
a hard import: the live web serves an exercise's view, the live worker runs
its jobs, and ``workshop progress`` / ``reset`` find its files. A learner's
syntax error therefore breaks one page, not the server.
"""

import importlib
import sys
import tomllib
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.db import transaction
from django.http import HttpResponse
from django.urls import path

REGISTRY = "exercises.toml"
STARTERS = ".starters"  # pristine snapshots of the learner's files, beside the registry


@dataclass(frozen=True)
class Exercise:
    slug: str  # "ex04_on_commit": the folder under exercises/ and solutions/
    title: str
    lesson: str  # the notebook that teaches it, e.g. "05_fix_on_commit"
    file: str  # the file the learner edits, e.g. "views.py"
    hints: list = field(default_factory=list)
    view: str = ""  # a view in that file the live web serves, if any
    checks: dict = field(default_factory=dict)  # check (test function) name -> the number of its hint, from 1
    # What the exercise promises, one line each, and the checks that hold it to it:
    # [{"says": "...", "checks": ["test_...", ...]}, ...] (``workshop check`` enforces it).
    promises: list = field(default_factory=list)
    # A failure's cause (``fail(..., cause="...")``) -> the number of its hint: the hint fits what the
    # answer did, not only which check caught it.
    causes: dict = field(default_factory=dict)

    def hint_number(self, check, cause=None):
        """The hint for a failure: the one for its cause, else the one attached to its check, else the first."""
        number = self.causes.get(cause) if cause else None
        if number is None:
            number = self.checks.get(check, 1)
        return number if isinstance(number, int) and 1 <= number <= len(self.hints) else 1

    @property
    def number(self):
        return self.slug[2:4]

    @property
    def module(self):
        return self.file.removesuffix(".py")

    def path(self, root="exercises"):
        return settings.BASE_DIR / root / self.slug / self.file

    def starter_path(self):
        """The pristine starter, kept for ``workshop reset`` as ``exercises/.starters/<slug>/<file>.starter``.

        A snapshot, not code: nothing imports or edits it, and a test checks
        that the shipped learner file is byte for byte the same. (Not taken
        from git: the container has no git, and a learner may commit.)"""
        return settings.BASE_DIR / "exercises" / STARTERS / self.slug / f"{self.file}.starter"

    def dotted(self, root="exercises"):
        return f"{root}.{self.slug}.{self.module}"


def load(base_dir=None):
    """Every exercise, in order. An empty list if the registry is missing."""
    registry = Path(base_dir or settings.BASE_DIR) / "exercises" / REGISTRY
    if not registry.exists():
        return []
    data = tomllib.loads(registry.read_text())
    return [Exercise(slug=slug, **fields) for slug, fields in sorted(data.items())]


def find(name):
    """The exercise called ``ex04_on_commit``, ``ex04``, ``04`` or ``4``."""
    wanted = name.removeprefix("ex").split("_")[0].zfill(2)
    for exercise in load():
        if exercise.slug == name or exercise.number == wanted:
            return exercise
    raise LookupError(f"there is no exercise {name!r}; try one of: {', '.join(e.slug for e in load())}")


def import_learner_module(exercise, root=None):
    """Import (or re-import after an edit) the learner's module for ``exercise``."""
    name = exercise.dotted(root or getattr(settings, "WORKSHOP_EXERCISE_PACKAGE", "exercises"))
    if name in sys.modules:
        return importlib.reload(sys.modules[name])
    return importlib.import_module(name)


def relative(filename):
    """``exercises/ex04_on_commit/views.py`` rather than the absolute path, where it is in the project."""
    try:
        return str(Path(filename).resolve().relative_to(settings.BASE_DIR))
    except (TypeError, ValueError):
        return str(filename)


def describe_import_error(error):
    """One line naming the learner's file and line, for a module that does not import."""
    if isinstance(error, SyntaxError):
        return f"{relative(error.filename)}, line {error.lineno}: {type(error).__name__}: {error.msg}"
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return f"{relative(frame.filename)}, line {frame.lineno}: {type(error).__name__}: {error}"


def served_view(exercise):
    """A view that imports the learner's code when a request comes in."""

    def view(request, *args, **kwargs):
        # The learner's view decides its own transactions (ex02 marks it
        # non_atomic_requests), so Django's own wrapping is applied to it here,
        # and this wrapper is exempt from it.
        try:
            module = import_learner_module(exercise)
        except Exception as error:
            return HttpResponse(
                f"{exercise.slug} does not import: {describe_import_error(error)}\n",
                status=500,
                content_type="text/plain",
            )
        learner_view = getattr(module, exercise.view)
        if isinstance(learner_view, type):
            learner_view = learner_view.as_view()
        return BaseHandler().make_view_atomic(learner_view)(request, *args, **kwargs)

    for alias in settings.DATABASES:
        view = transaction.non_atomic_requests(using=alias)(view)
    return view


def exercise_urls():
    return [
        path(f"{exercise.slug}/", served_view(exercise), name=exercise.slug) for exercise in load() if exercise.view
    ]
