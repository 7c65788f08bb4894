"""What lessons and the grader share: the core both reach without going up.

Imported by ``lab.lessons``, ``lab.grader``, ``tests/`` and the ``workshop`` command.
Imports ``workshop_project``, ``lab.stack`` and ``lab.testing``; never ``lab.lessons``
or ``lab.grader``.

- ``outcomes``: what one job did (``Outcome``), read back from rq; wait for it.
- ``amplifier``: run every job the instant it is enqueued, on another thread; a burst worker on a thread.
- ``web``: submit the form of a variant over HTTP, as a browser would.
- ``fixtures``: the world lessons and graders set up (sample pages that count fetches, Redis down).
- ``relaying``: the outbox's faults and relays, for lessons 09-10 and exercise 09.
- ``progress``: the learner's progress table and ``workshop reset``.
- ``lesson_stats``: each lesson's prose in words and its last executed time (``workshop check``, the notebook tests).
"""
