"""Naming a change in a few words, and undoing it: which key of which setting, from what to what.

Used by :mod:`lab.grader.invariants` to say exactly what a learner's file
changed (``settings.RQ['COMMIT_MODE'] ('auto' → 'on_db_commit')``), not only
that something did, and to put it back in place (a dict mutated in place is
refilled, so every module holding it sees the original again).
"""

from __future__ import annotations

import copy
from typing import Any

MISSING = object()


def describe(value: Any, limit: int = 60) -> str:
    """A value in a few characters: a function by its name, anything else by its repr."""
    if callable(value) and hasattr(value, "__qualname__"):
        return name_of(value)
    try:
        text = repr(value)
    except Exception:
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def name_of(function: Any) -> str:
    """``exercises.ex04_on_commit.views.enqueue`` for a function, its class's name for anything else."""
    function = getattr(function, "__func__", function)
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}.{qualname}" if module else qualname


def first_difference(path: str, before: Any, after: Any) -> str:
    """The first place where ``after`` differs from ``before``, as ``path[key] (old → new)``."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*before, *(key for key in after if key not in before)]:
            old, new = before.get(key, MISSING), after.get(key, MISSING)
            if old is MISSING:
                return f"{path}[{key!r}] (added: {describe(new)})"
            if new is MISSING:
                return f"{path}[{key!r}] (deleted)"
            if not equal(old, new):
                return first_difference(f"{path}[{key!r}]", old, new)
    elif isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            if not equal(old, new):
                return first_difference(f"{path}[{index}]", old, new)
    return f"{path} ({describe(before)} → {describe(after)})"


def equal(old: Any, new: Any) -> bool:
    """Equal by value and by repr (``1 == True``, but a setting changed from 1 to True is a change)."""
    try:
        return bool(old == new) and repr(old) == repr(new)
    except Exception:
        return old is new


def deep_copy(value: Any) -> Any:
    try:
        return copy.deepcopy(value)
    except Exception:  # an object that does not copy (a lock, a connection): compared by its repr only
        return value


# --- A module's containers: compared by their items' identity --------------------


def is_container(value: Any) -> bool:
    return type(value) in (dict, list, set)


def items_of(value: Any) -> Any:
    """A shallow copy of a container: its items are compared by identity, never copied."""
    return dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else set(value)


def same_items(container: Any, items: Any) -> bool:
    if isinstance(container, dict):
        return container.keys() == items.keys() and all(container[key] is items[key] for key in items)
    if isinstance(container, list):
        return len(container) == len(items) and all(a is b for a, b in zip(container, items, strict=True))
    return container == items


def refill(container: Any, items: Any) -> None:
    """Put ``items`` back into ``container`` in place (a dict, list or set)."""
    if isinstance(container, dict):
        container.clear()
        container.update(items)
    elif isinstance(container, list):
        container[:] = items
    else:
        container.clear()
        container.update(items)
