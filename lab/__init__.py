"""The lab: what the notebooks, the grader and ``manage.py workshop`` share.

- ``doctor``: is every service up (``workshop doctor``)?
- ``web``: submit the form of a variant over HTTP, as a browser would.
- ``outcomes``: what one job did (``Outcome``), read back from rq; wait for it.
- ``amplifier``: run every job the instant it is enqueued, on another thread (``run_on_thread``).
- ``race``: N trials of a variant, under the amplifier or live.
- ``experiment``: failure rate against hold time, and its plot; what a failing request leaves behind.
- ``barrier``: wait until the worker has run every job queued so far.
- ``lesson``: a notebook's first cell (check, reset) and last (the next exercise).
- ``testservers``: start redis, PostgreSQL, the web and a worker on free ports, for tests and CI.
- ``probes``: a job that asks the worker one question (can it see this row?).
- ``grader_plugin``: the grader's pytest plugin (``pytest exercises/``): options, databases, report.
- ``grading``: the vocabulary grader files import (``fail``, ``post_form``, ``job_run``, ``expect_found``).
- ``grader_fixtures``: the world graders set up (sample pages that count fetches, Redis down).
- ``mutation``: exercise 07's grading: the learner's tests against broken views.
- ``quiet_queue``: lesson 02 runs the learner's ex01 code on a Redis database no worker listens to, as the grader does.
- ``structure``: ``workshop check``, every exercise wired up everywhere (no services).
- ``progress``: the progress table and ``workshop reset``.
- ``sources``: the folders of Python code the worker runs (watched by ``bin/run worker``).
"""
