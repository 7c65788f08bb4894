"""Run a variant N times and count how often the worker missed the row."""

import time
from dataclasses import asdict, dataclass

import django_rq
from django.test import Client
from rq.job import Job

from lab.core import web
from lab.core.amplifier import amplifier
from lab.core.outcomes import Outcome, outcome_of_job, wait_for
from lab.stack.samples_server import serving

SAMPLE_SIZE = 1234


@dataclass
class Row:
    """One measurement: how ``runs`` trials of a variant ended.

    ``failures`` counts jobs that failed with ``DoesNotExist`` (the race),
    ``ok`` the tasks measured, ``other`` everything else (an error recorded
    on the task, another exception, a timeout).
    """

    variant: str
    mode: str  # "live" (HTTP, the running worker) or "amplifier" (in this process)
    runs: int
    failures: int
    ok: int
    other: int
    seconds: float
    hold_ms: int | None = None

    @property
    def failure_rate(self) -> float:
        """``failures / runs``, 0.0 when nothing ran."""
        return self.failures / self.runs if self.runs else 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def __str__(self) -> str:
        hold = f" at {self.hold_ms} ms hold" if self.hold_ms is not None else ""
        return (
            f"{self.variant} ({self.mode}{hold}): {self.failures}/{self.runs} DoesNotExist, "
            f"{self.ok} OK, {self.other} other, in {self.seconds:.1f} s"
        )


def summarise(variant: str, mode: str, outcomes: list[Outcome], seconds: float, hold_ms: int | None = None) -> Row:
    """One row: how many trials failed with DoesNotExist, how many ended OK."""
    missed = sum(outcome.missed_its_row for outcome in outcomes)  # decided once, on the record
    ok = sum(outcome.status == "OK" for outcome in outcomes)
    return Row(
        variant=variant,
        mode=mode,
        runs=len(outcomes),
        failures=missed,
        ok=ok,
        other=len(outcomes) - missed - ok,
        seconds=round(seconds, 2),
        hold_ms=hold_ms,
    )


def amplified(variant: str, runs: int = 50, hold_ms: int = 0) -> Row:
    """N trials in this process, each job run the instant it is enqueued."""
    queue = django_rq.get_queue("default")
    client = Client(HTTP_HOST="localhost", headers=web.LAB_HEADERS)  # its tasks are labelled "lab"
    outcomes = []
    started = time.perf_counter()
    with serving() as base, amplifier() as amp:
        for _ in range(runs):
            before = len(amp.job_ids)
            client.post(web.page_path(variant), {"url": f"{base}/samples/{SAMPLE_SIZE}/", "hold_ms": hold_ms})
            job_ids = amp.job_ids[before:]
            if not job_ids:
                outcomes.append(Outcome("no job", detail="the request enqueued nothing"))
            for job_id in job_ids:
                outcomes.append(outcome_of_job(Job.fetch(job_id, connection=queue.connection)))
    return summarise(variant, "amplifier", outcomes, time.perf_counter() - started)


def live(variant: str, runs: int = 20, hold_ms: int = 200, timeout: float = 15) -> Row:
    """N trials against the running web app and worker, over HTTP."""
    outcomes = []
    started = time.perf_counter()
    for _ in range(runs):
        submission = web.submit(variant, hold_ms=hold_ms)
        outcomes.append(wait_for(task_id=submission.task_id, job_id=submission.job_id, timeout=timeout))
    return summarise(variant, "live", outcomes, time.perf_counter() - started, hold_ms=hold_ms)
