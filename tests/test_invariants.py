"""The grader's snapshot of the process (lab/grader/invariants.py): what counts as a change, and putting it back."""

from django.conf import settings
from django.db import models
from rq.queue import Queue

from lab.grader.invariants import Snapshot


def test_library_bookkeeping_is_not_a_change():
    """Django's Manager counts its instances in a class attribute: creating one is nobody's doing."""
    snapshot = Snapshot.take()
    models.Manager()
    assert snapshot.changes() == []


def test_a_setting_mutated_in_place_is_named_and_refilled_in_place():
    snapshot = Snapshot.take()
    rq_settings = settings.RQ
    rq_settings["COMMIT_MODE"] = "on_db_commit"
    try:
        assert snapshot.changes() == ["settings.RQ['COMMIT_MODE'] ('auto' → 'on_db_commit')"]
    finally:
        snapshot.restore()
    assert settings.RQ is rq_settings  # every module holding it sees the original again
    assert rq_settings["COMMIT_MODE"] == "auto"
    assert snapshot.changes() == []


def test_a_patched_method_is_named_and_put_back():
    snapshot = Snapshot.take()
    original = Queue.enqueue_call
    Queue.enqueue_call = lambda *args, **kwargs: None
    try:
        assert snapshot.changes() == ["rq.queue.Queue.enqueue_call (replaced)"]
    finally:
        snapshot.restore()
    assert Queue.enqueue_call is original
