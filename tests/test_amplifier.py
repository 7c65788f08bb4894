"""Under the amplifier the race is certain: the broken variant always fails, every fix never does."""

import pytest

from lab.lessons import race
from workshop_project.tasks.variants import VARIANTS

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

RUNS = 50
# The outbox variant's request enqueues nothing: its relay does, after the commit (tests/test_outbox.py).
FIXES = [variant for variant in VARIANTS if variant not in ("broken", "outbox")]


def test_broken_fails_every_time():
    row = race.amplified("broken", runs=RUNS)
    assert (row.failures, row.ok) == (RUNS, 0), row


@pytest.mark.parametrize("variant", FIXES)
def test_every_fix_never_fails(variant):
    row = race.amplified(variant, runs=RUNS)
    assert (row.failures, row.ok) == (0, RUNS), row


def test_the_failure_is_read_from_rqs_failed_job_registry():
    from lab.core.outcomes import failures

    race.amplified("broken", runs=2)
    found = failures()
    assert len(found) == 2
    assert all(failure.missed_its_row for failure in found), found
    assert found[0].short_type == "Task.DoesNotExist"
    assert found[0].message == "Task matching query does not exist."
