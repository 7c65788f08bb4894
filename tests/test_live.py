"""Live: a real web server and a real rq worker process, over HTTP, with the transaction held open."""

import pytest

from lab.lessons import race
from workshop_project.tasks.variants import VARIANTS

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

RUNS = 20
HOLD_MS = 200


def test_broken_fails_live(live_stack):
    row = race.live("broken", runs=RUNS, hold_ms=HOLD_MS)
    assert row.failures >= RUNS - 1, row


@pytest.mark.parametrize("variant", [variant for variant in VARIANTS if variant != "broken"])
def test_fixes_never_fail_live(live_stack, variant):
    row = race.live(variant, runs=RUNS, hold_ms=HOLD_MS)
    assert row.failures == 0, row
    assert row.ok == RUNS, row
