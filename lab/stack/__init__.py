"""The running stack: what ``bin/run``, docker-compose and ``workshop doctor`` use.

Imported by ``bin/run`` (``python -m lab.stack.supervisor``, ``lab.stack.sources``),
the compose healthcheck (``lab.stack.worker_health``), the ``workshop`` command and
``lab.core`` / ``lab.lessons``. Imports ``workshop_project``, ``lab.stack.advice`` and
``lab.testing``; never ``lab.lessons`` or ``lab.grader``.

- ``supervisor``: restart the worker when it exits or a Python file changes.
- ``worker``: rq's worker for ``bin/run worker``: a killed worker loses no job, the scheduler outlives an outage.
- ``sources``: the folders of Python code the worker runs (watched by ``bin/run worker``).
- ``worker_health``: the worker container's healthcheck.
- ``relay``: the outbox relay (``manage.py relay``), exercise 09's answer kept out of ``workshop_project/``.
- ``doctor``: is every service up (``workshop doctor``)?
- ``kernel``: the "Django Shell-Plus" kernel spec.
- ``advice``: what a learner is told when a service does not answer.
- ``samples_server``: serve the app's sample pages from a process that is not the web server.
"""
