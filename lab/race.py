"""Run a variant N times and count how often the worker missed the row."""

import time
from collections import Counter

import django_rq
from django.test import Client
from rq.job import Job

from . import web
from .amplifier import amplifier
from .outcomes import Outcome, outcome_of_job, wait_for
from .samples_server import serving

SAMPLE_SIZE = 1234


def summarise(variant, mode, outcomes, seconds, hold_ms=None):
    """One row: how many trials failed with DoesNotExist, how many ended OK."""
    counts = Counter(outcome.status for outcome in outcomes)
    row = {
        "variant": variant,
        "mode": mode,
        "runs": len(outcomes),
        "failures": counts["DoesNotExist"],
        "ok": counts["OK"],
        "other": len(outcomes) - counts["DoesNotExist"] - counts["OK"],
        "seconds": round(seconds, 2),
    }
    if hold_ms is not None:
        row["hold_ms"] = hold_ms
    return row


def amplified(variant, runs=50, hold_ms=0):
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


def live(variant, runs=20, hold_ms=200, timeout=15):
    """N trials against the running web app and worker, over HTTP."""
    outcomes = []
    started = time.perf_counter()
    for _ in range(runs):
        submission = web.submit(variant, hold_ms=hold_ms)
        outcomes.append(wait_for(task_id=submission.task_id, job_id=submission.job_id, timeout=timeout))
    return summarise(variant, "live", outcomes, time.perf_counter() - started, hold_ms=hold_ms)
